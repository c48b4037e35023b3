"""Rows HubSpot may have created without saying so: look them up before anything is resent.

After an ambiguous failure (read timeout, connection dropped after sending, gateway 5xx) the rows are
read back by the load's unique property (``idProperty``, :meth:`HubSpotClient.find_by_unique`); those
found are settled :data:`~hubspot_loader.core.model.RECONCILED` and only the rest are resent. Rows without a
unique value follow the client's ``resend_ambiguous`` policy.

A batch answer whose ``status`` is ``CANCELED``, ``PENDING`` or ``PROCESSING`` (HubSpot's schema allows
them, reference §4.1; when they occur is undocumented, §16.8) creates the rows it lists in ``results``.
The rows it does not list are in doubt (:func:`after_incomplete`): with a unique value they are looked
up, after a short bounded wait for ``PENDING``/``PROCESSING`` (:class:`~hubspot_loader.http.retry.RetryPolicy`
``pending_polls`` times ``pending_poll_interval_s``); found rows are reconciled, missing ones resent. A row
is resent at most once after a ``PENDING``/``PROCESSING`` answer; ``CANCELED`` rows confirmed absent
are resent while retries last and then fail with category :data:`CANCELED`.

Rows without a unique value cannot be looked up. After ``CANCELED`` they follow ``resend_ambiguous``.
After ``PENDING``/``PROCESSING`` they are never resent, whatever ``resend_ambiguous`` says: HubSpot has
just said it is still working on them, so a resend would most likely create each a second time. They
fail with category :data:`~hubspot_loader.core.model.HUBSPOT_PENDING`, which the ledger keeps pending and
which
no later run resends blindly (``docs/ledger.md``). Other rows left in doubt fail as
:data:`~hubspot_loader.core.model.UNMATCHED_RESULT`, which the ledger also keeps pending, so the next run
looks
them up before sending them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubspot_loader.core.model import (
    HUBSPOT_PENDING,
    RECONCILED,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    PreparedInput,
    RowError,
)
from hubspot_loader.errors import HubSpotError
from hubspot_loader.http.batch_state import Aborted, BatchState, LoadState

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

CANCELED = "CANCELED"
"""Status of a batch answer HubSpot canceled; also the category of rows it left uncreated."""
WAITED_STATUSES = frozenset({"PENDING", "PROCESSING"})
"""Statuses saying HubSpot is still working: the rows they do not list are waited for, not resent blindly."""
INCOMPLETE_STATUSES = WAITED_STATUSES | {CANCELED}
"""Batch answer statuses other than ``COMPLETE`` in HubSpot's schema."""

__all__ = [
    "CANCELED",
    "HUBSPOT_PENDING",
    "INCOMPLETE_STATUSES",
    "UNMATCHED_RESULT",
    "WAITED_STATUSES",
    "after_ambiguous",
    "after_incomplete",
    "group_by_unique",
    "in_input_order",
    "incomplete_failure",
]


def group_by_unique(
    rows: list[PreparedInput], prop: str | None
) -> tuple[dict[str, list[PreparedInput]], list[PreparedInput]]:
    """Split ``rows`` into ``casefolded unique value → rows`` and the rows without a value."""
    keyed: dict[str, list[PreparedInput]] = {}
    unkeyed: list[PreparedInput] = []
    for row in rows:
        value = str(row.properties.get(prop) or "").strip() if prop else ""
        if value:
            keyed.setdefault(value.casefold(), []).append(row)
        else:
            unkeyed.append(row)
    return keyed, unkeyed


def in_input_order(rows: list[PreparedInput], subset: list[PreparedInput]) -> list[PreparedInput]:
    """``subset`` sorted in the order its rows have in ``rows``."""
    order = {r.trace_id: i for i, r in enumerate(rows)}
    return sorted(subset, key=lambda r: order[r.trace_id])


def _originals(keyed: dict[str, list[PreparedInput]], prop: str) -> list[str]:
    """Return the unique value of each group as sent (stripped), to look it up by."""
    return [str(group[0].properties[prop]).strip() for group in keyed.values()]


def _settle_found(
    batch: BatchState,
    keyed: dict[str, list[PreparedInput]],
    found: dict[str, str],
    failure: RowError | None,
) -> tuple[list[PreparedInput], int]:
    """Settle each row whose unique value was found for it alone; return the others and how many settled.

    A value found is :data:`RECONCILED` with the id found, unless several rows share it (then none can be
    told apart). The others are returned to be resent, or, when ``failure`` is given (the look-up
    itself failed), fail with it instead.
    """
    rest: list[PreparedInput] = []
    reconciled = 0
    for value, group in keyed.items():
        if value in found and len(group) == 1:
            batch.settle(group[0], RECONCILED, hubspot_id=found[value])
            reconciled += 1
        elif failure is not None:
            batch.fail(group, failure)
        else:
            rest.extend(group)
    return rest, reconciled


def _unkeyed(
    client: HubSpotClient, batch: BatchState, rows: list[PreparedInput], note: str, category: str
) -> list[PreparedInput]:
    """Rows that may have been created and have no unique value: return them to resend, or fail them.

    ``resend_ambiguous=True`` resends them (with a batch warning: duplicates are possible); ``False``
    fails them with ``category`` ("the row may exist").
    """
    if client.resend_ambiguous:
        batch.record.warnings.append(
            f"{note}; resending {len(rows)} row(s) without a unique value to look them up by: "
            "duplicates are possible"
        )
        return rows
    batch.fail(rows, RowError(category, f"{note}; not resent (resend_ambiguous=False); the row may exist"))
    return []


