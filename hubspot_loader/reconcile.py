"""Rows HubSpot may have created without saying so: look them up before anything is resent.

After an ambiguous failure (read timeout, connection dropped after sending, gateway 5xx) the rows are
read back by the load's unique property (``idProperty``, :meth:`HubSpotClient.find_by_unique`); those
found are settled :data:`~hubspot_loader.model.RECONCILED` and only the rest are resent. Rows without a
unique value follow the client's ``resend_ambiguous`` policy.

A batch answer whose ``status`` is ``CANCELED``, ``PENDING`` or ``PROCESSING`` (HubSpot's schema allows
them, reference §4.1; when they occur is undocumented, §16.8) creates the rows it lists in ``results``.
The rows it does not list are in doubt (:func:`after_incomplete`): with a unique value they are looked
up, after a short bounded wait for ``PENDING``/``PROCESSING`` (:class:`~hubspot_loader.retry.RetryPolicy`
``pending_polls`` times ``pending_poll_interval_s``); found rows are reconciled, missing ones resent. A row
is resent at most once after a ``PENDING``/``PROCESSING`` answer; ``CANCELED`` rows confirmed absent
are resent while retries last and then fail with category :data:`CANCELED`. Rows without a unique
value follow ``resend_ambiguous``. Rows left in doubt fail as ``UNMATCHED_RESULT``, which the ledger
keeps pending, so the next run looks them up before sending them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubspot_loader.batch_state import Aborted, BatchState, LoadState
from hubspot_loader.errors import HubSpotError
from hubspot_loader.model import RECONCILED, TRANSPORT_ERROR, PreparedInput, RowError

if TYPE_CHECKING:
    from hubspot_loader.client import HubSpotClient

CANCELED = "CANCELED"
"""Status of a batch answer HubSpot canceled; also the category of rows it left uncreated."""
WAITED_STATUSES = frozenset({"PENDING", "PROCESSING"})
"""Statuses saying HubSpot is still working: the rows they do not list are waited for."""
INCOMPLETE_STATUSES = WAITED_STATUSES | {CANCELED}
"""Batch answer statuses other than ``COMPLETE`` in HubSpot's schema."""
UNMATCHED_RESULT = "UNMATCHED_RESULT"
"""Category of a row whose fate HubSpot's answer left open (the ledger keeps such rows pending)."""


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


def after_ambiguous(
    client: HubSpotClient, batch: BatchState, load: LoadState, rows: list[PreparedInput], reason: str
) -> list[PreparedInput]:
    """Rows that may have been committed: reconcile by the unique property; return the rows to resend."""
    batch.unacked.update(r.trace_id for r in rows)
    prop = load.unique_property
    keyed, unkeyed = group_by_unique(rows, prop)
    resend: list[PreparedInput] = []
    if keyed and prop:
        originals = [str(group[0].properties[prop]).strip() for group in keyed.values()]
        found: dict[str, str] | None
        try:
            found = client.find_by_unique(load.object_type, prop, originals)
        except HubSpotError as exc:
            error = RowError(
                category=TRANSPORT_ERROR,
                message=(
                    f"{reason}; reconciliation by {prop} failed ({exc}); not resent to avoid "
                    "duplicates: the row may have been created"
                ),
            )
            batch.fail([r for group in keyed.values() for r in group], error)
            found = None
        if found is not None:
            reconciled = 0
            for value, group in keyed.items():
                if value in found and len(group) == 1:
                    batch.settle(group[0], RECONCILED, hubspot_id=found[value])
                    reconciled += 1
                else:
                    resend.extend(group)
            batch.record.warnings.append(
                f"{reason}; reconciled {reconciled} row(s) by {prop}, resending {len(resend)}"
            )
    if unkeyed:
        if client.resend_ambiguous:
            batch.record.warnings.append(
                f"{reason}; resending {len(unkeyed)} row(s) without a {prop or 'unique property'} "
                "value to reconcile by: duplicates are possible"
            )
            resend.extend(unkeyed)
        else:
            batch.fail(
                unkeyed,
                RowError(
                    category=TRANSPORT_ERROR,
                    message=f"{reason}; not resent (resend_ambiguous=False); the row may exist",
                ),
            )
    return in_input_order(rows, resend)


def _look_up(
    client: HubSpotClient, load: LoadState, prop: str, originals: list[str], *, polls: int, wait_s: float
) -> tuple[dict[str, str], HubSpotError | None]:
    """Look ``originals`` up by ``prop`` up to ``polls`` times, ``wait_s`` before each, until all are found.

    Returns ``casefolded value → id`` for those found and the error that ended the look-ups, if any.
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
    """Rows a ``CANCELED``/``PENDING``/``PROCESSING`` answer did not list: settle or return them to resend."""
    batch.unacked.update(r.trace_id for r in rows)
    waited = status in WAITED_STATUSES
    prop = load.unique_property
    keyed, unkeyed = group_by_unique(rows, prop)
    note = f"batch {batch.index}: HubSpot answered {status} without {len(rows)} row(s)"
    resend: list[PreparedInput] = []
    if keyed and prop:
        policy = client.retry
        originals = [str(group[0].properties[prop]).strip() for group in keyed.values()]
        found, error = _look_up(
            client,
            load,
            prop,
            originals,
            polls=policy.pending_polls if waited else 1,
            wait_s=policy.pending_poll_interval_s if waited else 0.0,
        )
        reconciled = 0
        for value, group in keyed.items():
            if value in found and len(group) == 1:
                batch.settle(group[0], RECONCILED, hubspot_id=found[value])
                reconciled += 1
            elif error is not None:
                batch.fail(
                    group,
                    RowError(
                        UNMATCHED_RESULT,
                        f"{note}; looking it up by {prop} failed "
                        f"({error}); not resent to avoid duplicates: it may exist",
                    ),
                )
            else:
                resend.extend(group)
        batch.record.warnings.append(
            f"{note}; found {reconciled} by {prop}"
            + (" after waiting" if waited else "")
            + f", resending {len(resend)}"
        )
    if unkeyed:
        if client.resend_ambiguous:
            batch.record.warnings.append(
                f"{note}; resending {len(unkeyed)} row(s) without a {prop or 'unique property'} value to "
                "look them up by: duplicates are possible"
            )
            resend.extend(unkeyed)
        else:
            batch.fail(
                unkeyed,
                RowError(UNMATCHED_RESULT, f"{note}; not resent (resend_ambiguous=False); the row may exist"),
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


def incomplete_failure(status: str, unique_property: str | None) -> RowError:
    """Return the failure of a row resent after a non-``COMPLETE`` answer once its retries are spent."""
    if status == CANCELED:
        checked = f"was not found by {unique_property}" if unique_property else "could not be looked up"
        return RowError(CANCELED, f"HubSpot answered CANCELED without this row and it {checked}: not created")
    return RowError(
        UNMATCHED_RESULT, f"HubSpot answered {status} without this row; the row may still be created"
    )
