"""Load a DataFrame into HubSpot without Dagster: validate, convert, send, account for every row.

:func:`load_dataframe` is the one place that strings the pure core (validation, conversion) and the HTTP
client together. The Dagster asset factory and the CLI both call it, so they behave the same.

With a :class:`~hubspot_loader.state.ledger.SyncLedger` a load is incremental and crash-safe
(``docs/ledger.md``):

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

Options in detail:

- Column names are compared as text (:mod:`hubspot_loader.core.plan`): a column labelled ``0`` is ``"0"`` in
  ``properties``, ``key_column`` and association columns; two columns with the same name are refused.
- ``schema`` runs before anything is sent, on the frame as given (its own column labels); the coerced
  frame is what is sent.
- ``unique_property`` (``email`` for contacts, or a custom external id with ``hasUniqueValue``) lets
  ambiguous failures be reconciled without creating duplicates. When ``None`` and preflight runs, a
  sent property with ``hasUniqueValue`` is used (``email`` first); contacts default to ``email`` when
  an ``email`` property is sent; other types without one get a warning in the result (ambiguous
  failures are then resent, see :class:`~hubspot_loader.http.client.HubSpotClient` ``resend_ambiguous``).
- ``portal`` defaults to :func:`~hubspot_loader.state.ledger.default_portal` of the client's base URL and
  token fingerprint.
- ``preflight`` checks the frame against HubSpot's property definitions and association labels before
  sending (:mod:`hubspot_loader.core.preflight`): ``off``; ``block`` (any predicted failure raises
  :class:`~hubspot_loader.core.preflight.PreflightError`, nothing is sent); ``quarantine`` (rows HubSpot
  would reject fail with category ``PREFLIGHT`` and are not sent; the rest load). A token that may not
  read the definitions (403) skips preflight with a warning.

Failure model (the README's): a problem with the options or the frame's shape raises a
:class:`~hubspot_loader.errors.LoadUsageError` before anything is sent; a bad cell fails its row; a
stop (token refused, missing scope, daily limit, no answer) raises :class:`LoadAborted`, whose result
keeps the rows created before it and fails the rest ``NOT_SENT``. In detail, :func:`load_dataframe`
raises nothing but:

- :class:`~hubspot_loader.errors.LoadUsageError` (a ``ValueError``): the options do not fit the frame;
  nothing was sent. Subclasses: :class:`~hubspot_loader.errors.DuplicateColumnsError` (two columns
  with one name), :class:`~hubspot_loader.errors.MissingColumnsError` (a named column is not in the
  frame; also a ``KeyError``), :class:`~hubspot_loader.errors.InvalidKeysError` (null, duplicate or
  unreadable keys). Also: a column label with no text form, an unknown ``sync_mode``, ``preflight``
  or ``naive_timezone``, a ``batch_size`` outside 1-100, a ledger without ``key_column``, a label
  association or a send without a client, a missing id map, a property name or an id-map id that is
  not valid Unicode text, an association pair without a default type or a label HubSpot does not have.
- :class:`DataValidationError`: the frame failed ``schema`` (or the schema could not run on it).
- :class:`~hubspot_loader.core.preflight.PreflightError`: ``preflight="block"`` and preflight predicts
  failures (or, in either mode, a problem no quarantine removes); nothing was sent.
- :class:`LoadAborted`: HubSpot refused the token (401) on any request; a scope (403) on a write, on
  the label lookup of a label association or on the lookup of rows an earlier run left in doubt (a 403
  on preflight's reads only skips preflight, with a warning); the daily limit; or no answer.
  ``str()`` is one line saying what to do; ``.result`` keeps the rows created before the stop and
  fails every other row (``NOT_SENT`` when it was never sent; the rows of the refused batch carry
  HubSpot's error).

Every cell that cannot be converted fails its own row (category ``INVALID_VALUE``, with the column and
the reason); HubSpot's rejections fail their rows; neither raises. Errors of the ledger's own storage
(e.g. ``sqlite3.Error``) and errors raised by ``on_batch`` stop the load as :class:`LoadAborted` while
rows are being sent; outside that (the lookups of a dry run, the reconciliation before sending) a
storage error propagates unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.budget_step import shared_rate_budget
from hubspot_loader.core.inputs import PreparedChunk, RowKeys, keys_at
from hubspot_loader.core.model import (
    PLANNED,
    AssociationColumn,
    BatchOutcome,
    LoadResult,
    PreparedInput,
    RecordRef,
    RowOutcome,
)
from hubspot_loader.core.plan import LoadPlan as LoadPlan
from hubspot_loader.core.plan import PropertySpec as PropertySpec
from hubspot_loader.core.plan import (
    check_column_names,
    checked_keys,
    labels_to_read,
    prepared_chunks,
    text_associations,
    with_text_names,
)
from hubspot_loader.core.plan import property_mapping as property_mapping
from hubspot_loader.core.plan import resolve_associations as resolve_associations
from hubspot_loader.core.preflight import Quarantine
from hubspot_loader.core.spec import HubSpotLoadSpec as HubSpotLoadSpec
from hubspot_loader.core.stops import LoadAborted as LoadAborted
from hubspot_loader.core.stops import aborted, one_line, read_scope, stop_reason, write_scope
from hubspot_loader.core.validation import DataValidationError as DataValidationError
from hubspot_loader.core.validation import validated
from hubspot_loader.errors import HubSpotError, LoadUsageError
from hubspot_loader.key_property import plan_with_key_property
from hubspot_loader.load_request import LoadRequest, legacy_arguments, resolved_schema
from hubspot_loader.load_request import LoadRun as LoadRun
from hubspot_loader.load_request import ProgressCallback as ProgressCallback
from hubspot_loader.mirror_step import archive, vanished_records
from hubspot_loader.preflight_step import (
    PreflightContext,
    restore_positions,
    run_preflight_step,
    unique_property_for,
)
from hubspot_loader.preflight_step import PreflightMode as PreflightMode
from hubspot_loader.row_choice import rows_to_create
from hubspot_loader.state.leases import LeaseKeeper, new_owner
from hubspot_loader.state.ledger import SyncLedger, default_portal
from hubspot_loader.state.sync import IN_DOUBT as IN_DOUBT
from hubspot_loader.state.sync import IN_DOUBT_CATEGORIES as IN_DOUBT_CATEGORIES
from hubspot_loader.state.sync import LoadSync, skipped_if_created
from hubspot_loader.sync_step import SyncWrites, unchanged_if_same

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient


def load_dataframe(
    df: pd.DataFrame,
    spec: HubSpotLoadSpec | str,
    *,
    client: HubSpotClient | None = None,
    ledger: SyncLedger | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    run: LoadRun | None = None,
    dry_run: bool = False,
    **deprecated: Any,
) -> LoadResult:
    """Validate ``df``, convert its rows and create them in HubSpot; return what happened to every row.

    Args:
        df: the rows, one HubSpot object each (column names compared as text: see the module docstring).
        spec: what is loaded (:class:`~hubspot_loader.core.spec.HubSpotLoadSpec`).
        client: the HTTP client (``None`` is allowed only for a dry run without label associations).
        ledger: the sync state (module docstring); needs ``spec.key_column``. ``None``: nothing is kept.
        id_maps: named warehouse-key → HubSpot-id maps for association columns with ``keys_from``.
        run: the run's identity and reporting (:class:`LoadRun`); defaults when ``None``.
        dry_run: validate and convert, keep the first ``run.preview_rows`` payloads, send nothing.
        deprecated: the keyword options of the old signature ``load_dataframe(df, object_type, ...)``,
            accepted with a ``DeprecationWarning`` for one release (:func:`legacy_arguments`).

    Raises:
        LoadUsageError: the options do not fit the frame; nothing was sent (every case: module docstring).
        DataValidationError: the frame failed ``spec.schema``; nothing was sent.
        PreflightError: ``spec.preflight="block"`` and preflight predicts failures; nothing was sent.
        LoadAborted: the load stopped part-way; ``.result`` accounts for every row.

    """
    if isinstance(spec, str) or deprecated:
        spec, run = legacy_arguments(spec, run, deprecated)
    if not isinstance(spec, HubSpotLoadSpec):
        raise LoadUsageError(f"spec must be a HubSpotLoadSpec, got {type(spec).__name__}")
    run = run or LoadRun()
    with shared_rate_budget(client, None if dry_run else ledger, enabled=run.share_rate_budget):
        return _load(LoadRequest(df, spec, client, ledger, id_maps, run, dry_run))


def _load(request: LoadRequest) -> LoadResult:
    spec, client, run = request.spec, request.client, request.run
    if request.ledger is not None and spec.key_column is None:
        raise LoadUsageError("a ledger tracks rows by warehouse key: pass key_column")
    df = request.df
    check_column_names(df)
    result = _new_result(spec.object_type, request.dry_run, len(df))
    key_column = spec.key_column
    if spec.schema is not None:
        df = validated(df, resolved_schema(spec.schema), key_column)
    df = with_text_names(df)
    associations = text_associations(spec.associations)
    plan = _plan(
        df, spec.object_type, client, spec.properties, associations, key_column, request.id_maps, result
    )
    if spec.key_property is not None:
        try:
            plan = plan_with_key_property(df, plan, client, spec.key_property, result, request.dry_run)
        except LoadAborted as exc:
            raise _finished(exc) from exc.__cause__
    keys = checked_keys(df, key_column, spec.naive_timezone)  # once; before preflight, as without it
    # the sync exists before preflight: online preflight reads the ledger (rows it skips, rows' own records)
    sync = _sync(request.ledger, client, spec.object_type, run, spec.unique_property, len(df))
    if spec.write_mode != "create" and sync is None:
        raise LoadUsageError(
            f"write_mode={spec.write_mode!r} compares rows with what the last sync sent: pass a ledger"
        )
    # mirror: the source's keys before preflight or conversion hold any back (those rows are still in it)
    source = _Source(set(map(str, keys or ())) if spec.write_mode == "mirror" else set(), len(df))
    preflight = PreflightContext(
        plan, client, associations, request.id_maps, spec.naive_timezone, spec.preflight,
        batch_size=spec.batch_size, sync=sync, adopts=spec.write_mode != "create",
    )  # fmt: skip
    try:
        quarantine = run_preflight_step(df, preflight, result)
    except LoadAborted as exc:
        raise _finished(exc) from exc.__cause__
    if quarantine is not None:
        df, keys = quarantine.frame, None if keys is None else keys_at(keys, quarantine.positions)
    unique_property = spec.unique_property or spec.key_property
    if unique_property is None:  # definitions preflight read are cached: no request
        definitions = client.properties(spec.object_type) if client and result.preflight is not None else None
        unique_property = unique_property_for(spec.object_type, plan.properties.values(), definitions)
    if sync is not None:
        sync.unique_property = unique_property
    writes = None
    if sync is not None and spec.write_mode != "create":
        writes = SyncWrites(spec, plan, sync, result, full_refresh=run.sync_mode == "full_refresh")
    result.write_mode = spec.write_mode
    job = _Job(
        df,
        plan,
        result,
        client,
        spec.naive_timezone,
        unique_property,
        spec.batch_size,
        run.on_batch,
        sync,
        keys,
        writes,
        source,
        spec,
    )
    _run_all(job, quarantine, request.dry_run, run.preview_rows)
    return result


def _new_result(object_type: str, dry_run: bool, rows: int) -> LoadResult:
    result = LoadResult(object_type=object_type, started=_now(), dry_run=dry_run)
    result.rows.reserve(rows)  # one outcome per row: the columns never move while they fill
    return result


def _plan(
    df: pd.DataFrame,
    object_type: str,
    client: HubSpotClient | None,
    properties: PropertySpec,
    associations: Sequence[AssociationColumn],
    key_column: str | None,
    id_maps: Mapping[str, Mapping[str, str]] | None,
    result: LoadResult,
) -> LoadPlan:
    """Settle the properties and the associations, reading the association labels through ``client``.

    Raises:
        LoadUsageError: see :func:`~hubspot_loader.core.plan.property_mapping` and
            :func:`~hubspot_loader.core.plan.resolve_associations`.
        LoadAborted: the labels could not be read (every row ``NOT_SENT``).

    """
    mapping = property_mapping(df, properties, key_column=key_column, associations=associations)
    labels: dict[str, list[dict[str, Any]]] = {}  # without a client, a label is a usage error below
    try:
        for target in labels_to_read(associations):
            if client is not None:
                labels[target] = client.association_labels(object_type, target)
    except HubSpotError as exc:
        doing = f"reading the association labels of {object_type}"
        message = stop_reason(exc, object_type, doing=doing, scope=read_scope(object_type))
        raise _finished(aborted(df, key_column, result, message)) from exc
    resolved = resolve_associations(object_type, associations, labels=labels, id_maps=id_maps)
    return LoadPlan(object_type, mapping, resolved, key_column)


def _run_all(job: _Job, quarantine: Quarantine | None, dry_run: bool, preview_rows: int) -> None:
    """Run the load; give the rows of a quarantined frame back their source positions; order the result."""
    key_column, result = job.plan.key_column, job.result
    try:
        _run(job, dry_run, preview_rows)
    except LoadAborted as exc:
        if quarantine is not None:
            restore_positions(exc.result, quarantine, key_column, job.sync)
        raise _finished(exc) from exc.__cause__
    finally:
        lease = job.sync.lease if job.sync is not None else None
        if lease is not None and lease.started:
            lease.close()  # its rows in doubt are free for the next run to reconcile
    if quarantine is not None:
        restore_positions(result, quarantine, key_column, job.sync)
    _finish(result)


def _sync(
    ledger: SyncLedger | None,
    client: HubSpotClient | None,
    object_type: str,
    run: LoadRun,
    unique_property: str | None,
    rows: int,
) -> LoadSync | None:
    if ledger is None:
        return None
    if (portal := run.portal) is None:
        if client is None:
            raise LoadUsageError("a ledger needs a portal identity: pass LoadRun(portal=...) or a client")
        portal = default_portal(client.base_url, client.token_fingerprint)
    run_id = run.run_id or uuid.uuid4().hex
    return LoadSync(
        ledger=ledger,
        portal=portal,
        object_type=object_type,
        mode=run.sync_mode,
        run_id=run_id,
        partition=run.partition,
        unique_property=unique_property,
        lease=LeaseKeeper(ledger, new_owner(run_id), run.lease_seconds),
        rows_expected=rows,
    )


def _finish(result: LoadResult) -> None:
    """Put the rows in position order and the batches in batch order; stamp the end time."""
    result.rows.sort_by_position()
    result.batches.sort(key=lambda b: b.index)
    result.finished = _now()


def _finished(exc: LoadAborted) -> LoadAborted:
    _finish(exc.result)
    return exc


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Job:
    """One load under way: what it sends, through which client, and what happened so far."""

    df: pd.DataFrame
    plan: LoadPlan
    result: LoadResult
    client: HubSpotClient | None
    naive_timezone: str
    unique_property: str | None
    batch_size: int | None
    on_batch: ProgressCallback | None
    sync: LoadSync | None
    keys: RowKeys | None
    """The rows' keys, checked once (:func:`~hubspot_loader.core.plan.checked_keys`)."""
    writes: SyncWrites | None
    """The sync modes' updates, adoptions and association changes (``None`` in create mode)."""
    source: _Source
    """What mirror mode compares the ledger with (the records to archive are found after reconciling)."""
    spec: HubSpotLoadSpec
    vanished: list[RecordRef] = field(default_factory=list)
    """Mirror mode: the records to archive (:func:`~hubspot_loader.sync_step.vanished_records`)."""
    pending: dict[str, PreparedInput] = field(default_factory=dict)
    """Inputs handed to the client whose batch has not finished (by trace id)."""

    def stop(self, exc: BaseException, *, doing: str, scope: str) -> LoadAborted:
        """Account for every row not yet answered and return the :class:`LoadAborted` to raise."""
        message = stop_reason(exc, self.plan.object_type, doing=doing, scope=scope)
        return aborted(self.df, self.plan.key_column, self.result, message, self.pending.values())


