"""Request and write counters exposed through the inspection API (``/__sandbox__/counters``)."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from typing import Any

_MAPS = ("by_status", "by_route", "by_object_type", "created", "updated", "archived", "faults", "inputs")


class Counters:
    """Thread-safe counters of CRM API traffic (inspection requests are not counted).

    ``requests`` counts every CRM API request received (including rejected ones), ``write_requests``
    those routed to a write endpoint (``WRITE_ROUTES``: object and association batch writes, single writes)
    whatever their outcome, ``by_status`` the HTTP status codes sent, ``by_route`` ``"METHOD family"``,
    ``by_object_type`` requests per resolved object type name, ``created``/``updated``/``archived``
    objects per type, ``inputs`` batch inputs received per type, ``faults`` injected faults by kind,
    ``associations_created``/``associations_archived`` association types added or removed (from side).
    """

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.reset()
        if initial:
            self.requests = int(initial.get("requests", 0))
            self.write_requests = int(initial.get("write_requests", 0))
            self.rate_limited = int(initial.get("rate_limited", 0))
            self.associations_created = int(initial.get("associations_created", 0))
            self.associations_archived = int(initial.get("associations_archived", 0))
            for name in _MAPS:
                getattr(self, name).update(initial.get(name, {}))

    def reset(self) -> None:
        """Zero everything."""
        self.requests = 0
        self.write_requests = 0
        self.rate_limited = 0
        self.associations_created = 0
        self.associations_archived = 0
        self.by_status: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.by_object_type: Counter[str] = Counter()
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.archived: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.inputs: Counter[str] = Counter()

    def request(self, route: str, object_type: str | None, write: bool, inputs: int) -> None:
        """Record a received CRM API request."""
        with self._lock:
            self.requests += 1
            self.by_route[route] += 1
            if object_type:
                self.by_object_type[object_type] += 1
                if inputs:
                    self.inputs[object_type] += inputs
            if write:
                self.write_requests += 1

    def status(self, status: int | str) -> None:
        """Record the status sent (or ``"dropped"``/``"reset"`` for aborted connections)."""
        with self._lock:
            self.by_status[str(status)] += 1
            if status == 429:
                self.rate_limited += 1

    def fault(self, kind: str) -> None:
        """Record an injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def writes(
        self,
        object_type: str,
        created: int = 0,
        updated: int = 0,
        archived: int = 0,
        associations: int = 0,
        associations_archived: int = 0,
    ) -> None:
        """Record committed writes (association counts are of from-side types created or removed)."""
        with self._lock:
            if created:
                self.created[object_type] += created
            if updated:
                self.updated[object_type] += updated
            if archived:
                self.archived[object_type] += archived
            self.associations_created += associations
            self.associations_archived += associations_archived

    def snapshot(self) -> dict[str, Any]:
        """Return a JSON-compatible copy."""
        with self._lock:
            data: dict[str, Any] = {
                "requests": self.requests,
                "write_requests": self.write_requests,
                "rate_limited": self.rate_limited,
                "associations_created": self.associations_created,
                "associations_archived": self.associations_archived,
            }
            for name in _MAPS:
                data[name] = dict(copy.copy(getattr(self, name)))
        return data
