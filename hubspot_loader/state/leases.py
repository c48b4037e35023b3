"""One load's row leases: its owner id in the ledger, how long its claims last, the heartbeat keeping them.

Every load with a ledger claims the rows of a batch in the transaction that writes them ahead
(:meth:`~hubspot_loader.state.sql_ledger.SqlLedger.mark_pending` with ``lease_owner``). A concurrent load of
the same portal and object type is refused those rows while the lease lives and reports them
``skipped_in_flight``; reconciliation takes only rows nobody holds
(:meth:`~hubspot_loader.state.sql_ledger.SqlLedger.claim_in_doubt`).

A lease is short (:data:`DEFAULT_LEASE_SECONDS`) and renewed by a heartbeat thread every third of it while
the load runs, so a load that dies (SIGKILL, a pod evicted) frees its rows within one lease, while a live one
holds them however long its batches take. The load ends every lease it holds when it finishes
(:meth:`LeaseKeeper.close`); rows it leaves in doubt are then free for the next run to reconcile.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Protocol

from hubspot_loader.state.store_errors import LedgerError

DEFAULT_LEASE_SECONDS = 60.0
"""How long a claim lasts without renewal: a killed load's rows are free again at most this long after."""
MIN_LEASE_SECONDS = 1.0
"""The shortest lease accepted (the heartbeat renews every third of it)."""

logger = logging.getLogger(__name__)


class LeaseStore(Protocol):
    """The ledger methods a :class:`LeaseKeeper` uses."""

    def renew_leases(self, lease_owner: str, lease_seconds: float) -> int:
        """Extend every lease ``lease_owner`` holds; return how many rows it holds."""
        ...

    def release_leases(self, lease_owner: str) -> int:
        """End every lease ``lease_owner`` holds; return how many rows it held."""
        ...


def new_owner(run_id: str) -> str:
    """Return a lease owner for one load of run ``run_id``: unique even when a run loads twice at once."""
    return f"{run_id}/{uuid.uuid4().hex[:12]}"


class LeaseKeeper:
    """Holds one load's leases: its owner id, their length, and the heartbeat thread that renews them.

    Args:
        store: the ledger.
        owner: the lease owner (:func:`new_owner`).
        seconds: the lease length (at least :data:`MIN_LEASE_SECONDS`).

    """

    def __init__(self, store: LeaseStore, owner: str, seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        if not seconds >= MIN_LEASE_SECONDS:
            raise ValueError(f"lease_seconds must be at least {MIN_LEASE_SECONDS:g}, got {seconds!r}")
        self.store = store
        self.owner = owner
        self.seconds = float(seconds)
        self.renewals = 0
        """Heartbeats that extended at least one lease."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LeaseKeeper(owner={self.owner!r}, seconds={self.seconds:g})"

    @property
    def started(self) -> bool:
        """The heartbeat runs (the load is sending): :meth:`close` ends it and the leases."""
        return self._thread is not None

    def start(self) -> None:
        """Start the heartbeat (a daemon thread renewing the leases every third of their length)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="hubspot-loader-leases", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                if self.store.renew_leases(self.owner, self.seconds):
                    self.renewals += 1
            except LedgerError as exc:  # the next beat tries again; the lease lasts three beats
                logger.warning("could not renew the ledger leases of %s: %s", self.owner, exc)

    def close(self) -> None:
        """Stop the heartbeat and end every lease the load holds (its rows in doubt become free)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.store.release_leases(self.owner)


__all__ = ["DEFAULT_LEASE_SECONDS", "MIN_LEASE_SECONDS", "LeaseKeeper", "LeaseStore", "new_owner"]
