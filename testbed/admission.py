"""Admission the Supervisor's kube-apiserver applies on its own: vSphere Pods only with NSX networking.

VMware's Supervisor Services docs (vSphere 8 Update 1 and later): "Supervisor Services are deployed as a
set of vSphere Pods. These vSphere Pods are used only by the respective Supervisor Services they are
part of. Deploying vSphere Pods for generic use is supported only on Supervisors configured with the NSX
networking stack." A Supervisor on vSphere Distributed Switch (VDS) networking therefore runs no user
pod: the testbed refuses one at admission, where any client (kubectl, the collection) sees it, with
a ValidatingAdmissionPolicy bound to the vSphere Namespaces whose Supervisor uses VDS networking. The
WCP mirror labels each Namespace with its Supervisor's network provider (``NETWORK_PROVIDER_LABEL``);
a Supervisor Service's own namespace is not a vSphere Namespace, so it has no such label and its pods
run. The Spherelet runs no pod of such a namespace either (one made before the policy took effect).
"""
from __future__ import annotations

from kubernetes import client
from kubernetes.client.rest import ApiException

# set by testbed.wcp.mirror on each vSphere Namespace: its Supervisor's Clusters.Info network_provider
NETWORK_PROVIDER_LABEL = "testbed.pacific.supervisor/network-provider"
VDS = "VSPHERE_NETWORK"
POLICY = "wcp-vsphere-pods-need-nsx"
REFUSAL = ("vSphere Pods are not supported in this vSphere Namespace: its Supervisor uses vSphere Distributed "
           "Switch (VDS) networking, where only Supervisor Services run vSphere Pods; running vSphere Pods "
           "for generic use needs a Supervisor with NSX networking. Run the workload in a VM (VM Service) or "
           "a TKG cluster, or in a namespace of an NSX Supervisor.")


def refuses_pods(labels: dict | None) -> bool:
    """Whether a Namespace with ``labels`` is one whose Supervisor runs no user pod."""
    return (labels or {}).get(NETWORK_PROVIDER_LABEL) == VDS


def policy() -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": POLICY},
            "spec": {"failurePolicy": "Fail",
                     "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                             "operations": ["CREATE"], "resources": ["pods"]}]},
                     "validations": [{"expression": "false", "message": REFUSAL, "reason": "Forbidden"}]}}


def binding() -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": POLICY},
            "spec": {"policyName": POLICY, "validationActions": ["Deny"],
                     "matchResources": {"namespaceSelector": {"matchLabels": {NETWORK_PROVIDER_LABEL: VDS}}}}}


def install(api_client: client.ApiClient) -> None:
    api = client.AdmissionregistrationV1Api(api_client)
    for create, replace, read, body in (
            (api.create_validating_admission_policy, api.replace_validating_admission_policy,
             api.read_validating_admission_policy, policy()),
            (api.create_validating_admission_policy_binding, api.replace_validating_admission_policy_binding,
             api.read_validating_admission_policy_binding, binding())):
        try:
            create(body)
        except ApiException as err:
            if err.status != 409:
                raise
            body["metadata"]["resourceVersion"] = read(body["metadata"]["name"]).metadata.resource_version
            replace(body["metadata"]["name"], body)
