"""Create and remove associations of existing records with HubSpot's association batch API (reference §16.5).

:func:`create_associations` sends ``POST …/associations/{from}/{to}/batch/create`` and
:func:`remove_associations` ``…/batch/labels/archive`` (which removes only the listed type of each pair, not
every type between the two records), both with ``inputs[{from:{id}, to:{id}, types:[{associationCategory,
associationTypeId}]}]``: one input per :class:`~hubspot_loader.core.model.AssociationChange`, the changes
grouped by target object type, at most :data:`ASSOCIATION_BATCH_SIZE` inputs per request.

Each request goes through :meth:`~hubspot_loader.http.client.HubSpotClient.read_request`, the client's
paced request with full retries (429, 5xx, transport errors): association writes are idempotent (creating
an existing association or removing an absent one changes nothing), so a retry cannot write twice.
What HubSpot answers is settled per change:

* any 2xx without error items: every change of the request is done (success codes drift between 200, 201
  and 204, §16.5);
* a 207 (or a 2xx listing ``errors``): the per-item error shape is not documented (§16.5), so an item is
  mapped to the changes its ``context`` names (``fromObjectId``/``toObjectId``, ``objectId`` for either side,
  ``type``/``associationTypeId``); a created pair is one ``results`` lists. A change neither named nor listed
  fails with the message of the items that name nothing, if any; else a create fails as
  :data:`~hubspot_loader.core.model.UNMATCHED_RESULT` and a removal is done (its answer lists no pairs).
  When in doubt a change is failed, never done: writing it again on the next sync is harmless;
* a whole-request error after the retries (4xx such as 400 "One or more associations are invalid" §5.6,
  exhausted 429/5xx, no answer): every change of that request fails with HubSpot's message, category and
  HTTP status; the next request is still sent;
* HubSpot's DAILY limit (429 ``policyName: DAILY``): that request's changes and all later ones fail as
  :data:`~hubspot_loader.core.model.RATE_LIMIT_DAILY`; nothing more is sent;
* 401 and 403 raise :class:`~hubspot_loader.errors.HubSpotAuthenticationError` /
  :class:`~hubspot_loader.errors.HubSpotScopeError`: the load stops. Changes of earlier requests of the
  call are written (idempotent: a rerun writes them again harmlessly).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hubspot_loader.core.batching import row_error
from hubspot_loader.core.model import (
    RATE_LIMIT_DAILY,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    AssociationChange,
    RowError,
)
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotScopeError,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.transport import Answer

ASSOCIATION_BATCH_SIZE = 100
"""Inputs per association batch request: the practical limit (the docs say 2,000 for batch create, third-party
notes say 100 in practice, and archive limits are not documented; reference §6, §16.5)."""

CREATE = "create"
"""The batch action that creates association types (``…/batch/create``)."""
REMOVE_LABELS = "labels/archive"
"""The batch action that removes the listed association types only (``…/batch/labels/archive``)."""

#: one change with its position in the caller's sequence
_Indexed = tuple[int, AssociationChange]


@dataclass
class AssociationWrites:
    """What one call did: the changes written, and those that failed with HubSpot's reason."""

    done: list[AssociationChange]
    """Changes HubSpot accepted, in the order they were given."""
    failed: list[tuple[AssociationChange, RowError]]
    """Changes not written, each with why, in the order they were given."""
    requests: int
    """HTTP requests the client sent during the call, retries included (requests other threads sent through
    the same client meanwhile are counted too)."""


def association_batch_path(client: HubSpotClient, from_type: str, to_type: str, action: str) -> str:
    """Return the path of the association batch endpoint ``action`` between two object types (§16.5).

    ``/crm/associations/{version}/{from}/{to}/batch/{action}`` for a date version (``2026-03``), the v4 path
    ``/crm/v4/associations/…`` when the client speaks the legacy ``v3`` API, as the client's labels path.
    """
    a, b = quote(from_type, safe=""), quote(to_type, safe="")
    if client.api_version.startswith("v"):
        return f"/crm/v4/associations/{a}/{b}/batch/{action}"
    return f"/crm/associations/{client.api_version}/{a}/{b}/batch/{action}"


