# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: workloads
short_description: vCenter VMs and the Supervisor's VMs, guest clusters and pods, in one fast inventory
description:
  - Reads every VM of a vCenter with one PropertyCollector fetch (a ContainerView, paged with
    C(RetrievePropertiesEx) and C(ContinueRetrievePropertiesEx)) of exactly the properties asked
    for; the next page is asked for while one is read. Folder and resource pool paths are resolved
    from one more small fetch of the folders, datacenters, clusters and pools; there is no call per VM.
  - Optionally (O(supervisor=true)) lists the Supervisor's VirtualMachines, TanzuKubernetesClusters,
    Cluster API Clusters and native pods, one request per kind across namespaces, and merges each
    with the vCenter VM it realises (by C(status.uniqueID), the VM's moid, else by BIOS UUID; a pod
    by its pod VM), so that one workload is one host with both views.
  - Host variables are named C(vsphere_*) (what vCenter says) and C(supervisor_*) (what the
    Supervisor says); see the notes for the full list.
  - Groups out of the box, unless O(default_groups=false) - C(namespace_<namespace>); the workload
    kind C(vm) (a VM Operator VirtualMachine), C(pod_vm) (a vSphere Pod), C(guest_cluster_node)
    (a VM of a guest cluster), C(plain_vm) (a VM the Supervisor does not manage); the power state
    C(powered_on), C(powered_off), C(suspended); and C(guest_cluster_<namespace>_<name>), whose group
    variables say the guest cluster's endpoint, kind, phase, readiness and version.
  - The file must be named C(*.workloads.yml) or C(*.workloads.yaml).
version_added: 0.1.0
author:
  - pacific.supervisor contributors (@pacific-supervisor)
