# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What becomes of every Compose-spec service key and every VIC ``docker run`` flag on a vSphere Pod.

Each entry is (outcome, detail): ``mapped`` (detail: what it becomes; some values of a mapped key
are still refused, and the converter says which), ``refused`` (detail: the vSphere Pod or
Kubernetes rule it breaks) or ``client_only`` (detail: why nothing on the server is needed). A key
that is in no table is refused by the converter as unknown, so nothing is ever dropped silently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAPPED = "mapped"
REFUSED = "refused"
CLIENT_ONLY = "client_only"
OUTCOMES = (MAPPED, REFUSED, CLIENT_ONLY)

# the rules of a vSphere Pod (and of the Kubernetes Pod API) that refusals name
RULE_HOST_PATH = ("a vSphere Pod mounts no host directory: hostPath only /var/log/pods, read-only; "
                  "volumes are CSI persistent volumes, emptyDir, ConfigMap and Secret")
RULE_DOCKER_SOCKET = "a vSphere Pod has no Docker engine behind it and mounts no host socket (no hostPath)"
RULE_HOST_NAMESPACES = "a vSphere Pod shares no host namespace (no hostNetwork, hostPID, hostIPC)"
RULE_SHARED_NAMESPACES = "a vSphere Pod shares no namespace with another pod (each pod is its own VM)"
RULE_PRIVILEGED = "a vSphere Pod runs no privileged container"
RULE_CAPABILITIES = "a vSphere Pod adds no capability that reaches into the Pod VM's kernel or devices"
RULE_HOST_PORT = ("a vSphere Pod has no hostPort (and NodePort is ignored): a published port is a Service "
                  "of type LoadBalancer on an address of its own, not a port of a host address")
RULE_PORT_RANGE = "a Kubernetes Service port is one port; a range of ports has no Service port"
RULE_DEVICES = "a vSphere Pod VM has no host devices (no devices, GPUs or device cgroup rules)"
RULE_SYSCTLS = "a vSphere Pod sets no sysctls (the Pod VM's kernel is managed by the Spherelet)"
RULE_NETWORKS = ("all pods of a Supervisor namespace share its one network segment: several isolated "
                 "compose networks cannot be kept apart (set flatten_networks to accept one network)")
RULE_STATIC_IP = "a vSphere Pod's address comes from the namespace network (NSX); it takes no static IP or MAC"
RULE_KERNEL_TUNING = "a vSphere Pod exposes no cgroup or kernel tuning beyond CPU and memory requests and limits"
RULE_SECURITY_OPTIONS = "a vSphere Pod takes no seccomp, AppArmor or SELinux profile of the host"
RULE_BUILD = "a vSphere Pod runs images from a registry; nothing builds them (give the image in `images`)"
RULE_PLATFORM = "a vSphere Pod runs linux/amd64 images only"
RULE_RUNTIME = "a vSphere Pod runs in its own VM runtime; no other container runtime can be chosen"
RULE_VOLUMES_FROM = "a pod mounts only its own volumes; share data through a named volume (a claim) instead"
RULE_LINK_ALIAS = "a pod reaches another service by the name of its Service; a link alias needs a Service of that name"
RULE_USER_NAME = "a Pod runs as a numeric user and group (runAsUser/runAsGroup), not a user name"
RULE_STOP_SIGNAL = "a Pod is stopped with SIGTERM; the Pod API of a Supervisor sets no other stop signal"
RULE_INIT = "a Pod gets no injected init process (run one in the image)"
RULE_SWARM = "swarm scheduling and rollout settings have no vSphere Pod counterpart (the Supervisor places pods with DRS)"
RULE_EXTERNAL = "the converter moves one compose project; a container outside it cannot be linked"
RULE_AI_MODELS = "a vSphere Pod has no model runner or compose provider behind it"
RULE_UMASK = "a Pod sets no umask for its containers"
RULE_NONE_NETWORK = "a vSphere Pod always has its namespace network"
RULE_MISSING_FILE = "the file this object is made from does not exist"
RULE_UNKNOWN = "not a key of the Compose specification this converter knows; refused rather than ignored"