def create_associations(
    client: HubSpotClient, from_type: str, changes: Sequence[AssociationChange]
) -> AssociationWrites:
    """Create each change's association type from its ``from_id`` record (``from_type``) to its target.

    Raises:
        HubSpotAuthenticationError, HubSpotScopeError: 401/403, fatal for the load.

    """
    return _write(client, from_type, changes, CREATE)


def remove_associations(
    client: HubSpotClient, from_type: str, changes: Sequence[AssociationChange]
) -> AssociationWrites:
    """Remove each change's association type only; other types between the same two records stay.

    HubSpot removes every labelled type of a pair with its unlabelled type (§16.5), so removing the
    unlabelled type (e.g. 279) removes the pair's labelled ones too.

    Raises:
        HubSpotAuthenticationError, HubSpotScopeError: 401/403, fatal for the load.

    """
    return _write(client, from_type, changes, REMOVE_LABELS)


def _write(
    client: HubSpotClient, from_type: str, changes: Sequence[AssociationChange], action: str
) -> AssociationWrites:
    started = client.requests_sent
    groups: dict[str, list[_Indexed]] = {}
    for index, change in enumerate(changes):
        groups.setdefault(change.to_object_type, []).append((index, change))
    done: list[_Indexed] = []
    failed: list[tuple[int, AssociationChange, RowError]] = []
    stopped: RowError | None = None
    for to_type, group in groups.items():
        path = association_batch_path(client, from_type, to_type, action)
        what = f"association batch/{action} {from_type}->{to_type}"
        for start in range(0, len(group), ASSOCIATION_BATCH_SIZE):
            chunk = group[start : start + ASSOCIATION_BATCH_SIZE]
            if stopped is not None:
                failed.extend((i, c, stopped) for i, c in chunk)
                continue
            outcome = _send(client, path, chunk, what, lists_results=action == CREATE)
            done.extend(outcome.done)
            failed.extend((i, c, e) for (i, c), e in outcome.failed)
            if outcome.daily is not None:
                stopped = RowError(
                    RATE_LIMIT_DAILY,
                    f"not sent: an earlier request reached HubSpot's DAILY API limit: {outcome.daily}",
                )
    return AssociationWrites(
        done=[c for _i, c in sorted(done, key=lambda item: item[0])],
        failed=[(c, e) for _i, c, e in sorted(failed, key=lambda item: item[0])],
        requests=client.requests_sent - started,
    )


@dataclass
class _Outcome:
    """One request's settled changes; ``daily`` is the DAILY limit error that stopped the call, if any."""

    done: list[_Indexed]
    failed: list[tuple[_Indexed, RowError]]
    daily: HubSpotRateLimitError | None = None


def _input(change: AssociationChange) -> dict[str, Any]:
    return {
        "from": {"id": change.from_id},
        "to": {"id": change.to_id},
        "types": [{"associationCategory": change.category, "associationTypeId": change.type_id}],
    }


def _send(
    client: HubSpotClient, path: str, chunk: list[_Indexed], what: str, *, lists_results: bool
) -> _Outcome:
    """Send one request of up to 100 inputs (with the client's retries) and settle its changes."""
    body = {"inputs": [_input(c) for _i, c in chunk]}
    try:
        answer = client.read_request("POST", path, body, what=what)
    except (HubSpotAuthenticationError, HubSpotScopeError):
        raise
    except HubSpotRateLimitError as exc:
        if not exc.daily:
            return _Outcome([], [(item, _whole_request_error(exc)) for item in chunk])
        error = RowError(RATE_LIMIT_DAILY, f"not written: {exc}", http_status=exc.status)
        return _Outcome([], [(item, error) for item in chunk], daily=exc)
    except HubSpotError as exc:
        return _Outcome([], [(item, _whole_request_error(exc)) for item in chunk])
    return _settle(chunk, answer, lists_results=lists_results)