def after_ambiguous(
    client: HubSpotClient, batch: BatchState, load: LoadState, rows: list[PreparedInput], reason: str
) -> list[PreparedInput]:
    """Rows that may have been committed: reconcile by the unique property; return the rows to resend."""
    batch.unacked.update(r.trace_id for r in rows)
    prop = load.unique_property
    keyed, unkeyed = group_by_unique(rows, prop)
    resend: list[PreparedInput] = []
    if keyed and prop:
        found: dict[str, str] = {}
        failure: RowError | None = None
        try:
            found = client.find_by_unique(load.object_type, prop, _originals(keyed, prop))
        except HubSpotError as exc:
            failure = RowError(
                category=TRANSPORT_ERROR,
                message=(
                    f"{reason}; reconciliation by {prop} failed ({exc}); not resent to avoid "
                    "duplicates: the row may have been created"
                ),
            )
        resend, reconciled = _settle_found(batch, keyed, found, failure)
        if failure is None:
            batch.record.warnings.append(
                f"{reason}; reconciled {reconciled} row(s) by {prop}, resending {len(resend)}"
            )
    if unkeyed:
        resend.extend(_unkeyed(client, batch, unkeyed, reason, TRANSPORT_ERROR))
    return in_input_order(rows, resend)


def _look_up(
    client: HubSpotClient, load: LoadState, prop: str, originals: list[str], *, polls: int, wait_s: float
) -> tuple[dict[str, str], HubSpotError | None]:
    """Look ``originals`` up by ``prop`` up to ``polls`` times, ``wait_s`` before each, until all are found.

    Returns ``casefolded value → id`` for those found and the error that ended the look-ups, if any.

    Raises:
        Aborted: the load stopped during a wait.

    """
    found: dict[str, str] = {}
    remaining = list(originals)
    for _ in range(polls):
        if wait_s > 0 and load.abort.wait(wait_s):
            raise Aborted
        try:
            found.update(client.find_by_unique(load.object_type, prop, remaining))
        except HubSpotError as exc:
            return found, exc
        remaining = [v for v in remaining if v.casefold() not in found]
        if not remaining:
            break
    return found, None


def after_incomplete(
    client: HubSpotClient, batch: BatchState, load: LoadState, rows: list[PreparedInput], status: str
) -> list[PreparedInput]:
    """Rows a ``CANCELED``/``PENDING``/``PROCESSING`` answer did not list: settle or return them to resend.

    Raises:
        Aborted: the load stopped while waiting for a ``PENDING``/``PROCESSING`` batch; the rows not
            settled yet stay in ``batch.unacked`` (in doubt).

    """
    batch.unacked.update(r.trace_id for r in rows)
    waited = status in WAITED_STATUSES
    prop = load.unique_property
    keyed, unkeyed = group_by_unique(rows, prop)
    note = f"batch {batch.index}: HubSpot answered {status} without {len(rows)} row(s)"
    resend: list[PreparedInput] = []
    if unkeyed and waited:
        # settled before the wait below, so that a stop during it cannot leave them without a reason
        batch.fail(unkeyed, _still_processing(note, prop))
        batch.record.warnings.append(
            f"{note}; {len(unkeyed)} of them have no {prop or 'unique property'} value to look them up "
            f"by: not resent (HubSpot is still creating them), reported {HUBSPOT_PENDING}"
        )
    elif unkeyed:
        resend.extend(_unkeyed(client, batch, unkeyed, note, UNMATCHED_RESULT))
    if keyed and prop:
        policy = client.retry
        found, error = _look_up(
            client,
            load,
            prop,
            _originals(keyed, prop),
            polls=policy.pending_polls if waited else 1,
            wait_s=policy.pending_poll_interval_s if waited else 0.0,
        )
        failure = None
        if error is not None:
            failure = RowError(
                UNMATCHED_RESULT,
                f"{note}; looking it up by {prop} failed ({error}); not resent to avoid duplicates: "
                "it may exist",
            )
        missing, reconciled = _settle_found(batch, keyed, found, failure)
        resend.extend(missing)
        batch.record.warnings.append(
            f"{note}; found {reconciled} by {prop}"
            + (" after waiting" if waited else "")
            + f", resending {len(missing)}"
        )
    if waited:
        again = [r for r in resend if r.trace_id in batch.resent_incomplete]
        batch.fail(
            again,
            RowError(
                UNMATCHED_RESULT,
                f"{note} again after it was resent once; not resent a second time: it may still be created",
            ),
        )
        resend = [r for r in resend if r.trace_id not in batch.resent_incomplete]
        batch.resent_incomplete.update(r.trace_id for r in resend)
    return in_input_order(rows, resend)


def _still_processing(note: str, prop: str | None) -> RowError:
    """Return the failure of a row a ``PENDING``/``PROCESSING`` answer left out that cannot be looked up."""
    return RowError(
        HUBSPOT_PENDING,
        f"{note}; HubSpot is still processing this row and it has no {prop or 'unique property'} value to "
        "look it up by: not resent, whatever resend_ambiguous says (it is most likely being created; a "
        "resend would duplicate it); kept in doubt: check it in HubSpot",
    )


def incomplete_failure(status: str, unique_property: str | None) -> RowError:
    """Return the failure of a row resent after a non-``COMPLETE`` answer once its retries are spent."""
    if status == CANCELED:
        checked = f"was not found by {unique_property}" if unique_property else "could not be looked up"
        return RowError(CANCELED, f"HubSpot answered CANCELED without this row and it {checked}: not created")
    return RowError(
        UNMATCHED_RESULT, f"HubSpot answered {status} without this row; the row may still be created"
    )