# Every key of a service in the Compose specification (compose-go v2.16 schema), in order.
SERVICE_KEYS = {
    "annotations": (MAPPED, "annotations of the workload"),
    "attach": (CLIENT_ONLY, "whether `docker compose up` shows the logs; read them with kubectl logs"),
    "blkio_config": (REFUSED, RULE_KERNEL_TUNING),
    "build": (MAPPED, "the image given for it in `images` (or its `image`); refused when neither names one"),
    "cap_add": (MAPPED, "securityContext.capabilities.add; SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_TIME and ALL refused"),
    "cap_drop": (MAPPED, "securityContext.capabilities.drop"),
    "cgroup": (REFUSED, RULE_KERNEL_TUNING),
    "cgroup_parent": (REFUSED, RULE_KERNEL_TUNING),
    "command": (MAPPED, "the container's args"),
    "configs": (MAPPED, "a ConfigMap volume (file or inline content of the top-level config)"),
    "container_name": (MAPPED, "the container's name in the pod"),
    "cpu_count": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_percent": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_period": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_quota": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_rt_period": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_rt_runtime": (REFUSED, RULE_KERNEL_TUNING),
    "cpu_shares": (REFUSED, RULE_KERNEL_TUNING),
    "cpus": (MAPPED, "resources.limits.cpu (dialect vic: a vCPU count, default 2)"),
    "cpuset": (MAPPED, "dialect vic: a vCPU count (resources.limits.cpu); dialect docker: refused, no CPU pinning"),
    "credential_spec": (REFUSED, "a vSphere Pod runs Linux containers; a Windows credential spec has no meaning"),
    "depends_on": (MAPPED, "creation order, and with wait the order of readiness"),
    "deploy": (MAPPED, "replicas, resources and restart policy; each sub-key reported on its own"),
    "develop": (CLIENT_ONLY, "`docker compose watch` settings for a developer's machine"),
    "device_cgroup_rules": (REFUSED, RULE_DEVICES),
    "devices": (REFUSED, RULE_DEVICES),
    "dns": (MAPPED, "dnsConfig.nameservers"),
    "dns_opt": (MAPPED, "dnsConfig.options"),
    "dns_search": (MAPPED, "dnsConfig.searches"),
    "domainname": (REFUSED, "a pod's domain is its namespace's cluster domain; it sets no NIS domain name"),
    "entrypoint": (MAPPED, "the container's command"),
    "env_file": (MAPPED, "read by compose into environment"),
    "environment": (MAPPED, "the container's env"),
    "expose": (MAPPED, "a Service of type ClusterIP"),
    "extends": (CLIENT_ONLY, "resolved by compose into the service itself"),
    "external_links": (REFUSED, RULE_EXTERNAL),
    "extra_hosts": (MAPPED, "hostAliases"),
    "gpus": (REFUSED, RULE_DEVICES),
    "group_add": (MAPPED, "securityContext.supplementalGroups (numeric groups; names refused)"),
    "healthcheck": (MAPPED, "readiness and liveness probes (exec)"),
    "hostname": (MAPPED, "the pod's hostname"),
    "image": (MAPPED, "the container's image"),
    "init": (REFUSED, RULE_INIT),
    "ipc": (MAPPED, "private or shareable: a pod's own IPC namespace; host and service:/container: refused"),
    "isolation": (REFUSED, "a vSphere Pod is isolated by its own VM; no Windows isolation mode applies"),
    "label_file": (MAPPED, "read by compose into labels"),
    "labels": (MAPPED, "annotations of the workload (label values of compose are not Kubernetes label values)"),
    "links": (MAPPED, "DNS by the Service of the linked service; an alias that differs is refused"),
    "logging": (MAPPED, "the default json-file/local driver: logs kept by the pod (kubectl logs); other drivers refused"),
    "mac_address": (REFUSED, RULE_STATIC_IP),
    "mem_limit": (MAPPED, "resources.limits.memory (dialect vic: default 2 GB, at least 512 MB)"),
    "mem_reservation": (MAPPED, "resources.requests.memory"),
    "mem_swappiness": (REFUSED, RULE_KERNEL_TUNING),
    "memswap_limit": (REFUSED, RULE_KERNEL_TUNING),
    "models": (REFUSED, RULE_AI_MODELS),
    "network_mode": (MAPPED, "bridge/default: the namespace network; host, none, service: and container: refused"),
    "networks": (MAPPED, "the namespace network; several isolated networks refused unless flatten_networks"),
    "oom_kill_disable": (REFUSED, RULE_KERNEL_TUNING),
    "oom_score_adj": (REFUSED, RULE_KERNEL_TUNING),
    "pid": (MAPPED, "a pod's own PID namespace; host and service:/container: refused"),
    "pids_limit": (REFUSED, RULE_KERNEL_TUNING),
    "platform": (MAPPED, "linux/amd64 accepted; any other platform refused"),
    "ports": (MAPPED, "a Service of type LoadBalancer; host addresses, host mode and ranges refused"),
    "post_start": (MAPPED, "lifecycle.postStart exec"),
    "pre_start": (REFUSED, "a pre_start hook runs in a separate container with the service's volumes; not converted"),
    "pre_stop": (MAPPED, "lifecycle.preStop exec"),
    "privileged": (MAPPED, "false only; true refused: " + RULE_PRIVILEGED),
    "profiles": (CLIENT_ONLY, "service selection done by compose (the module's `profiles`)"),
    "provider": (REFUSED, RULE_AI_MODELS),
    "pull_policy": (MAPPED, "imagePullPolicy (always, missing/if_not_present, never); build refused"),
    "pull_refresh_after": (CLIENT_ONLY, "when `docker compose pull` refreshes an image"),
    "read_only": (MAPPED, "securityContext.readOnlyRootFilesystem"),
    "restart": (MAPPED, "always/unless-stopped: a Deployment; on-failure: a Pod OnFailure; no: a Pod Never"),
    "runtime": (REFUSED, RULE_RUNTIME),
    "scale": (MAPPED, "a Deployment's replicas"),
    "secrets": (MAPPED, "a Secret volume (from the top-level secret's file or environment)"),
    "security_opt": (MAPPED, "no-new-privileges: allowPrivilegeEscalation false; other options refused"),
    "shm_size": (MAPPED, "an emptyDir in memory at /dev/shm with that size limit"),
    "stdin_open": (MAPPED, "the container's stdin"),
    "stop_grace_period": (MAPPED, "terminationGracePeriodSeconds"),
    "stop_signal": (MAPPED, "SIGTERM only; any other signal refused: " + RULE_STOP_SIGNAL),
    "storage_opt": (REFUSED, RULE_KERNEL_TUNING),
    "sysctls": (REFUSED, RULE_SYSCTLS),
    "tmpfs": (MAPPED, "an emptyDir in memory"),
    "tty": (MAPPED, "the container's tty"),
    "ulimits": (REFUSED, RULE_KERNEL_TUNING),
    "umask": (REFUSED, RULE_UMASK),
    "use_api_socket": (REFUSED, RULE_DOCKER_SOCKET),
    "user": (MAPPED, "securityContext.runAsUser/runAsGroup (numeric); a user name refused"),
    "userns_mode": (REFUSED, RULE_HOST_NAMESPACES),
    "uts": (REFUSED, RULE_HOST_NAMESPACES),
    "volumes": (MAPPED, "named: a PersistentVolumeClaim; anonymous and tmpfs: emptyDir; a file bind: a ConfigMap "
                        "with bind_files; directory binds, sockets and the docker socket refused"),
    "volumes_from": (REFUSED, RULE_VOLUMES_FROM),
    "working_dir": (MAPPED, "the container's workingDir"),
}

