# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds the collection knows: where each lives in the API, and when it is ready.

Readiness is data here, not code spread over modules. ``readiness(obj)`` of a kind says one of
``READY``, ``PENDING`` or ``FAILED`` with a message; the waiter watches an object until its kind
says READY, and stops early on FAILED with that message. Predicates read only the object, so
they are pure and unit-tested.

Kinds not listed here can still be managed (``apply``): ``Resource`` for them comes from API
discovery, and they are ready as soon as they exist.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# the verdict of a readiness predicate is shared with the vCenter face (``_vcenter/kinds.py``)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import (  # noqa: F401
    FAILED, PENDING, READY, Verdict)


class Resource(object):
    """One kind of object in the API: its group/version, plural and scope."""

    __slots__ = ("api_version", "kind", "plural", "namespaced", "readiness")

    def __init__(self, api_version, kind, plural, namespaced=True, readiness=None):
        self.api_version = api_version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
        self.readiness = readiness or exists

    @property
    def group(self):
        return self.api_version.rpartition("/")[0]

    def path(self, namespace=None, name=None):
        """The URL path of the collection (``name`` None) or of one object."""
        base = "/api/v1" if self.api_version == "v1" else "/apis/" + self.api_version
        if self.namespaced and namespace:
            base += "/namespaces/" + namespace
        base += "/" + self.plural
        return base + "/" + name if name else base

    def describe(self, name=None, namespace=None):
        """How messages name an object (or the kind, without a name)."""
        if name is None:
            return self.kind
        return "{0} {1} in namespace {2}".format(self.kind, name, namespace) if self.namespaced and namespace \
            else "{0} {1}".format(self.kind, name)

    def __repr__(self):
        return "Resource({0}, {1})".format(self.api_version, self.kind)


# --- helpers over status ----------------------------------------------------------------------
def conditions_of(obj):
    """``{type: condition}`` of an object's status.conditions."""
    return dict((c.get("type"), c) for c in ((obj or {}).get("status") or {}).get("conditions") or [])


def _condition_text(condition):
    text = condition.get("message") or condition.get("reason") or ""
    return "{0}={1} ({2})".format(condition.get("type"), condition.get("status"), text) if text \
        else "{0}={1}".format(condition.get("type"), condition.get("status"))


def stale(obj):
    """Whether the controller has not yet seen the object's latest spec (when it tells us)."""
    status = (obj or {}).get("status") or {}
    observed = status.get("observedGeneration")
    generation = ((obj or {}).get("metadata") or {}).get("generation")
    return observed is not None and generation is not None and observed < generation


# --- readiness predicates -------------------------------------------------------------------
def exists(obj):
    """Kinds without a notion of readiness are ready once they exist."""
    return Verdict(READY)


# VirtualMachine conditions that, False, mean no VM will come of this spec
VM_TERMINAL_CONDITIONS = ("VirtualMachineClassReady", "VirtualMachineImageReady")
# reasons of VirtualMachineCreated=False that are failures, not progress
VM_CREATE_FAILURES = ("CreateFailed", "CreateFailure")


