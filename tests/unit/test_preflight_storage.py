"""The storage-class pre-flight: a class the namespace's quota names, or one that exists, passes;
a class that exists nowhere is one clear error; what cannot be read is warned about."""
import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import preflight, reach

QUOTA = {"metadata": {"name": "team-a-storagequota"},
         "spec": {"hard": {"gold.storageclass.storage.k8s.io/requests.storage": "10Gi",
                           "requests.storage": "20Gi"}}}


class FakeEngine(object):
    check_mode = False

    def __init__(self, classes=(), quota_error=None, class_error=None):
        self.classes, self.quota_error, self.class_error, self.warnings = set(classes), quota_error, class_error, []

    def namespace_state(self, namespace):
        return reach.THERE

    def list(self, resource, namespace=None):
        if self.quota_error:
            raise self.quota_error
        return [QUOTA], "1"

    def get(self, resource, name, namespace=None):
        if self.class_error:
            raise self.class_error
        return {"metadata": {"name": name}} if name in self.classes else None

    def warn(self, message):
        self.warnings.append(message)


def test_a_class_the_quota_names_or_that_exists_passes():
    preflight.storage_class_offered(FakeEngine(), "team-a", "gold")
    preflight.storage_class_offered(FakeEngine(classes=["silver"]), "team-a", "silver")


def test_a_class_that_exists_nowhere_is_one_clear_error():
    with pytest.raises(errors.InvalidArgument, match=r"storage class 'golld' does not exist \(namespace team-a may use: gold\)"):
        preflight.storage_class_offered(FakeEngine(), "team-a", "golld")


def test_what_cannot_be_read_is_said_not_skipped_silently():
    engine = FakeEngine(quota_error=errors.Forbidden("no quotas for you"))
    preflight.storage_class_offered(engine, "team-a", "golld")
    assert engine.warnings and "no quotas for you" in engine.warnings[0]
    engine = FakeEngine(class_error=errors.Forbidden("no classes for you"))
    preflight.storage_class_offered(engine, "team-a", "golld")
    assert engine.warnings and "no classes for you" in engine.warnings[0]
