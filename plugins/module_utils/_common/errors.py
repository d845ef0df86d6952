# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception per class of failure, raised by the clients and the engine.

Nothing here knows Ansible: ``_common/ansible.py`` turns a ``PacificError`` into
``fail_json(msg=...)``, the inventory plugin into ``AnsibleParserError`` and the event
sources into a failed activation. ``details`` must never carry a secret.

An error is data, not only words: besides ``msg`` it carries ``status`` (the HTTP status; None
for a failure to talk at all), ``reason`` (the server's own words, or the transport's), ``target``
(what the request was about: a ``Target`` of the Supervisor client, or a short text) and
``causes`` (the server's list of field causes, where it gives one). A caller that words the
failure its own way builds on those fields with ``reworded``/``prefixed``; nobody recovers them
by reading another layer's message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class PacificError(Exception):
    """A failure a user can act on: ``msg`` says what and, where known, what to do."""

    retryable = False

    def __init__(self, msg, status=None, reason=None, target=None, causes=None, **details):
        super(PacificError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.reason = reason
        self.target = target
        self.causes = list(causes or ())
        self.details = details

    def __str__(self):
        return self.msg

    def reworded(self, msg):
        """This failure in another caller's words: the same class, ``retryable``, fields and details."""
        other = type(self)(msg, status=self.status, reason=self.reason, target=self.target, causes=self.causes,
                           **self.details)
        other.retryable = self.retryable
        return other

    def prefixed(self, prefix):
        """This failure with ``prefix`` (where it happened, in the caller's words) before its message."""
        return self.reworded("{0}: {1}".format(prefix, self.msg))


class InvalidArgument(PacificError):
    """The request itself is wrong (bad name, unknown field, schema or admission refusal)."""


class AuthenticationFailed(PacificError):
    """Credentials are missing, wrong or expired (HTTP 401)."""


class Forbidden(PacificError):
    """Authenticated, but not allowed (HTTP 403)."""


class NamespaceUnreachable(Forbidden):
    """A namespace the credentials cannot see into: it does not exist, or they have no access to
    it. A Supervisor answers a developer 403 for both (authorization comes before the lookup)."""


class NotFound(PacificError):
    """The object, or something it names, does not exist (HTTP 404)."""


class NamespaceMissing(NotFound):
    """The namespace a request is about does not exist (HTTP 404 whose details name a namespace)."""


class AlreadyExists(PacificError):
    """Creating something that is already there."""


class Conflict(PacificError):
    """A concurrent change won (HTTP 409 on a read-modify-write); trying again may succeed."""

    retryable = True


class Throttled(PacificError):
    """The server asks us to slow down (HTTP 429)."""

    retryable = True


class ServerError(PacificError):
    """The server failed (HTTP 5xx)."""

    retryable = True


class Unreachable(PacificError):
    """No answer: connection refused or reset, DNS, TLS handshake."""

    retryable = True


class TlsError(PacificError):
    """The server's certificate is not trusted: retrying will not help."""


class WaitTimeout(PacificError):
    """An object did not become ready in time; ``details`` holds its last known state."""


class WaitFailed(PacificError):
    """An object reached a terminal failure while we waited (a condition's reason and message)."""


def for_http_status(status):
    """The error class for an HTTP status code, or None for a success code."""
    if status < 400:
        return None
    if status == 400 or status == 422:
        return InvalidArgument
    return {401: AuthenticationFailed, 403: Forbidden, 404: NotFound, 409: Conflict,
            429: Throttled}.get(status, ServerError if status >= 500 else InvalidArgument)
