"""Pure helpers for batch create: match HubSpot's answer to the inputs, and read its error bodies.

HubSpot does not keep result order (reference §5.9), so rows are matched by ``objectWriteTraceId``:
successful results echo it and 207 error items carry it in ``context.objectWriteTraceId`` (§4.2,
§5.3). A success without a trace id is matched by the unique property's value when one is given, or
to the single input still unmatched; otherwise the remaining rows fail with a message saying so —
the matcher never guesses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubspot_loader.core.model import CREATED, FAILED, PreparedInput, RowError, RowOutcome, UpdateInput

_PROPERTY_VALUES_PREFIX = "Property values were not valid: "


def parse_time(value: Any) -> datetime | None:
    """Parse HubSpot's ISO-8601 timestamps (``2026-06-24T19:04:33.409Z``) to tz-aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _first(context: Any, key: str) -> str | None:
    if isinstance(context, Mapping):
        values = context.get(key)
        if isinstance(values, list) and values:
            return str(values[0])
        if isinstance(values, str):
            return values
    return None


def row_error(item: Any, *, http_status: int | None, fallback_category: str = "HTTP_ERROR") -> RowError:
    """Turn one HubSpot error object (a 207 item or a whole error body) into a :class:`RowError`.

    ``"Property values were not valid: [...]"`` messages are unpacked: the code comes from the array
    item's ``error``, the property from its ``name`` and the message from its ``message``.
    """
    if not isinstance(item, Mapping):
        text = "" if item is None else str(item)[:500]
        return RowError(
            category=fallback_category, message=text or f"HTTP {http_status}", http_status=http_status
        )
    category = str(item.get("category") or item.get("errorType") or fallback_category)
    message = str(item.get("message") or "")
    code: str | None = None
    prop: str | None = None
    details = item.get("errors")
    if isinstance(details, list) and details and isinstance(details[0], Mapping):
        raw_code = details[0].get("code")
        code = str(raw_code) if raw_code else None
        prop = _first(details[0].get("context"), "propertyName")
    if message.startswith(_PROPERTY_VALUES_PREFIX):
        try:
            entries = json.loads(message[len(_PROPERTY_VALUES_PREFIX) :])
        except ValueError:
            entries = None
        if isinstance(entries, list) and entries and all(isinstance(e, Mapping) for e in entries):
            texts = [str(e.get("message") or e.get("localizedErrorMessage") or "") for e in entries]
            message = "; ".join(t for t in texts if t) or message
            code = code or (str(entries[0]["error"]) if entries[0].get("error") else None)
            prop = prop or (str(entries[0]["name"]) if entries[0].get("name") else None)
    context = item.get("context")
    if isinstance(context, Mapping) and context.get("INVALID_OBJECT_IDS"):
        message = f"{message}: {'; '.join(str(v) for v in context['INVALID_OBJECT_IDS'])}"
    if not code and isinstance(item.get("subCategory"), str):
        code = item["subCategory"]
    return RowError(
        category=category,
        message=message or f"HTTP {http_status}",
        code=code,
        property=prop,
        http_status=http_status,
    )


@dataclass
class MatchResult:
    """Row outcomes decided from one 201/207 answer."""

    outcomes: dict[str, RowOutcome]
    """trace id → outcome, for every input of the request."""
    created: int
    failed: int


