"""The ledger's records: row statuses, entries, write-ahead rows, settlements and lease claims.

Re-exported by :mod:`hubspot_loader.state.ledger`, the import path callers use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

PENDING = "pending"
"""Sent (or about to be sent) without a settling answer: the row may exist in HubSpot."""
CREATED = "created"
"""HubSpot holds the object; ``hubspot_id`` is set."""
FAILED = "failed"
"""Rejected; retried by the next run."""
STATUSES = (PENDING, CREATED, FAILED)


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger.

    ``lease_owner``/``lease_expires_at`` name the run that holds the row (see
    :meth:`~hubspot_loader.state.sql_ledger.SqlLedger.mark_pending`); ``lease_expires_at`` is an aware UTC
    datetime. ``sent_fingerprint`` is the JSON of per-property fingerprints of what was last sent (filled by
    the sync modes of issue #13; ``None`` until then).
    """

    portal: str
    object_type: str
    row_key: str
    status: str
    hubspot_id: str | None = None
    content_hash: str | None = None
    first_run_id: str | None = None
    last_run_id: str | None = None
    error: str | None = None
    updated_at: str | None = None
    partition: str | None = None
    unique_property: str | None = None
    unique_value: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    sent_fingerprint: str | None = None


Brief: TypeAlias = "tuple[str, str | None, str | None]"
"""A lean ledger entry: ``(status, hubspot_id, content_hash)`` (:meth:`SqlLedger.briefs
<hubspot_loader.state.sql_ledger.SqlLedger.briefs>`)."""


@dataclass(frozen=True)
class PendingRow:
    """A row about to be sent: written ahead as ``pending``.

    ``fingerprint`` is written into ``sent_fingerprint`` when given (the record of
    :meth:`~hubspot_loader.core.fingerprints.ChunkPrints.record`); ``None`` keeps the stored one.
    """

    row_key: str
    content_hash: str
    unique_property: str | None = None
    unique_value: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class Settlement:
    """The state a row is settled to: ``status`` with ``hubspot_id`` and ``error`` exactly as given.

    ``content_hash`` and ``fingerprint`` (what was sent: the digest and the record of
    :mod:`hubspot_loader.core.fingerprints`) are written into ``content_hash`` and ``sent_fingerprint`` when
    given, ``""`` included; ``None`` keeps the stored values (``NULL`` for a row not yet in the ledger).
    """

    row_key: str
    status: str
    hubspot_id: str | None = None
    error: str | None = None
    content_hash: str | None = None
    fingerprint: str | None = None


RefusalReason = Literal["in_flight", "created", "in_doubt"]
IN_FLIGHT: RefusalReason = "in_flight"
"""Another owner holds a live lease on the row: it is being sent right now (report ``SKIPPED_IN_FLIGHT``)."""
ALREADY_CREATED: RefusalReason = "created"
"""The row was created (by another run) since the caller looked it up: skip it, with ``entry.hubspot_id``."""
UNRECONCILED: RefusalReason = "in_doubt"
"""The row is pending and not leased by the caller: reconcile it first (``claim_in_doubt``), never resend it
blindly."""


@dataclass(frozen=True)
class Refusal:
    """Why a row could not be claimed, with the ledger's entry as the claim found it."""

    reason: RefusalReason
    entry: LedgerEntry


@dataclass(frozen=True)
class Claim:
    """What :meth:`mark_pending` wrote: the keys claimed (written pending) and those refused, with why."""

    claimed: frozenset[str]
    refused: Mapping[str, Refusal] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every row was claimed."""
        return not self.refused

    def refused_for(self, reason: RefusalReason) -> list[str]:
        """Return the refused keys with ``reason``, sorted."""
        return sorted(k for k, r in self.refused.items() if r.reason == reason)


__all__ = [
    "ALREADY_CREATED",
    "CREATED",
    "FAILED",
    "IN_FLIGHT",
    "PENDING",
    "STATUSES",
    "UNRECONCILED",
    "Brief",
    "Claim",
    "LedgerEntry",
    "PendingRow",
    "Refusal",
    "RefusalReason",
    "Settlement",
]
