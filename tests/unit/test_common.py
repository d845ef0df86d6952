"""Pure logic of module_utils/_common: error classes by HTTP status and the retry decorator."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import backoff_delays, retrying


@pytest.mark.parametrize("status, expected", [
    (200, None), (204, None), (400, errors.InvalidArgument), (422, errors.InvalidArgument),
    (401, errors.AuthenticationFailed), (403, errors.Forbidden), (404, errors.NotFound),
    (409, errors.Conflict), (429, errors.Throttled), (500, errors.ServerError), (503, errors.ServerError),
    (418, errors.InvalidArgument),
])
def test_error_class_for_status(status, expected):
    assert errors.for_http_status(status) is expected


def test_only_transient_failures_are_retryable():
    retryable = {cls.__name__ for cls in vars(errors).values()
                 if isinstance(cls, type) and issubclass(cls, errors.PacificError) and cls.retryable}
    assert retryable == {"Conflict", "Throttled", "ServerError", "Unreachable"}


def test_backoff_doubles_to_a_cap_with_jitter_within_half_and_whole():
    assert backoff_delays(5, 0.5, 2.0, jitter=lambda: 1.0) == [0.5, 1.0, 2.0, 2.0]
    assert backoff_delays(3, 1.0, 10.0, jitter=lambda: 0.0) == [0.5, 1.0]
    assert backoff_delays(1, 1.0, 10.0) == []


def _flaky(failures):
    calls = []

    def call():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return call, calls


def test_retryable_errors_are_tried_again_up_to_the_bound():
    pauses = []
    call, calls = _flaky([errors.ServerError("boom"), errors.Unreachable("reset")])
    assert retrying(attempts=3, sleep=pauses.append)(call)() == "done"
    assert len(calls) == 3 and len(pauses) == 2

    call, calls = _flaky([errors.Throttled("slow down")] * 4)
    with pytest.raises(errors.Throttled):
        retrying(attempts=3, sleep=pauses.append)(call)()
    assert len(calls) == 3


def test_other_errors_are_not_retried():
    call, calls = _flaky([errors.Forbidden("no"), errors.ServerError("x")])
    with pytest.raises(errors.Forbidden):
        retrying(attempts=5, sleep=lambda _: None)(call)()
    assert len(calls) == 1


def test_retry_on_narrows_what_is_retried():
    call, calls = _flaky([errors.Conflict("409")])
    with pytest.raises(errors.Conflict):
        retrying(attempts=5, sleep=lambda _: None, retry_on=lambda err: not isinstance(err, errors.Conflict))(call)()
    assert len(calls) == 1
