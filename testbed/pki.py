"""Certificates and keys of the testbed: one CA, a loopback serving certificate, client identities.

Generated once per state directory and kept, so kubeconfigs and CA bundles handed to users stay
valid across `down`/`up`. The serving certificate is made again (by the same CA) when it does not
name an address the testbed serves on, such as the Supervisor's address of a new port base.
"""
from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)

# client identity file stem -> (common name, organisations)
CLIENTS = {
    "admin": ("pacific-admin", ["system:masters"]),
    "apiserver-etcd-client": ("kube-apiserver-etcd-client", []),
    "controller-manager": ("system:kube-controller-manager", []),
}


@dataclass(frozen=True)
class Pki:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.root / "serving.crt"

    @property
    def serving_key(self) -> Path:
        return self.root / "serving.key"

    @property
    def sa_key(self) -> Path:
        return self.root / "service-account.key"

    @property
    def sa_pub(self) -> Path:
        return self.root / "service-account.pub"

    def client_cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def client_key(self, name: str) -> Path:
        return self.root / f"{name}.key"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _name(common_name: str, organisations: list[str] | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organisations or []]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _leaf(pki: Pki, ca_key, ca_name: x509.Name, subject: x509.Name, usage, sans=None):
    key = _new_key()
    builder = (
        _builder(subject, ca_name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


FIXED_SERVING_IPS = ("127.0.0.1", "10.96.0.1")


def serving_addresses(cert_file: Path) -> set[str]:
    """The IP addresses the serving certificate in ``cert_file`` names (empty when there is none)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return set()
    return {str(address) for address in names.get_values_for_type(x509.IPAddress)}


def _ca(pki: Pki):
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    return ca_key, x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).subject


def ensure_serving_pair(pki: Pki, stem: str, addresses: tuple[str, ...]) -> tuple[Path, Path]:
    """A serving certificate of its own (``<stem>.crt``, ``<stem>.key`` in the PKI's directory, made
    by the testbed's CA once ``ensure_pki`` made it) naming 127.0.0.1 and exactly ``addresses``, made
    again when it names others: a guest cluster's kube-apiserver, whose control-plane VIP it names."""
    cert, key_file = pki.root / f"{stem}.crt", pki.root / f"{stem}.key"
    wanted = {"127.0.0.1", *addresses}
    if not (cert.exists() and key_file.exists() and serving_addresses(cert) == wanted):
        ca_key, ca_name = _ca(pki)
        sans = [x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc")]
        sans += [x509.IPAddress(ipaddress.ip_address(address)) for address in sorted(wanted)]
        usage = [ExtendedKeyUsageOID.SERVER_AUTH]
        key, made = _leaf(pki, ca_key, ca_name, _name(addresses[0] if addresses else "127.0.0.1"), usage, sans)
        _write_key(key_file, key)
        _write_cert(cert, made)
    return cert, key_file


def ensure_pki(root: Path, addresses: tuple[str, ...] = ()) -> Pki:
    """Create whatever of the PKI is missing under ``root`` and return its paths; the serving
    certificate names 127.0.0.1 and each of ``addresses`` (made again when it lacks one)."""
    pki = Pki(root)
    root.mkdir(parents=True, exist_ok=True)
    if pki.ca_cert.exists() and pki.ca_key.exists():
        ca_key, ca_name = _ca(pki)
    else:
        ca_key = _new_key()
        ca_name = _name("pacific-testbed-ca")
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(pki.ca_key, ca_key)
        _write_cert(pki.ca_cert, ca)

    wanted = list(FIXED_SERVING_IPS) + [address for address in addresses if address not in FIXED_SERVING_IPS]
    if not pki.serving_cert.exists() or not set(wanted) <= serving_addresses(pki.serving_cert):
        sans = [x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc")]
        sans += [x509.IPAddress(ipaddress.ip_address(address)) for address in wanted]
        usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        key, cert = _leaf(pki, ca_key, ca_name, _name("127.0.0.1"), usage, sans)
        _write_key(pki.serving_key, key)
        _write_cert(pki.serving_cert, cert)

    for stem, (common_name, organisations) in CLIENTS.items():
        if pki.client_cert(stem).exists():
            continue
        key, cert = _leaf(pki, ca_key, ca_name, _name(common_name, organisations), [ExtendedKeyUsageOID.CLIENT_AUTH])
        _write_key(pki.client_key(stem), key)
        _write_cert(pki.client_cert(stem), cert)

    if not pki.sa_key.exists():
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki.sa_key, sa_key)
        pki.sa_pub.write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return pki
