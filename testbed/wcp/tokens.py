"""JWTs of /wcp/login and the TokenReview answers kube-apiserver asks the webhook for."""
from __future__ import annotations

import time

import jwt

ISSUER = "https://wcp.testbed.pacific.supervisor"
LIFETIME = 10 * 3600  # a Supervisor login is good for ten hours
USER_PREFIX = "sso:"  # users and groups alike: "sso:devops@vsphere.local", "sso:Administrators@vsphere.local"


def issue(key: bytes, user: str, lifetime: int = LIFETIME, **claims) -> str:
    # iat to the microsecond (a NumericDate may have a fraction): a revocation in the same
    # second as a login must void the tokens issued before it, and only those
    now = time.time()
    payload = {"iss": ISSUER, "sub": user, "iat": round(now, 6), "exp": int(now) + lifetime, **claims}
    return jwt.encode(payload, key, algorithm="HS256")


def verify(key: bytes, token: str) -> dict | None:
    """The token's claims, or None when it is forged, expired or not ours."""
    try:
        return jwt.decode(token, key, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None


def kubernetes_user(vcenter_user: str) -> str:
    """The Kubernetes user (or group) name a Supervisor and its guest clusters give a vCenter SSO
    user (or group): ``sso:USER-NAME@DOMAIN`` (VMware's "Grant Developers SSO Access to Workload
    Clusters")."""
    return USER_PREFIX + vcenter_user


def review(key: bytes, request: dict, not_before: float = 0.0, guest: str | None = None) -> dict:
    """Answer an authentication.k8s.io/v1 TokenReview for the Supervisor, or (``guest`` =
    "namespace/cluster") for one guest cluster; a token is good for exactly one of them, and
    void when issued before ``not_before``. The user's SSO groups (the ``groups`` claim) come back
    as ``sso:`` groups; what a user may do inside a guest cluster is what the cluster's RBAC
    grants those names (``testbed.controllers.guest_access``)."""
    claims = verify(key, request.get("spec", {}).get("token", ""))
    status: dict = {"authenticated": False}
    if claims and claims.get("iat", 0) >= not_before and claims.get("guest") == guest:
        groups = [kubernetes_user(group) for group in claims.get("groups", [])]
        status = {
            "authenticated": True,
            "user": {
                "username": kubernetes_user(claims["sub"]),
                "uid": claims["sub"],
                "groups": groups + ["system:authenticated"],
            },
        }
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}
