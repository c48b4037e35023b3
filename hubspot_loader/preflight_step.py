"""The preflight step of :func:`hubspot_loader.load.load_dataframe`.

It reads HubSpot's definitions, checks the frame, reads the existing records HubSpot's answer depends on
(online modes), holds back (or blocks on) the rows HubSpot would reject, and gives the loaded rows back
their positions.

Online preflight (``quarantine``, ``block``) reads, for the rows that pass the definitions:

- the unique values they send (a contact's ``email``, any ``hasUniqueValue`` property): a value an
  existing record holds fails its row as HubSpot's 409 would (``CONFLICT``, naming the record);
- the record ids of association columns without ``keys_from``: an id that does not exist fails its row as
  HubSpot's 400 would (``INVALID_OBJECT_IDS``). Ids an id map of this run holds need no read.

Rows the sync ledger will not send (created by an earlier run, incremental) are not read, and no row is
flagged against its own record (the id the ledger holds for its key, or the record an in-doubt earlier
attempt created, which the load then adopts). The reads go through the load's client and rate limiter
and may spend at most :data:`LOOKUP_SHARE` of the load's expected write requests (at least
:data:`MIN_LOOKUP_REQUESTS`); what they cost is in ``result.preflight.cost``.

The reads follow the failure model: a token refused (401), HubSpot unreachable or the daily limit stops the
load (:class:`~hubspot_loader.core.stops.LoadAborted`, every row ``NOT_SENT``); a token that may not read
the definitions (403) skips preflight with a warning naming the scope, and the rows go to HubSpot, which
judges them; a lookup HubSpot refuses (403, 400, 404, 5xx after retries) leaves those rows unchecked,
with a warning. A preflight that fails unexpectedly on this frame is skipped the same way in the
quarantine modes and blocks the load in the block modes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.core.associations import normalize_object_type
from hubspot_loader.core.model import AssociationColumn, LoadResult
from hubspot_loader.core.plan import LoadPlan
from hubspot_loader.core.preflight import (
    BlockingProblem,
    ExistingRecords,
    KnownRow,
    LookupPlan,
    PreflightChecks,
    PreflightCost,
    PreflightError,
    PreflightReport,
    PreflightRequest,
    Quarantine,
)
from hubspot_loader.core.preflight.existing import unique_key
from hubspot_loader.core.row_store import RowOutcomes
from hubspot_loader.core.spec import PreflightMode as PreflightMode
from hubspot_loader.core.stops import LoadAborted, aborted, read_scope, schema_read_scope, stop_reason
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotScopeError,
    HubSpotTransportError,
    HubSpotValidationError,
)
from hubspot_loader.http.reads import RecordReader, RecordsRead
from hubspot_loader.state import ledger as ledger_mod
from hubspot_loader.state.sync import LoadSync, skipped_if_created

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient


PREFLIGHT_FAILED = "PREFLIGHT_FAILED"
"""Code of the blocking problem when preflight itself fails on a frame (block modes)."""

ONLINE_MODES = frozenset({"quarantine", "block"})
"""The modes that read existing records."""
BLOCK_MODES = frozenset({"block", "offline_block"})
"""The modes in which any predicted failure stops the load."""

LOOKUP_SHARE = 0.05
"""Online preflight's reads of existing records may take at most this share of the load's expected write
requests (one per ``batch_size`` rows to send)."""
MIN_LOOKUP_REQUESTS = 25
"""... or this many requests, whichever is more: a row HubSpot refuses whole-batch (409, 400) costs the load
several requests to isolate, so small loads are better checked in full."""


@dataclass(frozen=True)
class PreflightContext:
    """How the load runs preflight: its plan, client, associations, id maps, mode and sync state."""

    plan: LoadPlan
    client: HubSpotClient | None
    associations: Sequence[AssociationColumn]
    id_maps: Mapping[str, Mapping[str, str]] | None
    naive_timezone: str
    mode: PreflightMode
    batch_size: int | None = None
    """Inputs per write request (``None``: the client's); sizes the lookup budget."""
    sync: LoadSync | None = None
    """The load's view of the ledger: rows it will skip are not read, rows it created are not flagged."""
    adopts: bool = False
    """The sync modes adopt records that hold a row's unique value instead of failing the row: their unique
    values are not read (``CONFLICT`` is never predicted); association targets still are."""


class _Skip(Exception):
    """Preflight cannot run; the message is the warning to record."""


class _NotPreflights(Exception):
    """An error that is not preflight's own (the ledger's storage): the step re-raises ``error`` unchanged."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def run_preflight_step(df: pd.DataFrame, context: PreflightContext, result: LoadResult) -> Quarantine | None:
    """Run preflight; raise in the block modes, return the split in the others (``None``: nothing to hold).

    Raises:
        PreflightError: a block mode and rows would be rejected, or a problem no quarantine removes.
        LoadAborted: a read was refused (401), got no answer, or hit the daily limit.

    """
    mode, plan, client = context.mode, context.plan, context.client
    if mode == "off":
        return None
    if client is None:
        result.warnings.append("preflight skipped: it needs a client to read HubSpot's property definitions")
        return None
    started, sent_before = time.monotonic(), client.requests_sent
    try:
        definitions, labels = _definitions(plan, client, context.associations)
    except _Skip as skip:
        result.warnings.append(str(skip))
        return None
    except HubSpotError as exc:
        doing = f"reading the {plan.object_type} property definitions and association labels (preflight)"
        message = stop_reason(exc, plan.object_type, doing=doing, scope=schema_read_scope(plan.object_type))
        raise aborted(df, plan.key_column, result, message) from exc
    cost = PreflightCost()
    try:
        request = PreflightRequest(
            df,
            plan.object_type,
            definitions,
            plan.properties,
            key_column=plan.key_column,
            associations=context.associations,
            labels=labels,
            id_maps=context.id_maps,
            naive_timezone=context.naive_timezone,
        )
        checks = PreflightChecks(request)
        existing = _read_existing(df, checks, context, client, result, cost) if mode in ONLINE_MODES else None
        report = checks.report(existing)
    except LoadAborted:
        raise
    except _NotPreflights as wrapped:
        raise wrapped.error from None
    except Exception as exc:  # a frame preflight cannot check: HubSpot judges it (or block says so)
        _failed(exc, mode, plan, df, result)
        return None
    cost.requests = client.requests_sent - sent_before
    cost.seconds = time.monotonic() - started
    report.cost = cost
    result.preflight = report
    if report.ok:
        return None
    if mode in BLOCK_MODES:
        raise PreflightError(report)
    return report.quarantine(df)


def _failed(exc: BaseException, mode: str, plan: LoadPlan, df: pd.DataFrame, result: LoadResult) -> None:
    """Block on a preflight that could not check the frame (block modes), or skip it with a warning."""
    reason = f"preflight could not check this frame ({type(exc).__name__}: {exc})"
    if mode in BLOCK_MODES:
        problem = BlockingProblem(PREFLIGHT_FAILED, reason + "; nothing was sent")
        raise PreflightError(
            PreflightReport(object_type=plan.object_type, rows_total=len(df), blocking=[problem])
        ) from exc
    result.warnings.append(f"preflight skipped: {reason}; HubSpot judges the rows")


def _definitions(
    plan: LoadPlan, client: HubSpotClient, associations: Sequence[AssociationColumn]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read the property definitions and the association labels preflight needs.

    Raises:
        _Skip: the token may not read them (403).
        HubSpotError: any other failure (the load stops).

    """
    object_type = plan.object_type
    try:
        definitions = client.properties(object_type)
    except HubSpotScopeError as exc:
        raise _Skip(
            f"preflight skipped: the token may not read the {object_type} property definitions; grant "
            f"{schema_read_scope(object_type)} to check the rows before sending ({exc})"
        ) from exc
    labels: dict[str, Any] = {}
    for association in associations:
        target = association.to_object_type
        if target in labels:
            continue
        try:
            labels[target] = client.association_labels(object_type, target)
        except HubSpotValidationError:
            labels[target] = None  # HubSpot does not know that object type
        except HubSpotScopeError as exc:
            raise _Skip(
                f"preflight skipped: the token may not read the {object_type} → {target} association "
                f"labels; grant {read_scope(object_type)} to check them before sending ({exc})"
            ) from exc
    return definitions, labels


def lookup_budget(rows_to_send: int, batch_size: int) -> int:
    """Return the most lookup requests a load of ``rows_to_send`` rows may spend (:data:`LOOKUP_SHARE`)."""
    writes = math.ceil(max(rows_to_send, 0) / max(batch_size, 1))
    return max(MIN_LOOKUP_REQUESTS, math.floor(LOOKUP_SHARE * writes))


def _read_existing(
    df: pd.DataFrame,
    checks: PreflightChecks,
    context: PreflightContext,
    client: HubSpotClient,
    result: LoadResult,
    cost: PreflightCost,
) -> ExistingRecords:
    """Read what HubSpot holds of the values and ids the rows send; record the cost and any shortfall.

    Raises:
        LoadAborted: a read was refused (401), got no answer, or hit the daily limit.

    """
    sync = context.sync
    incremental = sync is not None and sync.mode == "incremental"
    try:
        created, known = _ledger_rows(sync, checks.lookup_keys(), incremental)
    except Exception as exc:  # the ledger's storage: propagates as it does elsewhere in the load
        raise _NotPreflights(exc) from exc
    skipped = frozenset(
        [
            *created,
            *(k for k, e in known.items() if incremental and e.status == ledger_mod.CREATED and e.hubspot_id),
        ]
    )
    existing = ExistingRecords(
        skipped=skipped,
        known={
            key: KnownRow(
                hubspot_id=entry.hubspot_id,
                in_doubt=entry.status == ledger_mod.PENDING,
                unique_property=entry.unique_property,
                unique_value=entry.unique_value,
            )
            for key, entry in known.items()
            if key not in skipped
        },
    )
    lookups = checks.lookups(skipped)
    if context.adopts:
        lookups.values.clear()
    if lookups.empty:
        return existing
    to_send = len(df) - int(checks.rejected.sum()) - len(skipped)
    batch_size = context.batch_size or client.batch_size
    budget = lookup_budget(to_send, batch_size)
    reader = RecordReader(client, budget=budget)

    def normalise(prop: str, text: str) -> str | None:
        return unique_key(checks.props[prop], text)

    incomplete: list[str] = []
    for object_type, values, ids in _reads(lookups):
        read = reader.read(object_type, values=values, ids=ids, normalise=normalise)
        _merge(existing, read, normalize_object_type(object_type))
        if read.error is not None:
            _lookup_failed(df, read.error, object_type, context.plan, result)
        if not read.complete:
            incomplete.append(object_type)
    cost.lookup_requests, cost.lookup_seconds, cost.lookup_budget = reader.requests, reader.seconds, budget
    if incomplete:
        cost.unchecked_rows = checks.unchecked_rows(existing, skipped)
        if reader.taken >= budget:
            writes = math.ceil(to_send / batch_size)
            result.warnings.append(_budget_warning(budget, writes, incomplete, cost.unchecked_rows))
    return existing


def _ledger_rows(
    sync: LoadSync | None, keys: list[str], incremental: bool
) -> tuple[list[str], dict[str, ledger_mod.LedgerEntry]]:
    """Return the keys the ledger holds as created (when a scanned table says so) and the others' entries.

    An incremental load with a scanned table (:meth:`~hubspot_loader.state.sync.LoadSync.brief_table`)
    reads the full entries only of the rows not created, instead of every row's (1M entries: 14 s of CPU
    and several hundred MiB held during preflight).
    """
    if sync is None:
        return [], {}
    split = sync.created_by_table(keys) if incremental else None
    if split is None:
        return [], sync.lookup_keys(keys)
    created, others = split
    return created, sync.lookup_keys(others) if others else {}


def _budget_warning(budget: int, writes: int, incomplete: list[str], unchecked: int) -> str:
    return (
        f"preflight checked existing records for part of the rows only: its budget of {budget} read requests "
        f"(the larger of {LOOKUP_SHARE:.0%} of the load's {writes} write requests and "
        f"{MIN_LOOKUP_REQUESTS}) ran out while reading {', '.join(incomplete)}; {unchecked} row(s) were not "
        "checked for unique values already used or associations to records that do not exist: HubSpot "
        "judges them"
    )


def _reads(lookups: LookupPlan) -> list[tuple[str, dict[str, list[str]], list[str]]]:
    """Group the lookups per object type (the loaded type's unique values, every type's target ids).

    The smallest come first, so that a budget that runs out leaves the fewest rows unchecked.
    """
    loaded = normalize_object_type(lookups.object_type)
    reads: dict[str, tuple[str, dict[str, list[str]], list[str]]] = {}
    if any(lookups.values.values()):
        reads[loaded] = (lookups.object_type, {p: v for p, v in lookups.values.items() if v}, [])
    for target, ids in lookups.targets.items():
        if not ids:
            continue
        name, values, known = reads.get(target, (target, {}, []))
        reads[target] = (name, values, [*known, *ids])
    return sorted(reads.values(), key=lambda r: sum(len(v) for v in r[1].values()) + len(r[2]))


def _merge(existing: ExistingRecords, read: RecordsRead, target: str) -> None:
    for prop, found in read.values.items():
        existing.values.setdefault(prop, {}).update(found)
    for prop, checked in read.values_checked.items():
        existing.values_checked.setdefault(prop, set()).update(checked)
    existing.targets_found.setdefault(target, set()).update(read.ids_found)
    existing.targets_checked.setdefault(target, set()).update(read.ids_checked)


def _lookup_failed(
    df: pd.DataFrame, error: HubSpotError, object_type: str, plan: LoadPlan, result: LoadResult
) -> None:
    """Stop the load on a refused token, no answer or the daily limit; otherwise warn and go on.

    Raises:
        LoadAborted: the token was refused (401), HubSpot did not answer, or the daily limit is reached.

    """
    daily = isinstance(error, HubSpotRateLimitError) and error.daily
    if isinstance(error, (HubSpotAuthenticationError, HubSpotTransportError)) or daily:
        doing = f"reading existing {object_type} records (preflight)"
        message = stop_reason(error, object_type, doing=doing, scope=read_scope(object_type))
        raise aborted(df, plan.key_column, result, message) from error
    hint = f"; grant {read_scope(object_type)} to check them" if isinstance(error, HubSpotScopeError) else ""
    result.warnings.append(
        f"preflight could not read existing {object_type} records ({error}){hint}: rows were not checked "
        "for unique values already used or associations to records that do not exist; HubSpot judges them"
    )


def unique_property_for(
    object_type: str, sent: Iterable[str], definitions: Sequence[Mapping[str, Any]] | None
) -> str | None:
    """Return the sent property a load reconciles lost answers by, or ``None`` when there is none.

    A sent property whose definition has ``hasUniqueValue`` is chosen, ``email`` first, else the first
    one sent. Without such a property, contacts that send ``email`` use ``email``: HubSpot refuses a
    second contact with the same email (409, reference §5.4) and matches contacts on it (§8.2).
    The load (:func:`hubspot_loader.load.load_dataframe`) and the CLI both choose with this.

    Args:
        object_type: the type loaded, in any spelling the package accepts (``contacts``, ``Contact``,
            ``0-1``, ``p_vendor`` ...).
        sent: the names of the properties the load sends.
        definitions: HubSpot's property definitions of ``object_type``, or ``None`` when they were not
            read (no client, no preflight, or the token may not read them).

    """
    names = list(sent)
    if definitions:
        unique = {str(d.get("name")) for d in definitions if d.get("hasUniqueValue")}
        found = [prop for prop in names if prop in unique]
        if found:
            return "email" if "email" in found else found[0]
    if normalize_object_type(object_type) == "contacts" and "email" in names:
        return "email"
    return None


def restore_positions(
    result: LoadResult, quarantine: Quarantine, key_column: str | None, sync: LoadSync | None
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
        known = sync.lookup_keys([r.key for r in rejected])
        rejected = [skipped_if_created(r.key, r.position, r.trace_id, known, sync) or r for r in rejected]
    rows.extend(rejected)
    result.rows = rows