def _run(job: _Job, dry_run: bool, preview_rows: int) -> None:
    object_type = job.plan.object_type
    chunks = prepared_chunks(job.df, job.plan, job.naive_timezone, job.keys)
    if dry_run:
        _plan_only(job, chunks, preview_rows)
        return
    client = job.client
    if client is None:
        raise LoadUsageError("a client is needed to send rows; pass dry_run=True to only validate")
    if job.unique_property is None:
        job.result.warnings.append(
            f"no unique property for {object_type}: a batch whose answer is lost (timeout, dropped "
            "connection) cannot be looked up before it is resent, so duplicates are possible"
            + ("" if client.resend_ambiguous else " (resend_ambiguous=False: such rows fail instead)")
            + "; create a unique external-id property (hasUniqueValue) in HubSpot, send it and pass "
            "unique_property"
        )
    if job.sync is not None:
        if job.sync.lease is not None:
            job.sync.lease.start()  # renewed while the load runs; ended in _run_all
        try:
            job.sync.reconcile_in_doubt(client, job.result)
        except HubSpotError as exc:
            doing = f"looking up the {object_type} rows an earlier run left in doubt"
            raise job.stop(exc, doing=doing, scope=read_scope(object_type)) from exc
        job.vanished = _vanished(job, job.sync)  # after reconciling: rows found then may have left the source
    _send(job, client, chunks)
    batches = job.result.batches
    sent = [b for b in batches if b.requests]  # a batch whose rows were all refused before sending has none
    if sent and not any(b.http_status is not None or b.created for b in batches):
        rows = job.result.rows
        first = next((r.error.message for r in rows if r.error is not None), "no answer")
        message = (
            f"load of {object_type} stopped: HubSpot at {client.base_url} never answered: "
            f"{len(sent)} batch(es) got no HTTP response ({first}); every row sent is reported as failed; "
            "check the base URL and the network"
        )
        job.result.stopped = one_line(message)
        raise LoadAborted(job.result.stopped, job.result)


