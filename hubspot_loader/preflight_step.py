"""The preflight step of :func:`hubspot_loader.load.load_dataframe`.

It reads HubSpot's definitions, checks the frame, holds back (or blocks on) the rows HubSpot would
reject, and gives the loaded rows back their positions.

The reads follow the failure model: a token refused (401) or HubSpot unreachable stops the load
(:class:`~hubspot_loader.core.stops.LoadAborted`, every row ``NOT_SENT``); a token that may not read the
definitions (403) skips preflight with a warning naming the scope, and the rows go to HubSpot, which
judges them. A preflight that fails unexpectedly on this frame is skipped the same way in
``quarantine`` mode and blocks the load in ``block`` mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.core.associations import normalize_object_type
from hubspot_loader.core.model import AssociationColumn, LoadResult
from hubspot_loader.core.plan import LoadPlan
from hubspot_loader.core.preflight import (
    BlockingProblem,
    PreflightError,
    PreflightReport,
    Quarantine,
    run_preflight,
)
from hubspot_loader.core.row_store import RowOutcomes
from hubspot_loader.core.spec import PreflightMode as PreflightMode
from hubspot_loader.core.stops import aborted, read_scope, schema_read_scope, stop_reason
from hubspot_loader.errors import HubSpotError, HubSpotScopeError, HubSpotValidationError
from hubspot_loader.state.sync import LoadSync, skipped_if_created

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient


PREFLIGHT_FAILED = "PREFLIGHT_FAILED"
"""Code of the blocking problem when preflight itself fails on a frame (``block`` mode)."""


class _Skip(Exception):
    """Preflight cannot run; the message is the warning to record."""


def run_preflight_step(
    df: pd.DataFrame,
    plan: LoadPlan,
    client: HubSpotClient | None,
    associations: Sequence[AssociationColumn],
    id_maps: Mapping[str, Mapping[str, str]] | None,
    naive_timezone: str,
    mode: PreflightMode,
    result: LoadResult,
) -> Quarantine | None:
    """Run preflight; raise in block mode, return the split in quarantine mode (``None``: nothing to do).

    Raises:
        PreflightError: ``block`` mode and rows would be rejected, or a problem no quarantine removes.
        LoadAborted: reading the definitions was refused (401) or got no answer.

    """
    if mode == "off":
        return None
    if client is None:
        result.warnings.append("preflight skipped: it needs a client to read HubSpot's property definitions")
        return None
    try:
        definitions, labels = _definitions(plan, client, associations)
    except _Skip as skip:
        result.warnings.append(str(skip))
        return None
    except HubSpotError as exc:
        doing = f"reading the {plan.object_type} property definitions and association labels (preflight)"
        message = stop_reason(exc, plan.object_type, doing=doing, scope=schema_read_scope(plan.object_type))
        raise aborted(df, plan.key_column, result, message) from exc
    try:
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
    except Exception as exc:  # a frame preflight cannot check: HubSpot judges it (or block says so)
        reason = f"preflight could not check this frame ({type(exc).__name__}: {exc})"
        if mode == "block":
            problem = BlockingProblem(PREFLIGHT_FAILED, reason + "; nothing was sent")
            raise PreflightError(
                PreflightReport(object_type=plan.object_type, rows_total=len(df), blocking=[problem])
            ) from exc
        result.warnings.append(f"preflight skipped: {reason}; HubSpot judges the rows")
        return None
    result.preflight = report
    if report.ok:
        return None
    if mode == "block":
        raise PreflightError(report)
    return report.quarantine(df)


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
