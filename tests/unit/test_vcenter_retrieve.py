"""The fast RetrievePropertiesEx reader gives exactly what pyVmomi's deserializer plus ``bulk.plain`` give.

The answers are written as vCenter writes them (prefixes on the envelope, ``xsi:type`` on every
``val`` and on polymorphic fields); pyVmomi's own deserializer is the reference.
"""
from __future__ import annotations

import io

import pytest
from pyVmomi import SoapAdapter, vim, vmodl

from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import bulk, retrieve

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
    '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>{token}{objects}</returnval>'
    '</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')


def prop(name, val=None):
    return "<propSet><name>%s</name>%s</propSet>" % (name, "" if val is None else val)


VM = "".join([
    '<objects><obj type="VirtualMachine">vm-42</obj>',
    prop("name", '<val xsi:type="xsd:string">web &amp; db</val>'),
    prop("config.hardware.numCPU", '<val xsi:type="xsd:int">4</val>'),
    prop("config.hardware.memoryMB", '<val xsi:type="xsd:int">8192</val>'),
    prop("runtime.powerState", '<val xsi:type="VirtualMachinePowerState">poweredOff</val>'),
    prop("config.template", '<val xsi:type="xsd:boolean">true</val>'),
    prop("config.createDate", '<val xsi:type="xsd:dateTime">2026-11-25T11:57:39.618668Z</val>'),
    prop("guest.ipAddress"),  # no value: pyVmomi gives None
    prop("datastore", '<val xsi:type="ArrayOfManagedObjectReference">'
                      '<ManagedObjectReference type="Datastore">datastore-1</ManagedObjectReference>'
                      '<ManagedObjectReference type="Datastore">datastore-2</ManagedObjectReference></val>'),
    prop("parent", '<val type="Folder" xsi:type="ManagedObjectReference">group-v3</val>'),
    prop("customValue", '<val xsi:type="ArrayOfCustomFieldValue">'
                        '<CustomFieldValue xsi:type="CustomFieldStringValue"><key>101</key><value>team-a</value>'
                        '</CustomFieldValue></val>'),
    prop("guest.net", '<val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo><network>VM Network</network>'
                      '<ipAddress>10.0.0.5</ipAddress><macAddress>00:50:56:aa:bb:cc</macAddress>'
                      '<connected>true</connected><deviceConfigId>4000</deviceConfigId></GuestNicInfo></val>'),
    prop("config.hardware.device", '<val xsi:type="ArrayOfVirtualDevice">'
                                   '<VirtualDevice xsi:type="VirtualDisk"><key>2000</key>'
                                   '<deviceInfo><label>Hard disk 1</label><summary>16 GB</summary></deviceInfo>'
                                   '<backing xsi:type="VirtualDiskFlatVer2BackingInfo">'
                                   '<fileName>[ds1] web/web.vmdk</fileName>'
                                   '<datastore type="Datastore">datastore-1</datastore>'
                                   '<diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned>'
                                   '</backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber>'
                                   '<capacityInKB>16777216</capacityInKB></VirtualDevice>'
                                   # a required field (key) left out: pyVmomi's default 0 is shown
                                   '<VirtualDevice xsi:type="VirtualE1000"><deviceInfo><label>NIC</label>'
                                   '<summary>VM Network</summary></deviceInfo><addressType>assigned</addressType>'
                                   '<wakeOnLanEnabled>false</wakeOnLanEnabled></VirtualDevice></val>'),
    prop("summary.quickStats", '<val xsi:type="VirtualMachineQuickStats"><overallCpuUsage>12</overallCpuUsage>'
                               '<guestHeartbeatStatus>green</guestHeartbeatStatus><uptimeSeconds>99</uptimeSeconds>'
                               '</val>'),
    prop("config.extraConfig", '<val xsi:type="ArrayOfOptionValue"><OptionValue><key>a</key>'
                               '<value xsi:type="xsd:long">7</value></OptionValue></val>'),
    '</objects>',
])
FOLDER = ('<objects><obj type="Folder">group-v3</obj>' + prop("name", '<val xsi:type="xsd:string">vm</val>')
          + prop("parent", '<val type="Datacenter" xsi:type="ManagedObjectReference">datacenter-2</val>')
          + '</objects>')
TYPES = {"VirtualMachine": vim.VirtualMachine, "Folder": vim.Folder}


