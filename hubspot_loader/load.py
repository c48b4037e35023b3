"""Load a DataFrame into HubSpot without Dagster: validate, convert, send, account for every row.

:func:`load_dataframe` is the one place that strings the pure core (validation, conversion) and the HTTP
client together. The Dagster asset factory and the CLI both call it, so they behave the same.

With a :class:`~hubspot_loader.ledger.SyncLedger` a load is incremental and crash-safe (``docs/ledger.md``):

1. rows an interrupted earlier run left *in doubt* (``pending``) are reconciled first: looked up in
   HubSpot by the unique property value they were sent with; found → created with that id, not found →
   failed (so they are sent again);
2. ``incremental`` (default): rows whose key already has a HubSpot id are not sent; they are reported
   ``SKIPPED`` with their id, so :attr:`LoadResult.id_map` still holds them. Failed and new rows are sent.
   ``full_refresh``: every row is sent again; a 409 naming the id the ledger already holds for that key
   is reported ``SKIPPED`` with that id (for a unique-property type such as contacts by email, a full
   refresh therefore creates nothing twice; for types without a unique property it *does* create
   duplicates of rows that still exist: use it for a new or emptied portal);
3. each batch is written ahead as ``pending`` before its first request and settled when answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from hubspot_loader import ledger as ledger_mod
from hubspot_loader.associations import resolve_association
from hubspot_loader.errors import (
    HubSpotError,
    HubSpotScopeError,
    HubSpotValidationError,
    parse_existing_id,
)
from hubspot_loader.formatting import format_series
from hubspot_loader.inputs import iter_prepared
from hubspot_loader.ledger import PendingRow, Settlement, SyncLedger, content_hash, default_portal
from hubspot_loader.model import (
    CREATED,
    FAILED,
    NOT_SENT,
    PLANNED,
    RECONCILED,
    SKIPPED,
    TRANSPORT_ERROR,
    AssociationColumn,
    BatchOutcome,
    LoadResult,
    PreparedInput,
    ResolvedAssociation,
    RowError,
    RowOutcome,
    RowOutcomes,
)
from hubspot_loader.preflight import PreflightError, Quarantine, run_preflight
from hubspot_loader.schemas import ValidationReport, validate_frame

if TYPE_CHECKING:
    import pandera.pandas as pa

    from hubspot_loader.client import HubSpotClient

PropertySpec = Sequence[str] | Mapping[str, str] | None
"""Which columns become HubSpot properties: a list of columns (same names), a column→property mapping,
or ``None`` for every column except the key and association columns."""

ProgressCallback = Callable[[BatchOutcome], None]

SyncMode = Literal["incremental", "full_refresh"]

PreflightMode = Literal["off", "block", "quarantine"]
"""How a load uses preflight: not at all, to block the whole load, or to hold back the bad rows."""

IN_DOUBT = "IN_DOUBT"
"""Error category of a row left in doubt by an earlier run that could not be reconciled (not sent)."""

#: Failure categories after which the row may nevertheless exist in HubSpot: the ledger keeps it pending.
IN_DOUBT_CATEGORIES = frozenset({TRANSPORT_ERROR, "UNMATCHED_RESULT"})

#: Object types whose built-in unique property is ``email``.
_CONTACT_TYPES = frozenset({"contacts", "contact", "0-1"})


class DataValidationError(ValueError):
    """The frame failed its pandera schema; nothing was sent.

    ``report`` holds one entry per failing (row key, column, check); ``str(error)`` names them.
    """

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.message)
        self.report = report


class LoadAborted(RuntimeError):
    """The load stopped part-way (authentication, missing scope, daily rate limit ...).

    ``result`` accounts for every row: those answered before the stop keep their outcome; the rest are
    failed with category ``NOT_SENT``. The original error is the ``__cause__``.
    """

    def __init__(self, message: str, result: LoadResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class LoadPlan:
    """The settled configuration of one load (what :func:`load_dataframe` sends and how)."""

    object_type: str
    properties: Mapping[str, str]
    associations: Sequence[ResolvedAssociation]
    key_column: str | None


def property_mapping(
    df: pd.DataFrame,
    properties: PropertySpec,
    *,
    key_column: str | None,
    associations: Sequence[AssociationColumn] = (),
) -> dict[str, str]:
    """Settle which columns are sent as which HubSpot properties.

    Raises:
        KeyError: a named column is not in the frame (the message lists the frame's columns).

    """
    if properties is None:
        excluded = {key_column, *(a.column for a in associations)}
        mapping = {str(c): str(c) for c in df.columns if c not in excluded}
    elif isinstance(properties, Mapping):
        mapping = {str(c): str(p) for c, p in properties.items()}
    else:
        mapping = {str(c): str(c) for c in properties}
    missing = [c for c in mapping if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame; it has {[str(c) for c in df.columns]}")
    return mapping


def resolve_associations(
    object_type: str,
    associations: Sequence[AssociationColumn],
    *,
    client: HubSpotClient | None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> list[ResolvedAssociation]:
    """Settle each association column's type id (looking labels up through ``client``) and id map."""
    resolved = []
    for column in associations:
        labels = None
        if column.label is not None and column.type_id is None:
            if client is None:
                raise ValueError(f"association column {column.column!r} uses a label; a client is needed")
            labels = client.association_labels(object_type, column.to_object_type)
        id_map = None
        if column.keys_from is not None:
            if id_maps is None or column.keys_from not in id_maps:
                raise ValueError(
                    f"association column {column.column!r} takes warehouse keys from {column.keys_from!r}, "
                    f"but no id map with that name was given (have: {sorted(id_maps or {})})"
                )
            id_map = id_maps[column.keys_from]
        resolved.append(resolve_association(object_type, column, labels, id_map))
    return resolved


def load_dataframe(
    df: pd.DataFrame,
    object_type: str,
    *,
    client: HubSpotClient | None,
    properties: PropertySpec = None,
    associations: Sequence[AssociationColumn] = (),
    key_column: str | None = None,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    unique_property: str | None = None,
    naive_timezone: str = "UTC",
    batch_size: int | None = None,
    dry_run: bool = False,
    preview_rows: int = 5,
    on_batch: ProgressCallback | None = None,
    ledger: SyncLedger | None = None,
    portal: str | None = None,
    sync_mode: SyncMode = "incremental",
    run_id: str | None = None,
    partition: str | None = None,
    preflight: PreflightMode = "off",
) -> LoadResult:
    """Validate ``df``, convert its rows and create them in HubSpot; return what happened to every row.

    Args:
        df: the rows to load, one HubSpot object per row.
        object_type: ``contacts``, ``companies``, ``0-3``, ``p_vendor`` ...
        client: the HTTP client (``None`` is allowed only for a dry run without label associations).
        properties: columns to send as properties (see :data:`PropertySpec`).
        associations: association columns (see :class:`~hubspot_loader.model.AssociationColumn`).
        key_column: the column holding each row's warehouse key (unique, non-null); it becomes the
            row's ``objectWriteTraceId`` and the key of the id map.
        schema: a pandera schema checked before anything is sent; the coerced frame is what is sent.
        id_maps: named warehouse-key → HubSpot-id maps for association columns with ``keys_from``.
        unique_property: a property with unique values (``email`` for contacts, or a custom external id
            with ``hasUniqueValue``) used to reconcile ambiguous failures without creating duplicates.
            When ``None`` and preflight runs, a sent property with ``hasUniqueValue`` is used (``email``
            first). Defaults to ``email`` for contacts when an ``email`` property is sent; for other types
            without one the result carries a warning (ambiguous failures are then resent, see
            :class:`~hubspot_loader.client.HubSpotClient` ``resend_ambiguous``).
        naive_timezone: the zone naive datetimes are taken to be in.
        batch_size: inputs per request (≤ 100); the client's default when ``None``.
        dry_run: validate and convert, keep the first ``preview_rows`` payloads, send nothing.
        preview_rows: how many payloads a dry run keeps.
        on_batch: called after every finished batch (progress reporting).
        ledger: the sync state (see the module docstring); needs ``key_column``. ``None``: every row is
            sent and nothing is remembered.
        portal: the portal identity the ledger keys rows by; default
            :func:`~hubspot_loader.ledger.default_portal` of the client's base URL and token fingerprint.
        sync_mode: ``incremental`` (skip rows already created) or ``full_refresh`` (send every row).
        run_id: recorded as the rows' first/last run; a random id when ``None``.
        partition: the partition key recorded with the rows sent (partitioned assets).
        preflight: check the frame against HubSpot's property definitions and association labels
            before sending (:mod:`hubspot_loader.preflight`): ``off``; ``block`` (any predicted failure
            raises :class:`~hubspot_loader.preflight.PreflightError`, nothing is sent); ``quarantine``
            (rows HubSpot would reject fail with category ``PREFLIGHT`` and are not sent; the rest load).

    Raises:
        DataValidationError: the frame failed ``schema``; nothing was sent.
        PreflightError: ``preflight="block"`` and preflight predicts failures (or, in ``quarantine``
            mode, a problem that is not about particular rows); nothing was sent.
        LoadAborted: the load stopped part-way; ``.result`` accounts for every row.
        ValueError: a ledger without ``key_column``, or an unknown ``sync_mode``.

    """
    if sync_mode not in ("incremental", "full_refresh"):
        raise ValueError(f"sync_mode must be 'incremental' or 'full_refresh', got {sync_mode!r}")
    if ledger is not None and key_column is None:
        raise ValueError("a ledger tracks rows by warehouse key: pass key_column")
    result = LoadResult(object_type=object_type, started=_now(), dry_run=dry_run)
    if isinstance(result.rows, RowOutcomes):
        result.rows.reserve(len(df))  # one outcome per row: the columns never move while they fill
    if schema is not None:
        report = validate_frame(df, schema, key_column)
        if not report.ok:
            raise DataValidationError(report)
        df = report.frame
    plan = LoadPlan(
        object_type=object_type,
        properties=property_mapping(df, properties, key_column=key_column, associations=associations),
        associations=resolve_associations(object_type, associations, client=client, id_maps=id_maps),
        key_column=key_column,
    )
    quarantine = _preflight(df, plan, client, associations, id_maps, naive_timezone, preflight, result)
    if quarantine is not None:
        df = quarantine.frame
    if unique_property is None and result.preflight is not None and client is not None:
        unique_property = _sent_unique_property(plan, client.properties(object_type))  # cached: no request
    if unique_property is None and object_type in _CONTACT_TYPES and "email" in plan.properties.values():
        unique_property = "email"
    sync: _Sync | None = None
    if ledger is not None:
        if portal is None:
            if client is None:
                raise ValueError("a ledger needs a portal identity: pass portal= or a client")
            portal = default_portal(client.base_url, client.token_fingerprint)
        sync = _Sync(
            ledger=ledger,
            portal=portal,
            object_type=object_type,
            mode=sync_mode,
            run_id=run_id or uuid.uuid4().hex,
            partition=partition,
            unique_property=unique_property,
        )
    try:
        _run(
            df,
            plan,
            result,
            client,
            naive_timezone,
            unique_property,
            batch_size,
            on_batch,
            sync,
            dry_run,
            preview_rows,
        )
    except LoadAborted as exc:
        if quarantine is not None:
            _restore_positions(exc.result, quarantine, key_column, sync)
            _sort_rows(exc.result)
        raise
    if quarantine is not None:
        _restore_positions(result, quarantine, key_column, sync)
    _sort_rows(result)
    result.batches.sort(key=lambda b: b.index)
    result.finished = _now()
    return result


def _sort_rows(result: LoadResult) -> None:
    """Put the row outcomes in position order (stable)."""
    rows = result.rows
    if isinstance(rows, RowOutcomes):
        rows.sort_by_position()
    else:
        result.rows = sorted(rows, key=lambda r: r.position)


def _run(
    df: pd.DataFrame,
    plan: LoadPlan,
    result: LoadResult,
    client: HubSpotClient | None,
    naive_timezone: str,
    unique_property: str | None,
    batch_size: int | None,
    on_batch: ProgressCallback | None,
    sync: _Sync | None,
    dry_run: bool,
    preview_rows: int,
) -> None:
    object_type = plan.object_type
    if dry_run:
        _plan_only(df, plan, result, naive_timezone, preview_rows, sync)
    else:
        if client is None:
            raise ValueError("a client is needed to send rows; pass dry_run=True to only validate")
        if unique_property is None:
            result.warnings.append(
                f"no unique property for {object_type}: a batch whose answer is lost (timeout, dropped "
                "connection) cannot be looked up before it is resent, so duplicates are possible"
                + ("" if client.resend_ambiguous else " (resend_ambiguous=False: such rows fail instead)")
                + "; create a unique external-id property (hasUniqueValue) in HubSpot, send it and pass "
                "unique_property"
            )
        _send(df, plan, result, client, naive_timezone, unique_property, batch_size, on_batch, sync)
        if result.batches and all(b.http_status is None for b in result.batches):
            first = next((r.error.message for r in result.rows if r.error is not None), "no answer")
            raise LoadAborted(
                f"HubSpot at {client.base_url} never answered the load of {object_type}: "
                f"{len(result.batches)} batch(es) got no HTTP response ({first}); every row is reported "
                "as failed",
                result,
            )


def _sent_unique_property(plan: LoadPlan, definitions: Sequence[Mapping[str, Any]]) -> str | None:
    """Return a property the load sends that HubSpot keeps unique (``hasUniqueValue``), if any."""
    unique = {str(d.get("name")) for d in definitions if d.get("hasUniqueValue")}
    sent = [prop for prop in plan.properties.values() if prop in unique]
    return "email" if "email" in sent else (sent[0] if sent else None)


def _preflight(
    df: pd.DataFrame,
    plan: LoadPlan,
    client: HubSpotClient | None,
    associations: Sequence[AssociationColumn],
    id_maps: Mapping[str, Mapping[str, str]] | None,
    naive_timezone: str,
    mode: PreflightMode,
    result: LoadResult,
) -> Quarantine | None:
    """Run preflight; raise in block mode, return the split in quarantine mode (``None``: nothing to do)."""
    if mode == "off":
        return None
    if mode not in ("block", "quarantine"):
        raise ValueError(f"preflight must be 'off', 'block' or 'quarantine', got {mode!r}")
    if client is None:
        result.warnings.append("preflight skipped: it needs a client to read HubSpot's property definitions")
        return None
    try:
        definitions = client.properties(plan.object_type)
    except HubSpotScopeError as exc:
        result.warnings.append(
            f"preflight skipped: the token may not read {plan.object_type} properties ({exc})"
        )
        return None
    labels: dict[str, Any] = {}
    for association in associations:
        if association.to_object_type in labels:
            continue
        try:
            labels[association.to_object_type] = client.association_labels(
                plan.object_type, association.to_object_type
            )
        except HubSpotValidationError:
            labels[association.to_object_type] = None  # HubSpot does not know that object type
    report = run_preflight(
        df,
        object_type=plan.object_type,
        definitions=definitions,
        mapping=plan.properties,
        key_column=plan.key_column,
        associations=associations,
        labels=labels,
        id_maps=id_maps,
        naive_timezone=naive_timezone,
    )
    result.preflight = report
    if report.ok:
        return None
    if mode == "block":
        raise PreflightError(report)
    return report.quarantine(df)


def _restore_positions(
    result: LoadResult, quarantine: Quarantine, key_column: str | None, sync: _Sync | None
) -> None:
    """Give the loaded rows back their source positions and add the quarantined rows.

    A quarantined row that an earlier run already created stays in HubSpot: it is reported ``SKIPPED``
    with its id (so the id map keeps it), not failed.
    """
    rejected = list(quarantine.rejected)
    rows = RowOutcomes()
    rows.reserve(len(result.rows) + len(rejected))
    rows.extend(quarantine.restore(row, key_column=key_column) for row in result.rows)
    if sync is not None and rejected:
        known = sync.ledger.lookup(sync.portal, sync.object_type, [r.key for r in rejected])
        rejected = [_skipped_if_created(r.key, r.position, r.trace_id, known, sync) or r for r in rejected]
    rows.extend(rejected)
    result.rows = rows


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _plan_only(
    df: pd.DataFrame,
    plan: LoadPlan,
    result: LoadResult,
    naive_timezone: str,
    preview_rows: int,
    sync: _Sync | None,
) -> None:
    for chunk in _chunks(df, plan, naive_timezone):
        known = sync.lookup(chunk) if sync is not None else {}
        for row in chunk.rejected:
            result.rows.append(_skipped_if_created(row.key, row.position, row.trace_id, known, sync) or row)
        for item in chunk.inputs:
            skipped = _skipped_if_created(item.key, item.position, item.trace_id, known, sync)
            if skipped is not None:
                result.rows.append(skipped)
                continue
            if len(result.payload_preview) < preview_rows:
                result.payload_preview.append(item.payload())
            result.rows.append(
                RowOutcome(key=item.key, position=item.position, status=PLANNED, trace_id=item.trace_id)
            )


def _chunks(df: pd.DataFrame, plan: LoadPlan, naive_timezone: str) -> Iterator[Any]:
    return iter_prepared(
        df,
        properties=plan.properties,
        associations=plan.associations,
        key_column=plan.key_column,
        naive_timezone=naive_timezone,
    )


@dataclass
class _Sync:
    """One load's view of the ledger: where its rows are recorded and how they are chosen."""

    ledger: SyncLedger
    portal: str
    object_type: str
    mode: SyncMode
    run_id: str
    partition: str | None
    unique_property: str | None
    unresolved: set[str] = field(default_factory=set)
    """Keys left in doubt by an earlier run that could not be reconciled: not sent in this run."""
    known: dict[str, ledger_mod.LedgerEntry] = field(default_factory=dict)
    """Ledger entries of the rows taken for sending (by key), until they are settled."""
    changed_skipped: int = 0

    def lookup(self, chunk: Any) -> dict[str, ledger_mod.LedgerEntry]:
        keys = [item.key for item in chunk.inputs] + [row.key for row in chunk.rejected]
        return self.ledger.lookup(self.portal, self.object_type, keys)

    def pending_row(self, item: PreparedInput) -> PendingRow:
        value = item.properties.get(self.unique_property) if self.unique_property else None
        return PendingRow(
            row_key=item.key,
            content_hash=content_hash(item.properties, item.associations),
            unique_property=self.unique_property if value else None,
            unique_value=str(value).strip() if value else None,
        )

    def write_ahead(self, index: int, rows: list[PreparedInput]) -> None:
        self.ledger.mark_pending(
            self.portal,
            self.object_type,
            [self.pending_row(r) for r in rows],
            run_id=self.run_id,
            partition=self.partition,
        )

    def settle(self, rows: Sequence[RowOutcome]) -> list[RowOutcome]:
        """Record the outcomes in the ledger; return them, with self-conflicts turned into SKIPPED."""
        settlements: list[Settlement] = []
        out: list[RowOutcome] = []
        for row in rows:
            entry = self.known.pop(row.key, None)
            prior_id = entry.hubspot_id if entry is not None else None
            error = row.error
            if row.status in (CREATED, RECONCILED) and row.hubspot_id:
                settlements.append(Settlement(row.key, ledger_mod.CREATED, hubspot_id=row.hubspot_id))
            elif error is not None and error.category in IN_DOUBT_CATEGORIES:
                settlements.append(
                    Settlement(row.key, ledger_mod.PENDING, hubspot_id=prior_id, error=error.message)
                )
            elif (
                prior_id is not None
                and error is not None
                and error.category == "CONFLICT"
                and parse_existing_id(error.message) == prior_id
            ):
                row = RowOutcome(
                    key=row.key,
                    position=row.position,
                    status=SKIPPED,
                    hubspot_id=prior_id,
                    trace_id=row.trace_id,
                    batch_index=row.batch_index,
                )
                settlements.append(Settlement(row.key, ledger_mod.CREATED, hubspot_id=prior_id))
            elif prior_id is not None and entry is not None and entry.status == ledger_mod.CREATED:
                # full refresh of a row that exists: the object stays; remember why the resend failed
                message = error.message if error is not None else row.status
                settlements.append(
                    Settlement(row.key, ledger_mod.CREATED, hubspot_id=prior_id, error=message)
                )
            else:
                message = error.message if error is not None else row.status
                settlements.append(Settlement(row.key, ledger_mod.FAILED, error=message))
            out.append(row)
        if settlements:
            self.ledger.settle(
                self.portal, self.object_type, settlements, run_id=self.run_id, partition=self.partition
            )
        return out

    def reconcile_in_doubt(self, client: HubSpotClient, result: LoadResult) -> None:
        """Settle the rows an interrupted earlier run left pending, before anything is sent."""
        doubtful = self.ledger.in_doubt(self.portal, self.object_type)
        if not doubtful:
            return
        by_prop: dict[str, list[ledger_mod.LedgerEntry]] = {}
        blind: list[ledger_mod.LedgerEntry] = []
        for entry in doubtful:
            if entry.unique_property and entry.unique_value:
                by_prop.setdefault(entry.unique_property, []).append(entry)
            else:
                blind.append(entry)
        settlements: list[Settlement] = []
        found_n = missing_n = 0
        for prop, entries in by_prop.items():
            try:
                found = client.find_by_unique(self.object_type, prop, [e.unique_value or "" for e in entries])
            except HubSpotError as exc:
                self.unresolved.update(e.row_key for e in entries)
                result.warnings.append(
                    f"{len(entries)} row(s) left in doubt by an earlier run could not be looked up by {prop} "
                    f"({exc}); they are not sent in this run"
                )
                continue
            values = [str(e.unique_value).strip().casefold() for e in entries]
            shared = {v for v in values if values.count(v) > 1}
            for entry, value in zip(entries, values, strict=True):
                if value in found and value not in shared:
                    settlements.append(Settlement(entry.row_key, ledger_mod.CREATED, hubspot_id=found[value]))
                    found_n += 1
                else:
                    message = f"in doubt after run {entry.last_run_id}; not found by {prop}: not created"
                    settlements.append(Settlement(entry.row_key, ledger_mod.FAILED, error=message))
                    missing_n += 1
        if blind:
            keys = [e.row_key for e in blind]
            if client.resend_ambiguous:
                settlements.extend(
                    Settlement(
                        k,
                        ledger_mod.FAILED,
                        error="in doubt after an interrupted run; no unique value to look it up by: resent",
                    )
                    for k in keys
                )
                result.warnings.append(
                    f"{len(blind)} row(s) left in doubt by an earlier run have no unique property value to "
                    "look them up by; they are sent again and may be duplicated in HubSpot"
                )
            else:
                self.unresolved.update(keys)
                result.warnings.append(
                    f"{len(blind)} row(s) left in doubt by an earlier run cannot be reconciled (no unique "
                    "property value) and resend_ambiguous=False: they stay pending and are not sent; check "
                    "them in HubSpot and settle them in the ledger"
                )
        if settlements:
            self.ledger.settle(self.portal, self.object_type, settlements, run_id=self.run_id)
        if found_n or missing_n:
            result.warnings.append(
                f"reconciled {found_n + missing_n} row(s) left in doubt by an earlier run: {found_n} found "
                f"in HubSpot (kept as created), {missing_n} not found (sent again if still in the frame)"
            )


def _skipped_if_created(
    key: str,
    position: int,
    trace_id: str | None,
    known: Mapping[str, ledger_mod.LedgerEntry],
    sync: _Sync | None,
) -> RowOutcome | None:
    """Return a SKIPPED outcome when incremental mode finds the row's key created in the ledger."""
    if sync is None or sync.mode != "incremental":
        return None
    entry = known.get(key)
    if entry is None or entry.status != ledger_mod.CREATED or not entry.hubspot_id:
        return None
    return RowOutcome(
        key=key, position=position, status=SKIPPED, hubspot_id=entry.hubspot_id, trace_id=trace_id
    )


def _send(
    df: pd.DataFrame,
    plan: LoadPlan,
    result: LoadResult,
    client: HubSpotClient,
    naive_timezone: str,
    unique_property: str | None,
    batch_size: int | None,
    on_batch: ProgressCallback | None,
    sync: _Sync | None = None,
) -> None:
    pending: dict[str, PreparedInput] = {}
    if sync is not None:
        sync.reconcile_in_doubt(client, result)

    def inputs() -> Iterator[PreparedInput]:
        for chunk in _chunks(df, plan, naive_timezone):
            if sync is None:
                result.rows.extend(chunk.rejected)
                yield from _taken(chunk.inputs, pending)
                continue
            known = sync.lookup(chunk)
            rejected = []
            for row in chunk.rejected:
                skipped = _skipped_if_created(row.key, row.position, row.trace_id, known, sync)
                if skipped is not None:
                    result.rows.append(skipped)
                else:
                    if row.key in known:
                        sync.known[row.key] = known[row.key]
                    rejected.append(row)
            if rejected:
                result.rows.extend(sync.settle(rejected))
            to_send = []
            for item in chunk.inputs:
                skipped = _skipped_if_created(item.key, item.position, item.trace_id, known, sync)
                if skipped is not None:
                    entry = known[item.key]
                    if entry.content_hash and entry.content_hash != content_hash(
                        item.properties, item.associations
                    ):
                        sync.changed_skipped += 1
                    result.rows.append(skipped)
                elif item.key in sync.unresolved:
                    result.rows.append(_in_doubt(item))
                else:
                    if item.key in known:
                        sync.known[item.key] = known[item.key]
                    to_send.append(item)
            yield from _taken(to_send, pending)

    def handle(outcome: BatchOutcome) -> None:
        rows = sync.settle(outcome.rows) if sync is not None else outcome.rows
        result.batches.append(outcome.record)
        result.rows.extend(rows)
        for row in rows:
            if row.trace_id is not None:
                pending.pop(row.trace_id, None)
        if on_batch is not None:
            on_batch(outcome)

    try:
        for outcome in client.batch_create(
            plan.object_type,
            inputs(),
            unique_property=unique_property,
            batch_size=batch_size,
            before_send=sync.write_ahead if sync is not None else None,
        ):
            handle(outcome)
    except Exception as exc:
        _account_for_unsent(df, plan.key_column, result, pending, exc)
        raise LoadAborted(f"load of {plan.object_type} stopped: {exc}", result) from exc
    finally:
        if sync is not None and sync.changed_skipped:
            result.warnings.append(
                f"{sync.changed_skipped} skipped row(s) changed since they were created; this loader only "
                "creates, so HubSpot keeps their old values"
            )


def _taken(items: Sequence[PreparedInput], pending: dict[str, PreparedInput]) -> Iterator[PreparedInput]:
    for item in items:
        pending[item.trace_id] = item
        yield item


def _in_doubt(item: PreparedInput) -> RowOutcome:
    return RowOutcome(
        key=item.key,
        position=item.position,
        status=FAILED,
        error=RowError(
            category=IN_DOUBT,
            message="not sent: an earlier run may have created this row and it could not be looked up",
        ),
        trace_id=item.trace_id,
    )


def _account_for_unsent(
    df: pd.DataFrame,
    key_column: str | None,
    result: LoadResult,
    pending: dict[str, PreparedInput],
    exc: Exception,
) -> None:
    """Give every row without an outcome a NOT_SENT failure, so no row goes unreported."""
    error = RowError(category=NOT_SENT, message=f"not sent: the load stopped ({type(exc).__name__}: {exc})")
    for item in pending.values():
        result.rows.append(
            RowOutcome(
                key=item.key, position=item.position, status=FAILED, error=error, trace_id=item.trace_id
            )
        )
    rows = result.rows
    seen = set(rows.positions()) if isinstance(rows, RowOutcomes) else {r.position for r in rows}
    keys = format_series(df[key_column], column=key_column).values if key_column is not None else None
    for position in range(len(df)):
        if position not in seen:
            key = (keys[position] if keys is not None else None) or str(position)
            result.rows.append(RowOutcome(key=key, position=position, status=FAILED, error=error))
