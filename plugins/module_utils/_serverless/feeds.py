# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the activator sees of a namespace - its functions' Deployments, their Pods and the
EndpointSlices in front of them - through the collection's one list-then-watch (``informer.py``).

A ``Feed`` is one informer in a thread of its own: the first LIST is made by ``first_list`` (so
that bad credentials or a namespace out of reach fail the activation at once), then ``run``
follows ``Informer.changes`` - watch, resume, relist after 410 Gone - a bounded span at a time,
and hands every batch of changes to ``deliver`` (which crosses to the event loop). Failures
retrying cannot mend are logged and retried after a bounded, jittered delay: an activator runs
for days, and a Supervisor that comes back must find it watching again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import threading
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import informer, kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.policy import FUNCTION_LABEL

LOG = logging.getLogger(__name__)

DEPLOYMENTS = kinds.known("apps/v1", "Deployment")
PODS = kinds.known("v1", "Pod")
ENDPOINT_SLICES = kinds.Resource("discovery.k8s.io/v1", "EndpointSlice", "endpointslices")

# each watch is asked to end after this long and opened again (a dead peer shows within it)
WATCH_SPAN = 240.0


class Feed(object):
    """One resource of one namespace, listed then watched in a thread; ``deliver(resource, changes)``."""

    def __init__(self, client, resource, namespace, deliver, query=(), backoff=None, clock=time.monotonic):
        self.resource = resource
        self.namespace = namespace
        self.deliver = deliver
        self.informer = informer.Informer(client, resource, namespace, list(query))
        self.backoff = backoff or Backoff(cap=10.0)
        self.clock = clock
        self.stopping = threading.Event()
        self.thread = None

    def __str__(self):
        return "{0} in namespace {1}".format(self.resource.plural, self.namespace)

    def first_list(self):
        _items, changes = self.informer.list()
        self.deliver(self.resource, changes)

    def run(self):
        while not self.stopping.is_set():
            try:
                for changes in self.informer.changes(self.clock() + WATCH_SPAN):
                    if self.stopping.is_set():
                        return
                    if changes:
                        self.deliver(self.resource, changes)
                    self.backoff.reset()
            except PacificError as err:
                if self.stopping.is_set():
                    return
                delay = self.backoff.next()
                LOG.warning("watching %s: %s; again in %.1fs", self, err, delay)
                self.stopping.wait(delay)

    def start(self):
        self.thread = threading.Thread(target=self.run, name="function-activator {0}".format(self), daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.informer.interrupt()

    def join(self, timeout):
        if self.thread is not None:
            self.thread.join(timeout)


def feeds_of(client, namespace, deliver):
    """The three feeds of one namespace: functions' Deployments and Pods (by the function label),
    and its EndpointSlices (a Service in front of a function, when it has one, says first that a
    pod is terminating)."""
    selector = [("labelSelector", FUNCTION_LABEL)]
    return [Feed(client, DEPLOYMENTS, namespace, deliver, selector),
            Feed(client, PODS, namespace, deliver, selector),
            Feed(client, ENDPOINT_SLICES, namespace, deliver)]