def reference(answer):
    """What pyVmomi's deserializer and ``bulk.plain`` make of an answer."""
    result = SoapAdapter.SoapResponseDeserializer(None).Deserialize(
        io.BytesIO(answer.encode()), vmodl.query.PropertyCollector.RetrieveResult)
    objects = [(item.obj._wsdlName, item.obj._moId, dict((p.name, bulk.plain(p.val)) for p in item.propSet))
               for item in result.objects]
    return objects + [(None, result.token, None)]


@pytest.mark.parametrize("token", ["<token>page-2</token>", ""])
def test_reads_what_pyvmomi_reads(token):
    answer = ENVELOPE.format(token=token, objects=VM + FOLDER)
    fast = list(retrieve.read_answer(io.BytesIO(answer.encode()), TYPES))
    assert fast == reference(answer)
    vm = fast[0][2]
    # spot checks, so that the test does not only agree with itself
    assert vm["name"] == "web & db" and vm["config.hardware.numCPU"] == 4 and vm["config.template"] is True
    assert vm["datastore"] == ["datastore-1", "datastore-2"] and vm["parent"] == "group-v3"
    assert vm["guest.ipAddress"] is None
    assert vm["guest.net"][0]["ipAddress"] == ["10.0.0.5"]
    assert vm["config.hardware.device"][0]["backing"]["datastore"] == "datastore-1"
    assert vm["config.hardware.device"][1]["key"] == 0
    assert vm["config.createDate"].startswith("2026-11-25T11:57:39.618668")
    assert fast[-1] == (None, "page-2" if token else None, None)


def test_the_next_page_is_asked_for_before_this_one_is_read():
    answer = ENVELOPE.format(token="<token>page-2</token>", objects=VM + FOLDER)
    asked = []
    reader = retrieve.read_answer(io.BytesIO(answer.encode()), TYPES, on_token=asked.append)
    assert next(reader)[1] == "vm-42" and asked == ["page-2"]
    assert list(reader)[-1] == (None, "page-2", None) and asked == ["page-2"]
    last = ENVELOPE.format(token="", objects=VM)
    assert list(retrieve.read_answer(io.BytesIO(last.encode()), TYPES, on_token=asked.append))[-1] == (None, None, None)
    assert asked == ["page-2"]


def test_unknown_field_of_a_newer_server_is_skipped():
    newer = VM.replace("<uptimeSeconds>99</uptimeSeconds>", "<uptimeSeconds>99</uptimeSeconds><fromTheFuture>1"
                                                            "</fromTheFuture>")
    answer = ENVELOPE.format(token="", objects=newer)
    vm = next(iter(retrieve.read_answer(io.BytesIO(answer.encode()), TYPES)))[2]
    assert vm["summary.quickStats"] == {"overallCpuUsage": 12, "guestHeartbeatStatus": "green", "uptimeSeconds": 99}


def test_malformed_answer_is_unreadable():
    answer = ENVELOPE.format(token="", objects=VM.replace("<val xsi:type=\"xsd:int\">4</val>",
                                                          "<val xsi:type=\"xsd:int\">four</val>"))
    with pytest.raises(retrieve.UNREADABLE):
        list(retrieve.read_answer(io.BytesIO(answer.encode()), TYPES))


@pytest.mark.parametrize("values, templates, inaccessible, expected", [
    ({"config.template": False, "runtime.connectionState": "connected"}, False, False, True),
    ({"config.template": True, "runtime.connectionState": "connected"}, False, False, False),
    ({"config.template": True}, True, False, True),
    ({"runtime.connectionState": "orphaned"}, False, False, False),
    ({"runtime.connectionState": "inaccessible"}, False, False, False),
    ({"runtime.connectionState": "inaccessible"}, False, True, True),
    ({"runtime.connectionState": "disconnected"}, False, False, True),
    ({}, False, False, True),
])
def test_usable(values, templates, inaccessible, expected):
    assert bulk.usable(values, templates, inaccessible) is expected


def test_pyvmomi_is_the_release_the_reader_is_tested_with():
    """The reader reaches pyVmomi's internals (``retrieve.internals``); a new pyVmomi release is
    taken by changing the pin, the constant and running the comparison with pyVmomi's reader above."""
    from importlib.metadata import version
    from pathlib import Path

    pinned = [line.split("==", 1)[1].strip() for line in
              (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines()
              if line.lower().startswith("pyvmomi==")]
    assert pinned == [retrieve.TESTED_PYVMOMI]
    assert version("pyvmomi") == retrieve.TESTED_PYVMOMI
