"""Supervisor-in-a-box: real etcd, kube-apiserver, kube-controller-manager and vcsim on loopback.

``python -m testbed up|down|status|env`` is the entry point; see ``testbed/README.md``.
"""
