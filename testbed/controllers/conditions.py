"""metav1.Condition lists and Kubernetes Events, the way controllers report what they did."""
from __future__ import annotations

import datetime

from kubernetes import client
from kubernetes.client.rest import ApiException


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(conditions: list[dict], kind: str, status: bool, reason: str, message: str = "") -> list[dict]:
    """A copy of ``conditions`` with ``kind`` set; its transition time moves only when status flips."""
    text = "True" if status else "False"
    previous = next((c for c in conditions if c["type"] == kind), None)
    changed = previous is None or previous["status"] != text
    updated = {
        "type": kind, "status": text, "reason": reason, "message": message,
        "lastTransitionTime": now() if changed else previous["lastTransitionTime"],
    }
    return [c for c in conditions if c["type"] != kind] + [updated]


def condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), None)


def record_event(core: client.CoreV1Api, obj: dict, reason: str, message: str, warning: bool = False,
                 component: str = "vmware-system-vmop") -> None:
    meta = obj["metadata"]
    stamp = now()
    body = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                           "namespace": meta["namespace"], "uid": meta["uid"]},
        "reason": reason, "message": message, "type": "Warning" if warning else "Normal",
        "source": {"component": component}, "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
    }
    try:
        core.create_namespaced_event(meta["namespace"], body)
    except ApiException:
        pass  # an event is a courtesy; the namespace may be going away