# Sub-keys of deploy.
DEPLOY_KEYS = {
    "mode": (MAPPED, "replicated: a Deployment; global refused: " + RULE_SWARM),
    "replicas": (MAPPED, "a Deployment's replicas"),
    "resources": (MAPPED, "limits/reservations of cpus and memory: resources.limits/requests; devices, "
                          "pids and generic_resources refused"),
    "restart_policy": (MAPPED, "condition any: a Deployment; on-failure: a Pod OnFailure; none: a Pod Never"),
    "labels": (MAPPED, "annotations of the workload"),
    "placement": (MAPPED, "empty only; constraints and preferences refused: " + RULE_SWARM),
    "endpoint_mode": (REFUSED, RULE_SWARM),
    "update_config": (REFUSED, RULE_SWARM),
    "rollback_config": (REFUSED, RULE_SWARM),
}

# The `docker run` flags a VIC container host supports (vic-product docs, vic_app_dev, "Supported
# Docker Commands", run), plus --cpus and --hostname, and what becomes of each: the outcome and
# the compose key it is the same as (whose handling it gets).
VIC_RUN_FLAGS = {
    "--attach": (CLIENT_ONLY, "attach", "which streams the client shows"),
    "--cidfile": (CLIENT_ONLY, None, "a file the client writes the container ID into"),
    "--cpuset-cpus": (MAPPED, "cpuset", "VIC: a vCPU count (default 2) -> resources.limits.cpu"),
    "--cpus": (MAPPED, "cpus", "VIC: a vCPU count (default 2) -> resources.limits.cpu"),
    "--detach": (CLIENT_ONLY, None, "whether the client waits; a pod always runs detached"),
    "--detach-keys": (CLIENT_ONLY, None, "the client's key sequence to detach"),
    "--dns": (MAPPED, "dns", "dnsConfig.nameservers"),
    "--entrypoint": (MAPPED, "entrypoint", "the container's command"),
    "--env": (MAPPED, "environment", "the container's env"),
    "--env-file": (MAPPED, "env_file", "read into the container's env"),
    "--help": (CLIENT_ONLY, None, "prints the client's help"),
    "--hostname": (MAPPED, "hostname", "the pod's hostname"),
    "--interactive": (MAPPED, "stdin_open", "the container's stdin"),
    "--ip": (REFUSED, None, RULE_STATIC_IP),
    "--label": (MAPPED, "labels", "annotations of the workload"),
    "--label-file": (MAPPED, "label_file", "read into annotations of the workload"),
    "--link": (MAPPED, "links", "DNS by the linked service's Service; an alias that differs is refused"),
    "--memory": (MAPPED, "mem_limit", "VIC: default 2 GB, at least 512 MB -> resources.limits.memory"),
    "--name": (MAPPED, "container_name", "the pod's and container's name"),
    "--net": (MAPPED, "network_mode", "the namespace network; --net=host refused"),
    "--net-alias": (REFUSED, None, RULE_LINK_ALIAS),
    "--publish": (MAPPED, "ports", "a Service of type LoadBalancer"),
    "--restart": (MAPPED, "restart", "always/unless-stopped: a Deployment; otherwise a Pod"),
    "--rm": (CLIENT_ONLY, None, "the client removes the container when it exits; delete the pod with state=absent"),
    "--stop-signal": (MAPPED, "stop_signal", "SIGTERM only; " + RULE_STOP_SIGNAL),
    "--stop-timeout": (MAPPED, "stop_grace_period", "terminationGracePeriodSeconds"),
    "--tty": (MAPPED, "tty", "the container's tty"),
    "--user": (MAPPED, "user", "runAsUser/runAsGroup (numeric)"),
    "--volume": (MAPPED, "volumes", "named volume: a claim (VIC volume-store capacity, default 1 GB); "
                                    "host directories refused"),
    "--workdir": (MAPPED, "working_dir", "the container's workingDir"),
}