requirements:
  - pyVmomi
  - kubernetes (with O(supervisor=true))
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [pacific.supervisor.workloads]
  hostname:
    description:
      - The vCenter server name or address.
      - 'Where the connection comes from: when the file names none of O(hostname), O(port),
        O(username) and O(password), from the environment, whole - E(VMWARE_HOST) (or
        E(VMWARE_SERVER)), E(VMWARE_PORT), E(VMWARE_USER) (or E(VMWARE_USERNAME)),
        E(VMWARE_PASSWORD), E(VMWARE_VALIDATE_CERTS), E(VMWARE_CA_CERT); when it names any of them,
        only what it names (the environment is not read for vCenter at all).'
      - Needed, from the file or the environment.
    type: str
  port:
    description: The vCenter HTTPS port; V(443) when not set.
    type: int
  username:
    description: The vCenter user, for example V(administrator@vsphere.local). Needed, from the file or the environment.
    type: str
    aliases: [user]
  password:
    description:
      - The password of O(username). It may be vault-encrypted (C(!vault)). Needed, from the file or the environment.
    type: str
    aliases: [pass, pwd]
  validate_certs:
    description:
      - Whether to verify vCenter's TLS certificate; V(true) when not set. Leave it on outside a lab.
      - Set in the file, it wins over E(VMWARE_VALIDATE_CERTS) also when the rest comes from the environment.
    type: bool
  ca_cert:
    description:
      - A PEM file of the CA that signed vCenter's certificate, instead of the system trust store.
      - Set in the file, it wins over E(VMWARE_CA_CERT) also when the rest comes from the environment.
    type: path
  properties:
    description:
      - The VM properties to read, as vSphere property paths; exactly these are fetched.
      - Well-known paths get the host variables listed in the notes; any other path becomes
        C(vsphere_) and the path in snake case (V(summary.quickStats.overallCpuUsage) ->
        C(vsphere_summary_quick_stats_overall_cpu_usage)), data objects as dictionaries and
        references to other objects as their moids.
      - V(parent) gives the folder path, V(resourcePool) the resource pool path. Matching
        Supervisor VMs by BIOS UUID needs V(config.uuid); pods without a VM UUID annotation are
        matched by name in the pool of their namespace, which needs V(resourcePool).
      - An unknown path fails the inventory with the name of the path.
    type: list
    elements: str
    default: [name, runtime.powerState, guest.ipAddress, guest.hostName, config.guestId, config.guestFullName,
              config.hardware.numCPU, config.hardware.memoryMB, config.uuid, config.instanceUuid, parent, resourcePool]
  with_custom_attributes:
    description: Also read the VMs' custom attributes into C(vsphere_custom_attributes) (name -> value).
    type: bool
    default: false
  with_tags:
    description:
      - Also read the vSphere tags attached to the VMs, into C(vsphere_tags) (tag names) and
        C(vsphere_tag_categories) (category name -> tag names), through the vSphere Automation
        tagging API with the same credentials; the number of calls grows with the tags, not the VMs.
    type: bool
    default: false
  include_templates:
    description:
      - Also list VM templates (C(config.template) true). They cannot run, so they are left out by default.
    type: bool
    default: false
  include_inaccessible:
    description:
      - Also list VMs vCenter reports as orphaned or inaccessible (C(runtime.connectionState) V(orphaned) or
        V(inaccessible)). Their files are out of reach and most of their properties unset, so they are left
        out by default.
    type: bool
    default: false
  page_size:
    description:
      - How many objects vCenter returns per page of the property fetch (C(maxObjects)), at least 1.
      - The next page is asked for while one is read.
    type: int
    default: 1000
  fetch_timeout:
    description:
      - Seconds to wait for each page of the property fetch. vCenter may gather every page before it
        sends the first, so a large estate on a busy server needs more than the 30 seconds allowed to
        connect and log in.
    type: int
    default: 300
  supervisor:
    description: Also list what the Supervisor runs and merge it with the vCenter VMs.
    type: bool
    default: false
  supervisor_server:
    description:
      - The Supervisor's Kubernetes API URL. Not needed with O(supervisor_kubeconfig).
      - 'Where the Supervisor connection comes from: when the file names none of the
        C(supervisor_*) connection options but O(supervisor_ca_cert) and O(supervisor_validate_certs),
        from the environment, whole, as for the modules - E(PACIFIC_SUPERVISOR_TOKEN) with
        E(PACIFIC_SUPERVISOR_SERVER); else E(PACIFIC_SUPERVISOR_USERNAME) and
        E(PACIFIC_SUPERVISOR_PASSWORD) with E(PACIFIC_SUPERVISOR_SERVER) and E(PACIFIC_WCP_LOGIN_URL);
        else E(PACIFIC_SUPERVISOR_KUBECONFIG), E(K8S_AUTH_KUBECONFIG) or E(KUBECONFIG) with
        E(K8S_AUTH_CONTEXT). When it names any, only what it names.'
    type: str
  supervisor_token:
    description: A bearer token for the Supervisor (see M(pacific.supervisor.login)). It may be vault-encrypted.
    type: str
  supervisor_username:
    description:
      - A vCenter SSO user that logs in through the Supervisor's C(/wcp/login), as
        M(pacific.supervisor.login) does.
    type: str
  supervisor_password:
    description: The password of O(supervisor_username). It may be vault-encrypted.
    type: str
  supervisor_login_url:
    description: The WCP login URL; C(/wcp/login) on port 443 of the host of O(supervisor_server) when not set.
    type: str
  supervisor_kubeconfig:
    description: A kubeconfig file for the Supervisor.
    type: path
  supervisor_context:
    description: The context of O(supervisor_kubeconfig) to use; its current context when not set.
    type: str
  supervisor_ca_cert:
    description:
      - A PEM file of the CA that signed the Supervisor's certificate.
      - Set in the file, it wins over E(PACIFIC_SUPERVISOR_CA_CERT) also when the rest comes from the environment.
    type: path
  supervisor_validate_certs:
    description:
      - Whether to verify the Supervisor's TLS certificate; V(true) when not set.
      - Set in the file, it wins over E(PACIFIC_SUPERVISOR_VALIDATE_CERTS) also when the rest comes from the
        environment.
    type: bool
  supervisor_kinds:
    description:
      - The Supervisor kinds to list, one request each across namespaces. A kind the Supervisor
        does not serve lists as empty.
    type: list
    elements: str
    choices: [VirtualMachine, TanzuKubernetesCluster, Cluster, Pod]
    default: [VirtualMachine, TanzuKubernetesCluster, Cluster, Pod]
  supervisor_namespaces:
    description:
      - Only these Supervisor namespaces. When listing across namespaces is forbidden (a
        developer's rights), each of these namespaces is listed instead.
    type: list
    elements: str
  hostnames:
    description:
      - Host variables to name a host by; the first that has a value wins. A name already taken
        gets the VM's moid (or the object's uid) appended.
    type: list
    elements: str
    default: [supervisor_qualified_name, vsphere_name, vsphere_moid]
  ansible_host_preference:
    description:
      - Host variables to take C(ansible_host) from; the first that has a value wins. No host
        variable C(ansible_host) is set when none has one. O(compose) may still override it.
    type: list
    elements: str
    default: [vsphere_guest_ip, supervisor_primary_ip4, supervisor_pod_ip]
  default_groups:
    description: Put hosts in the groups described above (namespace, kind, power state, guest cluster).
    type: bool
    default: true
  group_prefix:
    description: A prefix for the names of the default groups, joined with C(_).
    type: str
    default: ""
