"""Batch-create answers whose ``status`` is ``CANCELED``, ``PENDING`` or ``PROCESSING``.

HubSpot's response schema gives a batch answer's ``status`` four values (``CANCELED``, ``COMPLETE``,
``PENDING``, ``PROCESSING``; reference §4.1) and documents no case in which a synchronous batch
endpoint answers anything but ``COMPLETE`` (§16.8). The sandbox makes them injectable so that a client
can be tested against them; what they mean here is a documented choice (``docs/sandbox.md``):

* ``CANCELED``: the inputs listed in ``results`` were created, the others were not;
* ``PENDING``/``PROCESSING``: the listed inputs were created; the others are created too (ids taken,
  unique values reserved) but no read sees them until they are *revealed*: after a number of further
  CRM API requests, or after a delay. Counting requests keeps tests deterministic without sleeping.

:class:`StatusInjector` draws each answer's status from :class:`~hubspot_loader.sandbox.config.FaultConfig`;
:class:`PendingObjects` holds the objects not yet revealed (the store consults it on every read).
"""

from __future__ import annotations

import random
import threading
import time

from hubspot_loader.sandbox.config import FaultConfig

COMPLETE = "COMPLETE"
CANCELED = "CANCELED"
PENDING = "PENDING"
PROCESSING = "PROCESSING"


def listed_count(valid_inputs: int, share: float) -> int:
    """How many of a non-``COMPLETE`` answer's valid inputs its ``results`` list (rounded down)."""
    return int(valid_inputs * share)


class StatusInjector:
    """Draws the ``status`` of each batch-create answer: the configured sequence first, then the rates.

    The rates use their own ``random.Random`` seeded from the fault seed, so turning them on does not
    change which requests the other faults hit. A batch create that then fails whole (400/409: nothing
    created, no status answered) gives its status back (:meth:`give_back`): the next batch create gets
    it, so the sequence and the draws go only to batch creates that are answered with a status.
    """

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.set(config)

    def set(self, config: FaultConfig) -> None:
        """Replace the settings, restart the sequence and reseed."""
        with self._lock:
            self.config = config
            self._sequence = list(config.status_sequence)
            self._rng = random.Random(f"batch-status:{config.seed}")

    def draw(self) -> str:
        """Draw the status of the next batch-create answer."""
        with self._lock:
            cfg = self.config
            if self._sequence:
                return self._sequence.pop(0)
            if not cfg.statuses_active:
                return COMPLETE
            draw = self._rng.random()
            threshold = 0.0
            for status, rate in (
                (CANCELED, cfg.canceled_rate),
                (PENDING, cfg.pending_rate),
                (PROCESSING, cfg.processing_rate),
            ):
                threshold += rate
                if draw < threshold:
                    return status
            return COMPLETE

    def give_back(self, status: str) -> None:
        """Return a drawn status unused (its batch create failed whole): the next :meth:`draw` returns it."""
        with self._lock:
            self._sequence.insert(0, status)


class PendingObjects:
    """Objects created under a ``PENDING``/``PROCESSING`` answer that reads do not see yet.

    :meth:`tick` is called once per CRM API request on arrival; an object hidden with
    ``after_requests=N`` is revealed to the N-th request that arrives after the answer (or once
    ``after_ms`` has passed, when given). Reveals are evaluated lazily, on each visibility check.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock = 0
        self._hidden: dict[tuple[str, int], tuple[int, float | None]] = {}

    def tick(self) -> None:
        """Count one CRM API request (call on arrival, before it is processed)."""
        with self._lock:
            self._clock += 1

    def hide(self, type_id: str, ids: list[int], *, after_requests: int, after_ms: float | None) -> None:
        """Hide ``ids`` until ``after_requests`` more requests have arrived (or ``after_ms`` passed)."""
        deadline = time.monotonic() + after_ms / 1000 if after_ms is not None else None
        with self._lock:
            due = self._clock + after_requests
            for oid in ids:
                self._hidden[(type_id, oid)] = (due, deadline)

    def _revealed(self, key: tuple[str, int]) -> bool:
        """Lock held: whether ``key`` is (now) visible; drops it from the hidden set once revealed."""
        rule = self._hidden.get(key)
        if rule is None:
            return True
        due, deadline = rule
        if self._clock >= due or (deadline is not None and time.monotonic() >= deadline):
            del self._hidden[key]
            return True
        return False

    def visible(self, type_id: str, oid: int) -> bool:
        """Whether reads may see object ``oid`` of ``type_id``."""
        if not self._hidden:
            return True
        with self._lock:
            return self._revealed((type_id, oid))

    def count(self) -> int:
        """Objects still hidden."""
        with self._lock:
            return sum(1 for key in list(self._hidden) if not self._revealed(key))

    def clear(self) -> None:
        """Reveal everything and restart the request count (sandbox reset)."""
        with self._lock:
            self._hidden.clear()
            self._clock = 0
