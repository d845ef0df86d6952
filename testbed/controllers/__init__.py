"""Simulated Supervisor controllers, run together by ``python -m testbed.controllers``.

Each controller is small: a watch on its kind (``kube.Watcher``), a work queue, and a reconcile
function that drives vcsim through pyVmomi (``vsphere.Vsphere``) and writes status back.
"""
