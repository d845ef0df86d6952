# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``RetrievePropertiesEx`` answers read straight into plain Python data, object by object.

pyVmomi turns each answer into typed objects (a class instance per data object, a managed
object stub per reference, every field checked as it is set) and the inventory then turns those
into plain data again: for a large estate that round trip costs more than everything else the
inventory does. Here the request is still built and sent by pyVmomi's stub (same session,
headers and connection pool), but the answer is read with the C ElementTree parser, one
``<objects>`` at a time, and each value becomes plain data directly, typed by pyVmomi's own
type descriptions: strings, ints, floats, bools, dicts for data objects (the fields set, as
``bulk.plain`` gives them), lists for arrays and moids for references. A fault answer (HTTP 500)
is handed to pyVmomi so that it is raised as the usual ``vmodl.MethodFault``.

pyVmomi's private internals (its type descriptions, a stub's session and connection pool, the
deserializer's type lookup) are reached only through ``internals()``: one place to read when a
pyVmomi release changes them. ``TESTED_PYVMOMI`` is the release this reader is tested with
(``requirements.txt`` pins it; ``tests/unit/test_vcenter_retrieve.py`` compares what is read here
with what pyVmomi's own deserializer reads).

Nothing here knows Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import io
import socket
from xml.etree import ElementTree

try:
    from http.client import HTTPException
except ImportError:  # Python 2 has no http.client; modules need not support it, but sanity imports this
    HTTPException = Exception

try:
    from pyVmomi import Iso8601, SoapAdapter, VmomiSupport, vmodl
    from pyVmomi.VmomiSupport import DataObject, Enum, ManagedObject
except ImportError:  # bulk.py reports the missing library before anything here runs
    pass

# the pyVmomi release this reader is tested with (requirements.txt pins the same)
TESTED_PYVMOMI = "9.1.1.0"

VIM = "urn:vim25"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
OBJECTS, TOKEN = "{%s}objects" % VIM, "{%s}token" % VIM

# what a malformed or unexpected answer raises while it is read (ParseError is a SyntaxError)
UNREADABLE = (ElementTree.ParseError, ValueError, KeyError, AttributeError, TypeError)
# how the text of a leaf becomes a value, per pyVmomi scalar type (filled on first use)
_LEAF = {}
# {DataObject class: ({field: (type, is_array)}, {field: default of a required scalar})}
_FIELDS = {}
# {xsi:type attribute value: pyVmomi type}
_XSI = {}


def _bool(text):
    text = text.lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    raise ValueError("not a boolean: %r" % text)


def _datetime(text):
    value = Iso8601.ParseISO8601(text)
    if value is None:
        raise ValueError("not a dateTime: %r" % text)
    return value.isoformat()


def _binary(text):
    return base64.b64decode(text).decode("utf-8", "replace")


class _Internals(object):
    """Every private part of pyVmomi this reader uses, and nothing else does."""

    @staticmethod
    def lookup(namespace, name):
        """pyVmomi's type of a WSDL type name (the deserializer's own lookup; it uses no state)."""
        return SoapAdapter.SoapDeserializer.LookupWsdlType(None, namespace, name, allowManagedObjectReference=True)

    @staticmethod
    def is_dynamic(kind):
        return SoapAdapter.isDynamicType(kind)

    @staticmethod
    def property_list(kind):
        """The property descriptions (``name``, ``type``, ``flags``) of a data object type."""
        return kind._GetPropertyList()

    @staticmethod
    def property_type(kind, name):
        """The declared type of property ``name`` of a data or managed object type;
        AttributeError when it has none."""
        return kind._GetPropertyInfo(name).type

    @staticmethod
    def method_info(mo, method):
        return mo._GetMethodInfo(method)

    @staticmethod
    def stub_of(mo):
        """The SOAP stub (session, connection pool) a managed object stub talks through."""
        return mo._stub

    @staticmethod
    def custom_headers(stub):
        return getattr(stub, "_customHeaders", None) or {}


_INTERNALS = _Internals()


def internals():
    """The one way to pyVmomi's private internals (``_Internals``), tested with ``TESTED_PYVMOMI``."""
    return _INTERNALS


def _lookup(namespace, name):
    return internals().lookup(namespace, name)


def _wsdl_type_name(text):
    return str(_lookup(VIM, text.rsplit(":", 1)[-1]))


def _leaf_reader(kind):
    """The function that reads the text of a leaf of pyVmomi type ``kind``."""
    reader = _LEAF.get(kind)
    if reader is None:
        if kind is bool:
            reader = _bool
        elif issubclass(kind, (Enum, str)):
            reader = str
        elif issubclass(kind, int):
            reader = int
        elif issubclass(kind, float):
            reader = float
        elif kind is VmomiSupport.binary:
            reader = _binary
        elif kind is VmomiSupport.datetime:
            reader = _datetime
        elif kind is type:
            reader = _wsdl_type_name
        else:  # method names and anything else pyVmomi keeps as text
            reader = str
        _LEAF[kind] = reader
    return reader


def _fields(kind):
    """``({field: (type, is_array)}, {field: default})`` of a data object type; the defaults are
    those pyVmomi gives a required scalar the answer left out (and ``bulk.plain`` keeps)."""
    known = _FIELDS.get(kind)
    if known is None:
        fields, defaults = {}, {}
        for info in internals().property_list(kind):
            ptype = info.type
            fields[info.name] = (ptype, issubclass(ptype, list))
            if issubclass(ptype, list) or info.flags & VmomiSupport.F_OPTIONAL:
                continue
            if ptype is bool:
                defaults[info.name] = False
            elif issubclass(ptype, Enum):
                continue
            elif issubclass(ptype, str):
                defaults[info.name] = ""
            elif issubclass(ptype, (int, float)):
                defaults[info.name] = ptype(0)
        known = _FIELDS[kind] = (fields, defaults)
    return known


class Decoder(object):
    """Plain values of SOAP elements, typed like pyVmomi's deserializer types them."""

    def __init__(self):
        self.prefixes = {"xsd": XSD}

    def xsi_type(self, text):
        kind = _XSI.get(text)
        if kind is None:
            prefix, _sep, name = text.rpartition(":")
            namespace = self.prefixes.get(prefix, VIM) if prefix else VIM
            kind = _lookup(namespace, name)
            _XSI[text] = kind
        return kind

    def value(self, elem, kind):
        """The plain value of ``elem``, declared as pyVmomi type ``kind``."""
        dynamic = elem.get(XSI_TYPE)
        if dynamic is not None:
            if not internals().is_dynamic(kind):
                actual = self.xsi_type(dynamic)
                if not (issubclass(actual, list) and issubclass(kind, list)):
                    kind = actual
        elif issubclass(kind, list):
            kind = kind.Item
        if issubclass(kind, ManagedObject):
            return elem.text or ""
        if issubclass(kind, list):
            item = kind.Item
            return [self.value(child, item) for child in elem]
        if issubclass(kind, DataObject):
            return self.data_object(elem, kind)
        return _leaf_reader(kind)(elem.text or "")

    def data_object(self, elem, kind):
        fields, defaults = _fields(kind)
        out = dict(defaults) if defaults else {}
        for child in elem:
            name = child.tag.rpartition("}")[2]
            if name not in fields:  # a field newer than pyVmomi's description of the type
                continue
            ptype, is_array = fields[name]
            value = self.value(child, ptype)
            if is_array and not isinstance(value, list):
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
        # as bulk.plain: fields left unset (None) or empty arrays are not shown
        for name in [name for name, value in out.items() if value is None or value == []]:
            del out[name]
        return out


def _send(stub, mo, method, args, timeout=None):
    """Send one SOAP request on a connection of ``stub``'s session and return ``(conn, info)``;
    ``_answer`` reads what comes back. ``timeout`` bounds each wait for the server instead of the
    session's own timeout."""
    info = internals().method_info(mo, method)
    body = stub.SerializeRequest(mo, info, args)
    for modifier in getattr(stub, "requestModifierList", []):
        body = modifier(body)
    headers = {
        "Cookie": stub.cookie,
        "SOAPAction": stub.versionId,
        "Content-Type": "text/xml; charset=UTF-8",
    }
    headers.update(internals().custom_headers(stub))
    conn = stub.GetConnection()
    if timeout:
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
    try:
        conn.request("POST", stub.path, body, headers)
    except (socket.error, HTTPException):
        conn.close()
        stub.DropConnections()
        raise
    return conn, info


def _answer(stub, conn, info):
    """The HTTP answer to a request ``_send`` sent on ``conn`` when it succeeded (the caller reads
    it and gives the connection back); a fault is raised as pyVmomi raises it."""
    try:
        resp = conn.getresponse()
    except (socket.error, HTTPException):
        conn.close()
        stub.DropConnections()
        raise
    cookie = resp.getheader("Set-Cookie")
    if cookie:
        stub.cookie = cookie
    if resp.status == 200:
        return resp
    text = resp.read()
    stub.ReturnConnection(conn)
    if resp.status == 500:
        fault = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(io.BytesIO(text), info.result)
        if isinstance(fault, Exception):
            raise fault
    raise HTTPException("%s %s" % (resp.status, resp.reason))


def read_answer(stream, object_types, decoder=None, on_token=None):
    """Yield ``(type name, moid, {path: value})`` of each object of one ``RetrievePropertiesEx``
    answer read from ``stream``, then ``(None, token, None)``. ``object_types`` maps a WSDL type
    name to the pyVmomi managed object type. Each ``<objects>`` is dropped once read.
    ``on_token`` is called with the token of the next page as soon as it is read (the WSDL puts
    it before the objects), so that the next page can be asked for while this one is read."""
    decoder = decoder or Decoder()
    token = None
    for event, elem in ElementTree.iterparse(stream, events=("start-ns", "end")):
        if event == "start-ns":
            decoder.prefixes[elem[0]] = elem[1]
        elif elem.tag == OBJECTS:
            yield _object(elem, decoder, object_types)
            elem.clear()
        elif elem.tag == TOKEN:
            token = elem.text
            if token and on_token is not None:
                on_token(token)
    yield None, token, None


def _read_page(conn, resp, stub, decoder, object_types, on_token=None):
    """``read_answer`` of an HTTP answer, then the connection back to the stub's pool."""
    ok = False
    try:
        yield from read_answer(resp, object_types, decoder, on_token)
        ok = True
    finally:
        if ok:
            resp.read()
            stub.ReturnConnection(conn)
        else:
            conn.close()
            stub.DropConnections()


def _object(elem, decoder, object_types):
    obj, values = None, {}
    for child in elem:
        tag = child.tag.rpartition("}")[2]
        if tag == "obj":
            obj = child
        elif tag == "propSet":
            name = val = None
            for part in child:
                if part.tag.endswith("}name"):
                    name = part.text
                else:
                    val = part
            if name is not None:
                values[name] = val
    type_name = obj.get("type").rpartition(":")[2]
    kind = object_types[type_name]
    decoded = {}
    for path, val in values.items():
        # a property without a value (vcsim's unset guest.ipAddress) is None, as pyVmomi gives it
        decoded[path] = None if val is None else decoder.value(val, _property_type(kind, path))
    return type_name, obj.text, decoded


_PATH_TYPES = {}


def _property_type(kind, path):
    """The declared pyVmomi type of a property path of a managed object type."""
    key = (kind, path)
    found = _PATH_TYPES.get(key)
    if found is None:
        found = kind
        for part in path.split("."):
            found = internals().property_type(found, part)
        _PATH_TYPES[key] = found
    return found


def retrieve(collector, spec, page_size, object_types, timeout=None):
    """Yield ``(type name, moid, {path: plain value})`` of every object ``spec`` selects, paged
    with ``RetrievePropertiesEx`` (``maxObjects=page_size``) and ``ContinueRetrievePropertiesEx``.
    ``timeout`` bounds each wait for an answer (a server may compute all pages before the first).

    The next page is asked for, on a second connection, as soon as the token of the page being
    read is known: the server prepares and sends it while this one is decoded."""
    stub = internals().stub_of(collector)
    decoder = Decoder()
    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size)
    asked = [_send(stub, collector, "RetrievePropertiesEx", [[spec], options], timeout)]

    def ask_next(token):
        asked.append(_send(stub, collector, "ContinueRetrievePropertiesEx", [token], timeout))

    try:
        while asked:
            conn, info = asked.pop(0)
            resp = _answer(stub, conn, info)
            for type_name, moid, values in _read_page(conn, resp, stub, decoder, object_types, ask_next):
                if type_name is not None:
                    yield type_name, moid, values
    finally:
        for conn, _info in asked:  # a next page asked for, not read: failed or abandoned
            conn.close()