def _unique_key(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text.casefold() if text else None


def _same_value(sent: str, stored: Any) -> bool:
    """Whether HubSpot's stored value is the value that was sent (it may trim, lowercase or reformat)."""
    if stored is None:
        return False
    a, b = str(sent).strip(), str(stored).strip()
    if a == b or a.casefold() == b.casefold():
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _match_by_content(
    orphans: list[Mapping[str, Any]],
    pending: dict[str, PreparedInput],
    settle: Callable[..., None],
) -> list[Mapping[str, Any]]:
    """Match results that carry no trace id to the rows whose every sent property they hold.

    HubSpot documents ``objectWriteTraceId`` on errors, not on results, so an answer may come without it.
    A result is given to a row when that row is the only pending one whose properties it holds, or when
    all such rows sent the same properties and associations (then they are interchangeable). Anything
    still ambiguous stays unmatched.
    """
    remaining = list(orphans)
    progress = True
    while remaining and pending and progress:
        progress = False
        still: list[Mapping[str, Any]] = []
        for result in remaining:
            props = result.get("properties")
            if not isinstance(props, Mapping):
                still.append(result)
                continue
            candidates = [
                row
                for row in pending.values()
                if all(_same_value(v, props.get(k)) for k, v in row.properties.items())
            ]
            signatures = {(tuple(sorted(r.properties.items())), repr(r.associations)) for r in candidates}
            if candidates and len(signatures) == 1:
                settle(candidates[0], CREATED, hubspot_id=str(result.get("id")))
                progress = True
            else:
                still.append(result)
        remaining = still
    return remaining


def outcome_for(
    row: PreparedInput | UpdateInput,
    status: str,
    *,
    batch_index: int,
    hubspot_id: str | None = None,
    error: RowError | None = None,
) -> RowOutcome:
    """Return the outcome of input ``row`` in batch ``batch_index`` (its key, position and trace id kept).

    ``row`` is any written row with a key, a position and a trace id (a create or an update input).
    """
    return RowOutcome(
        key=row.key,
        position=row.position,
        status=status,
        hubspot_id=hubspot_id,
        error=error,
        trace_id=row.trace_id,
        batch_index=batch_index,
    )


class _Matcher:
    """One answer being matched to its batch's rows; each row is settled exactly once."""

    def __init__(self, rows: Sequence[PreparedInput], http_status: int, batch_index: int) -> None:
        self.pending: dict[str, PreparedInput] = {row.trace_id: row for row in rows}
        self.outcomes: dict[str, RowOutcome] = {}
        self.created = self.failed = 0
        self.http_status = http_status
        self.batch_index = batch_index
        self.unattributed_errors: list[RowError] = []

    def settle(
        self, row: PreparedInput, status: str, hubspot_id: str | None = None, error: RowError | None = None
    ) -> None:
        self.outcomes[row.trace_id] = outcome_for(
            row, status, batch_index=self.batch_index, hubspot_id=hubspot_id, error=error
        )
        self.pending.pop(row.trace_id, None)
        if status == FAILED:
            self.failed += 1
        else:
            self.created += 1

    def errors(self, items: Sequence[Any]) -> None:
        """Fail the rows each error item names by ``context.objectWriteTraceId``; keep the others."""
        for item in items:
            error = row_error(item, http_status=self.http_status)
            context = item.get("context") if isinstance(item, Mapping) else None
            traces = context.get("objectWriteTraceId") if isinstance(context, Mapping) else None
            if isinstance(traces, str):
                traces = [traces]
            hit = False
            for trace in traces or []:
                row = self.pending.get(str(trace))
                if row is not None:
                    self.settle(row, FAILED, error=error)
                    hit = True
            if not hit:
                self.unattributed_errors.append(error)

    def results(self, items: Sequence[Any]) -> list[Mapping[str, Any]]:
        """Create the rows the results name by trace id; return the results that name none."""
        orphans: list[Mapping[str, Any]] = []
        for result in items:
            if not isinstance(result, Mapping):
                continue
            trace = result.get("objectWriteTraceId")
            row = self.pending.get(str(trace)) if trace is not None else None
            if row is not None:
                self.settle(row, CREATED, hubspot_id=str(result.get("id")))
            else:
                orphans.append(result)
        return orphans

    def by_unique_value(
        self, orphans: list[Mapping[str, Any]], unique_property: str
    ) -> list[Mapping[str, Any]]:
        """Give each orphan result to the one pending row that sent its unique value; return the rest."""
        by_value: dict[str, list[PreparedInput]] = {}
        for row in self.pending.values():
            key = _unique_key(row.properties.get(unique_property))
            if key is not None:
                by_value.setdefault(key, []).append(row)
        still: list[Mapping[str, Any]] = []
        for result in orphans:
            props = result.get("properties")
            key = _unique_key(props.get(unique_property)) if isinstance(props, Mapping) else None
            candidates = by_value.get(key, []) if key is not None else []
            if len(candidates) == 1:
                self.settle(candidates.pop(), CREATED, hubspot_id=str(result.get("id")))
            else:
                still.append(result)
        return still

    def fail_unmatched(self, orphans: list[Mapping[str, Any]]) -> None:
        """Fail every row still pending with a message saying what could not be matched."""
        errors = self.unattributed_errors
        if orphans or errors:
            detail = []
            if orphans:
                detail.append(f"{len(orphans)} result(s) without objectWriteTraceId")
            if errors:
                detail.append(
                    f"{len(errors)} error(s) without objectWriteTraceId, first: {errors[0].message}"
                )
            message = (
                "HubSpot's answer could not be matched to this row (" + "; ".join(detail) + "); "
                "the row may or may not have been created"
            )
        else:
            message = "HubSpot's answer named neither a result nor an error for this row"
        error = RowError(category="UNMATCHED_RESULT", message=message, http_status=self.http_status)
        for row in list(self.pending.values()):
            self.settle(row, FAILED, error=error)


def match_results(
    rows: Sequence[PreparedInput],
    body: Mapping[str, Any],
    *,
    http_status: int,
    batch_index: int,
    unique_property: str | None,
) -> MatchResult:
    """Match a 201/207 body's ``results`` and ``errors`` to ``rows``; every row gets exactly one outcome."""
    matcher = _Matcher(rows, http_status, batch_index)
    matcher.errors(body.get("errors") or [])
    orphans = matcher.results(body.get("results") or [])
    if orphans and unique_property:
        orphans = matcher.by_unique_value(orphans, unique_property)
    if orphans and matcher.pending:
        orphans = _match_by_content(orphans, matcher.pending, matcher.settle)
    if len(orphans) == 1 and len(matcher.pending) == 1 and not matcher.unattributed_errors:
        matcher.settle(next(iter(matcher.pending.values())), CREATED, hubspot_id=str(orphans[0].get("id")))
        orphans = []
    matcher.fail_unmatched(orphans)
    return MatchResult(outcomes=matcher.outcomes, created=matcher.created, failed=matcher.failed)