def virtual_machine(obj):
    """A VM is ready when it exists in vCenter in the power state its spec asks for, and, when
    powered on, reports an IPv4 address. A missing class or image, or a failed creation, is
    terminal."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = conditions_of(obj)
    reported_class = (status.get("class") or {}).get("name")
    if stale(obj) or (reported_class and spec.get("className") and reported_class != spec.get("className")):
        return Verdict(PENDING, "the VM Operator has not acted on the latest spec yet")
    for kind in VM_TERMINAL_CONDITIONS:
        condition = conditions.get(kind)
        if condition and condition.get("status") == "False":
            return Verdict(FAILED, condition.get("message") or "{0} is False ({1})".format(kind, condition.get("reason")))
    created = conditions.get("VirtualMachineCreated")
    if created and created.get("status") == "False" and created.get("reason") in VM_CREATE_FAILURES:
        return Verdict(FAILED, created.get("message") or "VM creation failed ({0})".format(created.get("reason")))
    if not created or created.get("status") != "True":
        return Verdict(PENDING, _condition_text(created) if created else "not created in vCenter yet")
    wanted = spec.get("powerState", "PoweredOn")
    if status.get("powerState") != wanted:
        return Verdict(PENDING, "power state is {0}, want {1}".format(status.get("powerState"), wanted))
    if wanted == "PoweredOn" and not (status.get("network") or {}).get("primaryIP4"):
        return Verdict(PENDING, "powered on, waiting for an IPv4 address")
    return Verdict(READY)


POD_TERMINAL_WAITING = ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                        "CreateContainerConfigError", "CreateContainerError")


def pod(obj):
    """A pod is ready when Running with Ready=True, or Succeeded; Failed and containers that
    cannot start (crash loop, image errors) are terminal."""
    status = obj.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return Verdict(READY)
    if phase == "Failed":
        return Verdict(FAILED, "pod failed: " + _container_reasons(status, status.get("message") or status.get("reason")))
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in POD_TERMINAL_WAITING:
            return Verdict(FAILED, "container {0}: {1}{2}".format(
                container.get("name"), waiting.get("reason"),
                ": " + waiting["message"] if waiting.get("message") else ""))
    scheduled = conditions_of(obj).get("PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return Verdict(PENDING, _condition_text(scheduled))
    ready = conditions_of(obj).get("Ready")
    if phase == "Running" and ready and ready.get("status") == "True":
        return Verdict(READY)
    return Verdict(PENDING, "phase {0}".format(phase or "Pending"))


def deployment(obj):
    """A Deployment is ready when its controller has seen the latest spec and every replica is
    updated and available; a rollout past its progress deadline is terminal."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    progressing = conditions_of(obj).get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Verdict(FAILED, "rollout stalled: " + _condition_text(progressing))
    wanted = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < (obj.get("metadata") or {}).get("generation", 0):
        return Verdict(PENDING, "waiting for the controller to see the latest spec")
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if updated >= wanted and available >= wanted and status.get("replicas", 0) <= wanted:
        return Verdict(READY)
    return Verdict(PENDING, "{0} of {1} replicas available".format(available, wanted))


def _container_reasons(status, fallback):
    reasons = []
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        terminated = state.get("terminated") or (container.get("lastState") or {}).get("terminated")
        if terminated:
            reasons.append("container {0} {1} (exit code {2})".format(
                container.get("name"), terminated.get("reason", "terminated"), terminated.get("exitCode")))
    return "; ".join(reasons) or fallback or "no reason given"


def _failed_condition(conditions):
    """A False condition the controller marks as an error (Cluster API severity Error)."""
    for condition in conditions.values():
        if condition.get("status") == "False" and condition.get("severity") == "Error":
            return condition
    return None


def _before_conditions(obj):
    """``(conditions, verdict)``: a verdict when one comes before looking at the kind's own
    conditions - pending while the controller has not seen the latest spec, failed on a False
    condition of severity Error - else None."""
    if stale(obj):
        return {}, Verdict(PENDING, "the controller has not acted on the latest spec yet")
    conditions = conditions_of(obj)
    failed = _failed_condition(conditions)
    return conditions, Verdict(FAILED, _condition_text(failed)) if failed else None


def tanzu_kubernetes_cluster(obj):
    """A TanzuKubernetesCluster is ready when Ready=True; a Ready=False of severity Error (an
    unknown release, say) is terminal."""
    conditions, early = _before_conditions(obj)
    if early:
        return early
    ready = conditions.get("Ready")
    if ready and ready.get("status") == "True":
        return Verdict(READY)
    return Verdict(PENDING, _condition_text(ready) if ready else "no Ready condition yet")


