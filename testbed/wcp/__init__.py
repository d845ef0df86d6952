"""The WCP simulator: what vCenter's Workload Control Plane service answers on a real Supervisor.

One HTTPS endpoint for users of both faces:
- ``POST /wcp/login`` and the TokenReview webhook that makes kube-apiserver accept its JWTs;
- the vSphere Automation API for sessions, vSphere Namespaces, VM classes and clusters with
  workload management, persisted in the state directory and mirrored into Kubernetes;
- everything else (``/sdk`` SOAP, the rest of ``/api`` and ``/rest``) proxied to vcsim.
"""