def _whole_request_error(exc: HubSpotError) -> RowError:
    """Return the failure of every change of a request HubSpot refused whole (or that got no answer)."""
    if exc.response is None:
        return RowError(TRANSPORT_ERROR, str(exc))
    response = exc.response
    error = row_error(response.body, http_status=response.status)
    if error.message == f"HTTP {response.status}" and str(exc):
        return RowError(error.category, str(exc), code=error.code, http_status=response.status)
    return error


def _settle(chunk: list[_Indexed], answer: Answer, *, lists_results: bool) -> _Outcome:
    """Map a 2xx answer's ``results`` and ``errors`` to the request's changes (see the module docstring)."""
    body = answer.body if isinstance(answer.body, Mapping) else {}
    items = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
    if not items:
        return _Outcome(list(chunk), [])
    failures: dict[int, RowError] = {}
    unmapped: list[RowError] = []
    for item in items:
        error = row_error(item, http_status=answer.status)
        named = _named(item, chunk)
        if not named:
            unmapped.append(error)
        for index in named:
            failures.setdefault(index, error)
    listed = _listed_pairs(body.get("results"))
    leftover = _joined(unmapped) if unmapped else None
    outcome = _Outcome([], [])
    for index, change in chunk:
        if index in failures:
            outcome.failed.append(((index, change), failures[index]))
        elif (change.from_id, change.to_id) in listed:
            outcome.done.append((index, change))
        elif leftover is not None:
            outcome.failed.append(((index, change), leftover))
        elif lists_results:
            message = "HubSpot's answer neither listed this association as created nor gave an error for it"
            outcome.failed.append(
                ((index, change), RowError(UNMATCHED_RESULT, message, http_status=answer.status))
            )
        else:
            outcome.done.append((index, change))
    return outcome


def _texts(value: Any) -> set[str]:
    """Return the values of one ``context`` entry (a list, or a single value) as text."""
    if isinstance(value, list):
        return {str(v) for v in value if v is not None}
    return set() if value is None or isinstance(value, Mapping) else {str(value)}


def _named(item: Mapping[str, Any], chunk: list[_Indexed]) -> list[int]:
    """Return the changes an error item's ``context`` names (none when it names no id or type).

    An ``objectId`` may be either side; when it equals a ``from_id`` and a ``to_id`` both changes fail.
    """
    context = item.get("context")
    if not isinstance(context, Mapping):
        return []
    from_ids = _texts(context.get("fromObjectId"))
    to_ids = _texts(context.get("toObjectId"))
    object_ids = _texts(context.get("objectId"))
    type_ids = _texts(context.get("type")) | _texts(context.get("associationTypeId"))
    if not (from_ids or to_ids or object_ids or type_ids):
        return []
    return [
        index
        for index, c in chunk
        if (not from_ids or c.from_id in from_ids)
        and (not to_ids or c.to_id in to_ids)
        and (not object_ids or c.from_id in object_ids or c.to_id in object_ids)
        and (not type_ids or str(c.type_id) in type_ids)
    ]


def _listed_pairs(results: Any) -> set[tuple[str, str]]:
    """``(from id, to id)`` of each result (``fromObjectId``/``toObjectId``, or ``from.id``/``to.id``)."""
    pairs: set[tuple[str, str]] = set()
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, Mapping):
            continue
        from_id, to_id = result.get("fromObjectId"), result.get("toObjectId")
        if from_id is None and isinstance(result.get("from"), Mapping):
            from_id = result["from"].get("id")
        if to_id is None and isinstance(result.get("to"), Mapping):
            to_id = result["to"].get("id")
        if from_id is not None and to_id is not None:
            pairs.add((str(from_id), str(to_id)))
    return pairs


def _joined(errors: Iterable[RowError]) -> RowError:
    """One failure standing for several error items that name no change (their distinct messages joined)."""
    errors = list(errors)
    messages = list(dict.fromkeys(e.message for e in errors))
    first = errors[0]
    if len(messages) == 1:
        return first
    return RowError(first.category, "; ".join(messages), code=first.code, http_status=first.http_status)


__all__ = [
    "ASSOCIATION_BATCH_SIZE",
    "CREATE",
    "REMOVE_LABELS",
    "AssociationWrites",
    "association_batch_path",
    "create_associations",
    "remove_associations",
]
