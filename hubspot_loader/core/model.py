"""Plain data passed between the loader's pure core, its HTTP client and its Dagster shell.

Nothing here does I/O. The flow is::

    DataFrame --(inputs.iter_prepared)--> PreparedInput / rejected RowOutcome
    PreparedInput --(HubSpotClient.batch_create)--> BatchOutcome (BatchRecord + RowOutcome per input)
    BatchOutcome* --(load.load_dataframe)--> LoadResult --(tables / Dagster metadata)--> tables

Every input row ends in exactly one :class:`RowOutcome`: created (with its HubSpot id), failed (with a
:class:`RowError` saying why), or skipped (already loaded by an earlier run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The per-row names live in rows and row_store; they stay importable from here.
from hubspot_loader.core.row_store import RowOutcomes as RowOutcomes
from hubspot_loader.core.rows import MAX_DECIMAL_DIGITS as MAX_DECIMAL_DIGITS
from hubspot_loader.core.rows import RowError as RowError
from hubspot_loader.core.rows import RowOutcome as RowOutcome
from hubspot_loader.core.rows import decimal_int as decimal_int

MAX_BATCH_SIZE = 100
"""Inputs HubSpot takes in one CRM object batch request ("Batch operations are limited to 100 records at a
time", reference §6); the client, ``load_dataframe`` and the CLI all hold to it."""

#: Row statuses.
CREATED = "created"
"""HubSpot created the object in this run."""
RECONCILED = "reconciled"
"""An earlier, unacknowledged attempt had created the object; the loader found it and kept its id."""
FAILED = "failed"
"""The row was not created; :attr:`RowOutcome.error` says why."""
SKIPPED = "skipped"
"""The row was created by an earlier run and was not sent again (incremental mode)."""
PLANNED = "planned"
"""Dry run: the row passed validation and conversion and would have been sent."""
UPDATED = "updated"
"""Sync modes: the record the ledger holds for the key got the row's changed properties (``batch/update``)."""
UNCHANGED = "unchanged"
"""Sync modes: nothing the row sends changed since the last sync; nothing was sent."""
ADOPTED = "adopted"
"""Sync modes: a record HubSpot already had (found by the unique property) was taken over for the key; its
values already equalled the row's, so nothing was written."""
ADOPTED_UPDATED = "adopted_updated"
"""Sync modes: a record HubSpot already had was taken over for the key and updated to the row's values."""
ARCHIVED = "archived"
"""Mirror mode: a record this sync created or adopted whose key left the source was archived."""
NO_MATCH = "skipped_no_match"
"""Update mode: no record matches the key (neither in the ledger nor by the unique property); not created."""
SKIPPED_IN_FLIGHT = "skipped_in_flight"
"""Another load holds the row's lease in the shared ledger (it is sending the row now); not sent by this one.
The next run takes it up (created by then: skipped; left in doubt: reconciled)."""

#: Error categories the loader itself assigns (HubSpot's own categories, e.g. ``VALIDATION_ERROR`` or
#: ``CONFLICT``, are passed through unchanged).
SCHEMA_ERROR = "SCHEMA_ERROR"
INVALID_VALUE = "INVALID_VALUE"
UNRESOLVED_ASSOCIATION = "UNRESOLVED_ASSOCIATION"
TRANSPORT_ERROR = "TRANSPORT_ERROR"
RATE_LIMIT_DAILY = "RATE_LIMIT_DAILY"
NOT_SENT = "NOT_SENT"
UNMATCHED_RESULT = "UNMATCHED_RESULT"
"""The row was sent and may have been created, but no answer settled it (the ledger keeps it pending)."""
HUBSPOT_PENDING = "HUBSPOT_PENDING"
"""HubSpot answered ``PENDING``/``PROCESSING`` without this row and it has no unique value to look it up by:
probably being created, never resent blindly (the ledger keeps it pending, ``docs/ledger.md``)."""

#: Values of :attr:`LoadResult.hubspot_status` (the ``hubspot/status`` metadata) besides HubSpot's own batch
#: statuses (``COMPLETE``, ``PENDING``, ``PROCESSING``, ``CANCELED``).
COMPLETE = "COMPLETE"
"""Every batch sent was answered ``COMPLETE`` (single rows may still have failed: see the row counts)."""
NO_ANSWER = "NO_ANSWER"
"""A batch was sent and got no HTTP answer (timeout, dropped connection)."""
ERROR = "ERROR"
"""A batch was answered with an error status and no batch status (401, 403, 429, 5xx ...)."""
UNKNOWN = "UNKNOWN"
"""A batch was answered 2xx without HubSpot's ``status`` field."""
NOTHING_TO_SEND = "NOTHING_TO_SEND"
"""No batch was needed: every row was skipped (already loaded) or held back (preflight, conversion), or
the frame was empty."""
DRY_RUN = "DRY_RUN"
"""A dry run: nothing was sent."""
STOPPED_BEFORE_SENDING = NOT_SENT
"""The load stopped before its first batch was sent (e.g. the token was refused while reading)."""


@dataclass(frozen=True)
class AssociationColumn:
    """A DataFrame column whose values say which records each row is associated with.

    Args:
        column: the column holding the target(s): a scalar, or a list for several targets; null means
            no association.
        to_object_type: the target object type (``companies``, ``0-2``, ``p_vendor`` ...).
        type_id: the HubSpot association type id. When neither ``type_id`` nor ``label`` is given,
            HubSpot's default unlabeled type for the pair is used (e.g. contact→company 279).
        label: an association label, resolved to a type id through the labels API.
        category: the association category; defaults to ``HUBSPOT_DEFINED`` for built-in type ids and to
            the category the labels API reports for labels.
        keys_from: when set, the column holds *warehouse keys* of the targets, translated to HubSpot ids
            through the id map of the load with this name (e.g. the companies load). When ``None`` the
            column holds HubSpot record ids.

    """

    column: str
    to_object_type: str
    type_id: int | None = None
    label: str | None = None
    category: str | None = None
    keys_from: str | None = None


@dataclass(frozen=True)
class ResolvedAssociation:
    """An :class:`AssociationColumn` with its type id and category settled and its id map attached."""

    column: str
    to_object_type: str
    type_id: int
    category: str
    id_map: Mapping[str, str] | None = None


@dataclass(slots=True)
class PreparedInput:
    """One DataFrame row converted to a HubSpot batch-create input.

    Treat it as read-only. It is not a frozen dataclass because a frozen one takes about four times as
    long to build (1 µs more per row), and a load builds one per row.
    """

    position: int
    """0-based row position in the source frame."""
    key: str
    """The row's warehouse key (the key column's value, or the position when no key column is set)."""
    trace_id: str
    """The ``objectWriteTraceId`` sent with the input; unique within a load."""
    properties: dict[str, str]
    associations: Sequence[dict[str, Any]] = ()
    """The row's ``associations`` entries; an empty tuple (shared, nothing to allocate) when it has none."""

    def payload(self) -> dict[str, Any]:
        """Return the JSON-ready input object for ``batch/create``."""
        body: dict[str, Any] = {"objectWriteTraceId": self.trace_id, "properties": self.properties}
        if self.associations:
            body["associations"] = self.associations
        return body


def _unstated(http_status: int | None) -> str:
    """Return the status of a sent batch whose answer had no ``status`` field."""
    if http_status is None:
        return NO_ANSWER
    return UNKNOWN if http_status < 300 else ERROR


@dataclass(slots=True)
class UpdateInput:
    """One row's changed properties for ``batch/update`` of the record ``hubspot_id`` (reference §16.1).

    ``properties`` holds only what is written: ``""`` clears a value (reference §16.2).
    """

    position: int
    """0-based row position in the source frame (``-1`` for a record that is not a row of the frame)."""
    key: str
    trace_id: str
    hubspot_id: str
    properties: dict[str, str]

    def payload(self) -> dict[str, Any]:
        """Return the JSON-ready input object for ``batch/update``."""
        return {"id": self.hubspot_id, "objectWriteTraceId": self.trace_id, "properties": self.properties}


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A record the sync knows by warehouse key and HubSpot id (``batch/archive`` takes ids only, §16.4)."""

    key: str
    hubspot_id: str


@dataclass(frozen=True, slots=True)
class AssociationChange:
    """One association to create or remove between an existing record and a target (reference §16.5)."""

    key: str
    """The warehouse key of the row the record belongs to."""
    from_id: str
    to_object_type: str
    to_id: str
    type_id: int
    category: str


@dataclass
class BatchRecord:
    """One batch of up to 100 inputs as it went over the wire.

    ``requested_at``/``started_at``/``completed_at``/``status`` are HubSpot's own values from the
    response body (when the batch was split, the earliest start and latest completion over its parts).
    """

    index: int
    rows: int
    http_status: int | None = None
    requested_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    status: str | None = None
    created: int = 0
    failed: int = 0
    requests: int = 0
    """HTTP requests this batch needed, including retries and split resends."""
    retries: int = 0
    splits: int = 0
    sent_at: datetime | None = None
    """Local wall-clock time the first request of the batch was sent."""
    duration_s: float = 0.0
    """Local wall-clock time from first request sent to last response received."""
    error: str | None = None
    """A batch-level error summary, when the whole batch failed."""
    reconciled: int = 0
    """Rows found already created after an unacknowledged attempt (included in ``created``)."""
    warnings: list[str] = field(default_factory=list)
    """Things the operator should know, e.g. an ambiguous failure resent without a unique property."""
    endpoint: str = "create"
    """The write endpoint of the batch: ``create``, ``update`` or ``archive``."""
    updated: int = 0
    """Rows updated (``batch/update``) or archived (``batch/archive``) by this batch."""


@dataclass
class BatchOutcome:
    """A finished batch: its record plus one outcome per input in it."""

    record: BatchRecord
    rows: list[RowOutcome]


@dataclass
class LoadResult:
    """Everything one load did, row by row and batch by batch."""

    object_type: str
    rows: RowOutcomes = field(default_factory=RowOutcomes)
    """One outcome per input row, stored column by column; a list of :class:`RowOutcome` given or assigned
    here is stored as a :class:`RowOutcomes`."""
    batches: list[BatchRecord] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None
    dry_run: bool = False
    payload_preview: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    preflight: Any = None
    """The :class:`~hubspot_loader.core.preflight.PreflightReport` when preflight ran, else ``None``."""
    stopped: str | None = None
    """Why the load stopped part-way (the one-line message of the ``LoadAborted`` raised), else ``None``."""
    archived: list[RowOutcome] = field(default_factory=list)
    """Mirror mode: the records whose keys left the source, each :data:`ARCHIVED` or failed (or
    :data:`PLANNED` in a dry run); they are not rows of the frame (``position`` is ``-1``)."""
    write_mode: str = "create"
    """The spec's write mode (``create``, ``upsert``, ``update``, ``mirror``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "rows" and not isinstance(value, RowOutcomes):  # e.g. a list built by hand
            value = RowOutcomes(value)
        super().__setattr__(name, value)

    def count(self, status: str) -> int:
        """Count the rows with the given status."""
        return self.rows.status_count(status)

    @property
    def rows_total(self) -> int:
        """Rows the load was given."""
        return len(self.rows)

    @property
    def rows_created(self) -> int:
        """Rows HubSpot created in this run (including ones found after an unacknowledged attempt)."""
        return self.count(CREATED) + self.count(RECONCILED)

    @property
    def rows_failed(self) -> int:
        """Rows not created, each with a reason."""
        return self.count(FAILED)

    @property
    def rows_skipped(self) -> int:
        """Rows not written: loaded earlier, matched to no record, or being sent by a concurrent load.

        That is :data:`SKIPPED` (create mode), :data:`NO_MATCH` (update mode) and :data:`SKIPPED_IN_FLIGHT`.
        """
        return self.count(SKIPPED) + self.count(NO_MATCH) + self.count(SKIPPED_IN_FLIGHT)

    @property
    def rows_in_flight(self) -> int:
        """Rows a concurrent load was sending (it held their lease in the ledger): not sent by this load."""
        return self.count(SKIPPED_IN_FLIGHT)

    @property
    def rows_updated(self) -> int:
        """Rows whose record got their changed properties (adopted and updated ones included)."""
        return self.count(UPDATED) + self.count(ADOPTED_UPDATED)

    @property
    def rows_unchanged(self) -> int:
        """Rows that sent nothing because nothing changed (adopted ones whose values matched included)."""
        return self.count(UNCHANGED) + self.count(ADOPTED)

    @property
    def rows_adopted(self) -> int:
        """Rows matched to a record HubSpot already had (then updated or found unchanged)."""
        return self.count(ADOPTED) + self.count(ADOPTED_UPDATED)

    @property
    def rows_no_match(self) -> int:
        """Update mode: rows that matched no record and were not created."""
        return self.count(NO_MATCH)

    @property
    def rows_archived(self) -> int:
        """Mirror mode: records archived because their keys left the source."""
        return sum(1 for r in self.archived if r.status == ARCHIVED)

    @property
    def failed_rows(self) -> list[RowOutcome]:
        """The failed rows, in input order."""
        return sorted(self.rows.with_status(FAILED), key=lambda r: r.position)

    @property
    def id_map(self) -> dict[str, str]:
        """Warehouse key → HubSpot id for every row that has one (created, reconciled or skipped)."""
        return dict(self.rows.key_ids())

    @property
    def requests(self) -> int:
        """HTTP write requests sent, including retries and split resends."""
        return sum(b.requests for b in self.batches)

    @property
    def retries(self) -> int:
        """Requests that were retries of an earlier attempt."""
        return sum(b.retries for b in self.batches)

    @property
    def duration_s(self) -> float:
        """Wall-clock seconds of the load."""
        if self.started is None or self.finished is None:
            return 0.0
        return (self.finished - self.started).total_seconds()

    @property
    def rows_per_second(self) -> float:
        """Rows created per wall-clock second."""
        return self.rows_created / self.duration_s if self.duration_s > 0 else 0.0

    def _times(self, attr: str) -> Sequence[datetime]:
        return [t for t in (getattr(b, attr) for b in self.batches) if t is not None]

    @property
    def hubspot_requested_at(self) -> datetime | None:
        """Earliest ``requestedAt`` HubSpot reported over the batches."""
        times = self._times("requested_at")
        return min(times) if times else None

    @property
    def hubspot_started_at(self) -> datetime | None:
        """Earliest ``startedAt`` HubSpot reported over the batches."""
        times = self._times("started_at")
        return min(times) if times else None

    @property
    def hubspot_completed_at(self) -> datetime | None:
        """Latest ``completedAt`` HubSpot reported over the batches."""
        times = self._times("completed_at")
        return max(times) if times else None

    @property
    def hubspot_status(self) -> str:
        """One word for the whole load, from the batches that were sent (in batch order).

        :data:`COMPLETE` only when every sent batch was answered ``COMPLETE``; otherwise the first other
        status: HubSpot's own (``PENDING``, ``PROCESSING``, ``CANCELED`` ...), or :data:`NO_ANSWER` /
        :data:`ERROR` for a batch that got no answer / an error answer without a status. When no batch
        was sent: :data:`DRY_RUN`, :data:`NOT_SENT` if the load stopped first, else
        :data:`NOTHING_TO_SEND` (every row skipped or held back, or no rows).
        """
        sent = [b for b in sorted(self.batches, key=lambda b: b.index) if b.requests or b.http_status]
        for batch in sent:
            status = batch.status or _unstated(batch.http_status)
            if status != COMPLETE:
                return status
        if sent:
            return COMPLETE
        if self.dry_run:
            return DRY_RUN
        return STOPPED_BEFORE_SENDING if self.stopped is not None else NOTHING_TO_SEND