def cluster(obj):
    """A Cluster API Cluster is ready when ControlPlaneReady and InfrastructureReady (and Ready,
    where reported) are True; a False condition of severity Error is terminal."""
    conditions, early = _before_conditions(obj)
    if early:
        return early
    for kind in ("ControlPlaneReady", "InfrastructureReady", "Ready"):
        condition = conditions.get(kind)
        if condition is None and kind == "Ready":
            continue
        if condition is None or condition.get("status") != "True":
            return Verdict(PENDING, _condition_text(condition) if condition else "no {0} condition yet".format(kind))
    return Verdict(READY)


def namespace(obj):
    phase = (obj.get("status") or {}).get("phase")
    if phase == "Active":
        return Verdict(READY)
    return Verdict(PENDING, "phase {0}".format(phase))


def virtual_machine_service(obj):
    """A LoadBalancer VirtualMachineService is ready once it has an ingress address."""
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return Verdict(READY)
    ingress = (((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
    if ingress:
        return Verdict(READY)
    return Verdict(PENDING, "waiting for a load balancer address")


VMOP = "vmoperator.vmware.com/v1alpha3"

KINDS = dict(((r.api_version, r.kind), r) for r in (
    Resource(VMOP, "VirtualMachine", "virtualmachines", readiness=virtual_machine),
    Resource(VMOP, "VirtualMachineClass", "virtualmachineclasses"),
    Resource(VMOP, "VirtualMachineImage", "virtualmachineimages"),
    Resource(VMOP, "ClusterVirtualMachineImage", "clustervirtualmachineimages", namespaced=False),
    Resource(VMOP, "VirtualMachineService", "virtualmachineservices", readiness=virtual_machine_service),
    Resource(VMOP, "VirtualMachineSetResourcePolicy", "virtualmachinesetresourcepolicies"),
    Resource("run.tanzu.vmware.com/v1alpha3", "TanzuKubernetesCluster", "tanzukubernetesclusters",
             readiness=tanzu_kubernetes_cluster),
    Resource("cluster.x-k8s.io/v1beta1", "Cluster", "clusters", readiness=cluster),
    Resource("cluster.x-k8s.io/v1beta1", "Machine", "machines"),
    Resource("v1", "Pod", "pods", readiness=pod),
    Resource("apps/v1", "Deployment", "deployments", readiness=deployment),
    Resource("v1", "Namespace", "namespaces", namespaced=False, readiness=namespace),
    Resource("v1", "Secret", "secrets"),
    Resource("v1", "ConfigMap", "configmaps"),
    Resource("v1", "Service", "services"),
    Resource("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    Resource("v1", "ResourceQuota", "resourcequotas"),
    Resource("v1", "Event", "events"),
))


def known(api_version, kind):
    """The Resource of a kind listed here, or None."""
    return KINDS.get((api_version, kind))


VIRTUAL_MACHINE = KINDS[(VMOP, "VirtualMachine")]
POD = KINDS[("v1", "Pod")]
NAMESPACE = KINDS[("v1", "Namespace")]
SECRET = KINDS[("v1", "Secret")]


# --- added for the guest cluster modules --------------------------------------------------------
# The Kubernetes releases a Supervisor offers to guest clusters (cluster-scoped).
TANZU_KUBERNETES_RELEASE = Resource("run.tanzu.vmware.com/v1alpha3", "TanzuKubernetesRelease",
                                    "tanzukubernetesreleases", namespaced=False)
KINDS[(TANZU_KUBERNETES_RELEASE.api_version, TANZU_KUBERNETES_RELEASE.kind)] = TANZU_KUBERNETES_RELEASE
TANZU_KUBERNETES_CLUSTER = KINDS[("run.tanzu.vmware.com/v1alpha3", "TanzuKubernetesCluster")]
CAPI_CLUSTER = KINDS[("cluster.x-k8s.io/v1beta1", "Cluster")]
MACHINE = KINDS[("cluster.x-k8s.io/v1beta1", "Machine")]
RESOURCE_QUOTA = KINDS[("v1", "ResourceQuota")]
EVENT = KINDS[("v1", "Event")]