notes:
  - "vCenter host variables (with the default O(properties)): C(vsphere_moid), C(vsphere_name), C(vsphere_power_state)
    (V(poweredOn), V(poweredOff), V(suspended)), C(vsphere_guest_ip), C(vsphere_guest_hostname), C(vsphere_guest_id),
    C(vsphere_guest_full_name), C(vsphere_num_cpu), C(vsphere_memory_mb), C(vsphere_bios_uuid), C(vsphere_instance_uuid),
    C(vsphere_folder) (V(/DC0/vm/Namespaces/team-a)), C(vsphere_datacenter), C(vsphere_resource_pool)
    (V(/DC0/host/DC0_C0/Resources/team-a)); C(vsphere_custom_attributes) with O(with_custom_attributes);
    C(vsphere_tags) and C(vsphere_tag_categories) with O(with_tags). A property vCenter has no value for (the guest
    IP of a VM without VMware Tools) gives no variable: use the C(default) filter."
  - "Supervisor host variables of a VirtualMachine: C(supervisor_kind) (V(VirtualMachine)), C(supervisor_namespace),
    C(supervisor_name), C(supervisor_qualified_name) (V(namespace/name)), C(supervisor_uid), C(supervisor_labels),
    C(supervisor_class), C(supervisor_image), C(supervisor_storage_class), C(supervisor_power_state),
    C(supervisor_desired_power_state), C(supervisor_primary_ip4), C(supervisor_unique_id), C(supervisor_bios_uuid),
    C(supervisor_node_name) (the ESXi host it runs on, by its vCenter name, as VM Operator reports it in the
    VirtualMachine's status), C(supervisor_conditions) (type -> true/false); of a guest cluster node also C(supervisor_guest_cluster),
    C(supervisor_guest_cluster_role) (V(control_plane) or V(worker), from CAPV's C(capv.vmware.com/cluster.role)
    label), C(supervisor_guest_cluster_kind), C(supervisor_guest_cluster_endpoint) (V(host:port)),
    C(supervisor_guest_cluster_server) (an URL), C(supervisor_guest_cluster_phase), C(supervisor_guest_cluster_ready),
    C(supervisor_guest_cluster_version), C(supervisor_guest_cluster_capi_cluster) and
    C(supervisor_guest_cluster_class) (the Cluster API Cluster realising it and its ClusterClass)."
  - "A TanzuKubernetesCluster and the Cluster API Cluster a Supervisor realises it as (same name, vSphere 8) are one
    guest cluster of kind V(TanzuKubernetesCluster); where the TKC reports no readiness, phase, endpoint or version,
    its Cluster's are used (readiness: C(Ready), else C(ControlPlaneReady) and C(InfrastructureReady)). A Cluster
    made directly is a guest cluster of kind V(Cluster)."
  - "Supervisor host variables of a pod: C(supervisor_kind) (V(Pod)), C(supervisor_namespace), C(supervisor_name),
    C(supervisor_qualified_name), C(supervisor_uid), C(supervisor_labels), C(supervisor_pod_phase), C(supervisor_pod_ip),
    C(supervisor_node_name), C(supervisor_containers) (images), C(supervisor_conditions)."
  - "Every host has C(supervisor_workload_kind): V(vm), V(pod_vm), V(guest_cluster_node) or V(plain_vm). Without
    O(supervisor=true) a VM is V(pod_vm) when its guest OS id says so and V(plain_vm) otherwise, and its namespace
    group comes from its folder (C(Namespaces/<namespace>))."
  - "With O(supervisor=true) and O(default_groups), each vSphere Namespace vCenter lists is a group C(namespace_<namespace>)
    (even without hosts; only those of O(supervisor_namespaces) when it is set) whose variables say whether its
    Supervisor runs vSphere Pods, from vCenter's facts (the namespace's cluster and that cluster's C(network_provider)): C(supervisor_network_provider)
    (V(NSXT_CONTAINER_PLUGIN), V(NSX_VPC) or V(VSPHERE_NETWORK)), C(supervisor_vsphere_pods) (false on a Supervisor
    with vSphere Distributed Switch (VDS) networking, which runs only Supervisor Services' pods) and
    C(supervisor_vsphere_pods_reason) (why not, and what to use instead). A namespace of O(supervisor_namespaces)
    where vSphere Pods are not available is also a warning when O(supervisor_kinds) has V(Pod)."
  - With the inventory cache on, a run within O(cache_timeout) answers from the cache and calls no API.
"""

EXAMPLES = r"""
# inventory/estate.workloads.yml -- vCenter VMs only, credentials from VMWARE_* environment variables
plugin: pacific.supervisor.workloads

---
# inventory/all.workloads.yml -- both faces, a vaulted password, cached for 5 minutes
plugin: pacific.supervisor.workloads
hostname: vcenter.example.com
username: administrator@vsphere.local
password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  ...
ca_cert: /etc/pki/vcenter-ca.pem
supervisor: true
supervisor_server: https://10.0.0.10:6443
supervisor_ca_cert: /etc/pki/supervisor-ca.pem
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 300
keyed_groups:
  - key: vsphere_guest_id
    prefix: os
compose:
  ansible_user: "'ubuntu' if (vsphere_guest_id | default('')).startswith('ubuntu') else 'root'"

---
# inventory/lean.workloads.yml -- exactly five properties
plugin: pacific.supervisor.workloads
properties: [name, runtime.powerState, guest.ipAddress, config.uuid, config.guestId]
"""

import os
import time

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.vars import validate_variable_name

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._common.settings import SUPERVISOR, VCENTER, resolve
from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import hosts as workload_hosts
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import bulk, soap, tagging, vsphere_pods
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import VcenterSession

# bump when the cached shape changes (2: unset properties left out; 3: namespaces and their vSphere Pod support)
CACHE_FORMAT = 3
display = Display()


def _secret(value):
    """A plain str of an option that may be vault-encrypted."""
    return None if value is None else to_native(value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "pacific.supervisor.workloads"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".workloads.yml", ".workloads.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
            else:
                if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
                    data, update_cache = None, True
        if data is None:
            started = time.monotonic()
            try:
                data = self._collect()
            except PacificError as err:
                raise AnsibleParserError("pacific.supervisor.workloads: %s" % err.msg)
            display.vvv("pacific.supervisor.workloads: %d hosts fetched in %.2fs"
                        % (len(data["hosts"]), time.monotonic() - started))
        else:
            display.vvv("pacific.supervisor.workloads: %d hosts from the cache" % len(data["hosts"]))
        if update_cache:
            self._cache[cache_key] = data
        started = time.monotonic()
        self._populate(data, release=not (update_cache or use_cache))
        display.vvv("pacific.supervisor.workloads: inventory populated in %.2fs" % (time.monotonic() - started))

    # --- fetching ---------------------------------------------------------------------------
    def _connection(self, face, prefix):
        """The settings of one face by the collection's one rule: what this file names (options
        ``prefix`` + setting), else the environment, whole."""
        given = {}
        for setting in face.settings:
            value = self.get_option(prefix + setting.name)
            given[setting.name] = _secret(value) if setting.type in ("str", "path") else value
        resolved = resolve(face, given, os.environ)
        resolved.pop("source")
        return resolved

    def _collect(self):
        """Everything the inventory needs, as JSON-able data (what the cache holds)."""
        properties = list(dict.fromkeys(self.get_option("properties")))
        if self.get_option("with_custom_attributes") and "customValue" not in properties:
            properties.append("customValue")
        if not properties:
            raise PacificError("properties must name at least one VM property")
        if self.get_option("page_size") < 1:
            raise PacificError("page_size must be at least 1, not %d" % self.get_option("page_size"))
        bulk.check_properties(properties)  # once, before connecting: fetch_vms is told it was done
        vcenter = self._connection(VCENTER, "")
        service_instance = soap.connect(
            vcenter["hostname"], vcenter["username"], vcenter["password"], port=vcenter["port"],
            validate_certs=vcenter["validate_certs"], ca_cert=vcenter["ca_cert"])
        try:
            vms, parents = bulk.fetch_vms(service_instance, properties, page_size=self.get_option("page_size"),
                                          templates=self.get_option("include_templates"),
                                          inaccessible=self.get_option("include_inaccessible"),
                                          timeout=self.get_option("fetch_timeout"), checked=True)
            fields = bulk.custom_field_names(service_instance) if "customValue" in properties else None
        finally:
            soap.disconnect(service_instance)
        tags = None
        if self.get_option("with_tags"):
            tags = tagging.attached_tags(
                vcenter["hostname"], vcenter["username"], vcenter["password"], port=vcenter["port"],
                context=soap.ssl_context(vcenter["validate_certs"], vcenter["ca_cert"]))
        vsphere = workload_hosts.vcenter_hosts(vms, bulk.inventory_paths(parents), properties, fields, tags)
        clusters, listed, namespaces = {}, {}, []
        if self.get_option("supervisor"):
            # imported only when asked for: the kubernetes package costs more to load than a fetch
            from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import supervisor

            listed = supervisor.list_workloads(self._connection(SUPERVISOR, "supervisor_"),
                                               self.get_option("supervisor_kinds"), self.get_option("supervisor_namespaces"))
            clusters = workload_hosts.guest_clusters(listed.get("TanzuKubernetesCluster"), listed.get("Cluster"))
            namespaces = self._vsphere_pod_support(vcenter)
        merged = workload_hosts.merge(vsphere, listed.get("VirtualMachine"), listed.get("Pod"), clusters)
        return {
            "format": CACHE_FORMAT,
            "hosts": merged,
            "guest_clusters": [facts for _key, facts in sorted(clusters.items())],
            "namespaces": namespaces if self.get_option("supervisor") else [],
        }

    def _vsphere_pod_support(self, vcenter):
        """Each vSphere Namespace's vSphere Pod support (``vsphere_pods.facts``), by vCenter; a namespace
        asked for where pods cannot run is a warning when pods are listed. A vCenter that will not
        tell leaves it out with a warning, not the whole inventory."""
        try:
            with VcenterSession(vcenter["hostname"], vcenter["username"], vcenter["password"], port=vcenter["port"],
                                validate_certs=vcenter["validate_certs"], ca_cert=vcenter["ca_cert"]) as session:
                found = vsphere_pods.support_by_namespace(session)
        except PacificError as err:
            display.warning("pacific.supervisor.workloads: which namespaces run vSphere Pods is unknown: %s" % err.msg)
            return []
        wanted = self.get_option("supervisor_namespaces")
        if wanted:
            found = dict((name, facts) for name, facts in found.items() if name in wanted)
            if "Pod" in self.get_option("supervisor_kinds"):
                for name in sorted(found):
                    if not found[name]["available"]:
                        display.warning("pacific.supervisor.workloads: %s" % found[name]["reason"])
        return [found[name] for name in sorted(found)]

    # --- populating -------------------------------------------------------------------------
    def _populate(self, data, release=False):
        """Add the hosts and groups of ``data``; with ``release``, each host's record is dropped
        once added (nothing else holds it), so that the estate is not held twice."""
        inventory = self.inventory
        strict = self.get_option("strict")
        compose, groups, keyed_groups = (self.get_option("compose"), self.get_option("groups"),
                                         self.get_option("keyed_groups"))
        prefix = self.get_option("group_prefix")
        with_default_groups = self.get_option("default_groups")
        address_preference = self.get_option("ansible_host_preference")
        host_list = data["hosts"]
        names = workload_hosts.host_names(host_list, self.get_option("hostnames"))
        known_groups, valid_names = set(), set()

        if with_default_groups:
            for facts in data.get("namespaces", []):
                group = workload_hosts.group_name(prefix, "namespace", facts["namespace"])
                inventory.add_group(group)
                known_groups.add(group)
                for key, value in workload_hosts.namespace_vars(facts).items():
                    inventory.set_variable(group, key, value)
            for facts in data.get("guest_clusters", []):
                group = workload_hosts.guest_cluster_group(facts["supervisor_namespace"],
                                                           facts["supervisor_guest_cluster"], prefix)
                inventory.add_group(group)
                known_groups.add(group)
                for key, value in facts.items():
                    if value is not None:
                        inventory.set_variable(group, key, value)

        for index, (name, hostvars) in enumerate(zip(names, host_list)):
            if release:
                host_list[index] = None
            inventory.add_host(name)
            address = workload_hosts.ansible_host(hostvars, address_preference)
            for key in hostvars:
                if key not in valid_names:
                    validate_variable_name(key)
                    valid_names.add(key)
            # the host's variables in one update: thousands of hosts times a dozen set_variable
            # calls (each validating the name and logging) cost more than the whole fetch
            host = inventory.get_host(name)
            host.vars.update(hostvars)
            if address:
                host.vars["ansible_host"] = address
            if with_default_groups:
                for group in workload_hosts.default_groups(hostvars, prefix):
                    if group not in known_groups:
                        inventory.add_group(group)
                        known_groups.add(group)
                    inventory.add_child(group, name)
            if compose or groups or keyed_groups:
                if address:
                    hostvars = dict(hostvars, ansible_host=address)
                self._set_composite_vars(compose, hostvars, name, strict=strict)
                self._add_host_to_composed_groups(groups, hostvars, name, strict=strict)
                self._add_host_to_keyed_groups(keyed_groups, hostvars, name, strict=strict)