def _plan_only(job: _Job, chunks: Iterator[PreparedChunk], preview_rows: int) -> None:
    result, sync = job.result, job.sync
    if sync is not None:
        archive(None, sync, _vanished(job, sync), result, dry_run=True)
    for chunk in chunks:
        known = sync.lookup(chunk) if sync is not None else {}
        for row in chunk.rejected:
            result.rows.append(skipped_if_created(row.key, row.position, row.trace_id, known, sync) or row)
        for item in chunk.inputs:
            skipped = skipped_if_created(item.key, item.position, item.trace_id, known, sync)
            if job.writes is not None:
                skipped = unchanged_if_same(item, known.get(item.key), chunk.prints)
            if skipped is not None:
                result.rows.append(skipped)
                continue
            if len(result.payload_preview) < preview_rows:
                result.payload_preview.append(item.payload())
            result.rows.append(
                RowOutcome(key=item.key, position=item.position, status=PLANNED, trace_id=item.trace_id)
            )


@dataclass(frozen=True)
class _Source:
    """The source's keys (mirror mode only) and row count, as the load was given them."""

    keys: set[str]
    rows: int


def _vanished(job: _Job, sync: LoadSync) -> list[RecordRef]:
    """Return the records mirror mode archives (:func:`~hubspot_loader.sync_step.vanished_records`)."""
    return vanished_records(sync, job.spec, job.source.keys, job.source.rows)


