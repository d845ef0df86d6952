"""Readiness of a Deployment (what migrate's apply mode waits for)."""
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds


def _deployment(replicas=2, generation=3, observed=3, updated=2, available=2, total=2, conditions=()):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available,
                       "replicas": total, "conditions": list(conditions)}}


def test_ready_when_every_replica_is_updated_and_available():
    resource = kinds.known("apps/v1", "Deployment")
    assert resource.readiness(_deployment()).state == kinds.READY
    assert resource.readiness(_deployment(replicas=0, updated=0, available=0, total=0)).state == kinds.READY


def test_pending_while_the_rollout_runs():
    readiness = kinds.known("apps/v1", "Deployment").readiness
    assert readiness(_deployment(observed=2)).state == kinds.PENDING
    assert readiness(_deployment(available=1)) == kinds.Verdict(kinds.PENDING, "1 of 2 replicas available")
    assert readiness(_deployment(total=3)).state == kinds.PENDING  # old replicas still there


def test_a_stalled_rollout_fails():
    stalled = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
               "message": "ReplicaSet web-1 has timed out progressing."}
    verdict = kinds.known("apps/v1", "Deployment").readiness(_deployment(available=0, conditions=[stalled]))
    assert verdict.state == kinds.FAILED and "timed out progressing" in verdict.message