def _send(job: _Job, client: HubSpotClient, chunks: Iterator[PreparedChunk]) -> None:
    result, sync, pending = job.result, job.sync, job.pending

    def inputs() -> Iterator[PreparedInput]:
        for chunk in chunks:
            if sync is None:
                result.rows.extend(chunk.rejected)
                yield from _taken(chunk.inputs, pending)
            else:
                yield from _taken(rows_to_create(chunk, sync, result, job.writes, client), pending)

    def handle(outcome: BatchOutcome) -> None:
        rows = outcome.rows
        if job.writes is not None:
            rows = job.writes.held_conflicts(rows, pending)
        rows = sync.settle(rows) if sync is not None else rows
        result.batches.append(outcome.record)
        result.rows.extend(rows)
        for row in rows:
            if row.trace_id is not None:
                pending.pop(row.trace_id, None)
        if job.on_batch is not None:
            job.on_batch(outcome)

    try:
        for outcome in client.batch_create(
            job.plan.object_type,
            inputs(),
            unique_property=job.unique_property,
            batch_size=job.batch_size,
            before_send=sync.write_ahead if sync is not None else None,
        ):
            handle(outcome)
        if job.writes is not None and sync is not None:
            job.writes.adopt_conflicts(client, sync.prints)
            job.writes.write(client, job.on_batch, job.batch_size)
            archive(client, sync, job.vanished, result, dry_run=False)
    except Exception as exc:  # every stop, whatever its kind, keeps what was created and reports the rest
        object_type = job.plan.object_type
        raise job.stop(exc, doing=f"creating {object_type}", scope=write_scope(object_type)) from exc
    finally:
        if sync is not None and sync.changed_skipped:
            result.warnings.append(
                f"{sync.changed_skipped} skipped row(s) changed since they were created; write_mode is "
                "'create', so HubSpot keeps their old values (write_mode='upsert' updates them)"
            )


def _taken(items: Sequence[PreparedInput], pending: dict[str, PreparedInput]) -> Iterator[PreparedInput]:
    for item in items:
        pending[item.trace_id] = item
        yield item
