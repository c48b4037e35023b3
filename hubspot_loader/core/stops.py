"""Why a load stopped, in one line that says what to do (the README's failure model).

A load stops, instead of failing rows one by one, when nothing more can be sent: the token is refused
(401), it lacks a scope (403), HubSpot's daily limit is reached, or HubSpot cannot be reached. The
scope names come from HubSpot's API specs as collected in ``shared/reference/hubspot-api.md``:

- batch create: §10.2 ("Scopes for batch create"): ``crm.objects.contacts.write``,
  ``crm.objects.companies.write``, ``crm.objects.deals.write``, ``tickets``, ``crm.objects.custom.write``
  for custom objects and the generic ``{objectType}`` endpoint ...;
- reads of the objects (the lookups of rows whose answer was lost, association labels): the matching
  ``.read`` scope, e.g. ``crm.objects.deals.read`` (§5.7, HubSpot's Errors guide); the association
  operations accept read scopes (§16.5);
- property definitions (preflight): ``crm.schemas.<type>.read``, the read counterpart of the
  ``crm.schemas.<type>.write`` scope the properties API lists (§16.6).

When HubSpot's 403 body names the scopes it wants (``requiredScopes``), the message shows them too.
:func:`aborted` gives every row without an outcome a failure and builds the :class:`LoadAborted` to
raise: ``UNMATCHED_RESULT`` (in doubt) for the rows already handed to the client, whose batch may have
been sent and created, ``NOT_SENT`` for the others. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hubspot_loader.core.associations import normalize_object_type
from hubspot_loader.core.formatting import format_series
from hubspot_loader.core.model import (
    FAILED,
    NOT_SENT,
    UNMATCHED_RESULT,
    LoadResult,
    PreparedInput,
    RowError,
    RowOutcome,
)
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotError,
    HubSpotLoaderError,
    HubSpotRateLimitError,
    HubSpotScopeError,
    HubSpotTransportError,
)

#: Standard object type (canonical plural name) → the part of its scope names (``crm.objects.<part>.…``).
_SCOPE_PARTS = {
    "contacts": "contacts", "companies": "companies", "deals": "deals", "products": "products",
    "line_items": "line_items", "quotes": "quotes", "leads": "leads",
    # engagements are written with the contacts scope (§10.2)
    "calls": "contacts", "meetings": "contacts", "notes": "contacts", "tasks": "contacts",
    "communications": "contacts", "postal_mail": "contacts", "emails": "contacts",
    "invoices": "invoices", "orders": "orders", "carts": "carts", "users": "users",
    "projects": "projects", "goal_targets": "goals",
}  # fmt: skip

MAX_SCOPES_SHOWN = 3
"""HubSpot may list dozens of alternative scopes; the message shows the first few."""


def _part(object_type: str) -> str:
    """Return the scope part of ``object_type``; types not listed (``p_vendor``, ``2-123``) are custom."""
    return _SCOPE_PARTS.get(normalize_object_type(object_type), "custom")


def write_scope(object_type: str) -> str:
    """Return the scope that lets a private app create ``object_type`` records (``crm.objects.…write``)."""
    if normalize_object_type(object_type) == "tickets":
        return "tickets"
    return f"crm.objects.{_part(object_type)}.write"


def read_scope(object_type: str) -> str:
    """Return the scope that lets a private app read ``object_type`` records (``crm.objects.…read``)."""
    if normalize_object_type(object_type) == "tickets":
        return "tickets"
    return f"crm.objects.{_part(object_type)}.read"


#: Object types with their own ``crm.schemas.<type>.*`` scopes (§16.6); any other uses ``custom``.
_SCHEMA_TYPES = frozenset(
    {"contacts", "companies", "deals", "tickets", "quotes", "invoices", "orders", "carts", "courses",
     "listings", "services", "projects", "subscriptions", "appointments", "commercepayments"}
)  # fmt: skip


def schema_read_scope(object_type: str) -> str:
    """Return the scope that lets a private app read ``object_type``'s property definitions."""
    name = normalize_object_type(object_type)
    return f"crm.schemas.{name if name in _SCHEMA_TYPES else 'custom'}.read"


def _scopes_hint(exc: HubSpotScopeError, wanted: str) -> str:
    named = [s for s in dict.fromkeys(exc.required_scopes) if s != wanted]
    if not named:
        return ""
    shown = ", ".join(named[:MAX_SCOPES_SHOWN])
    more = f" and {len(named) - MAX_SCOPES_SHOWN} more" if len(named) > MAX_SCOPES_SHOWN else ""
    return f" (HubSpot names: {shown}{more})"


def _http(exc: HubSpotError) -> str:
    response = exc.response
    if response is None:
        return "no HTTP answer"
    parts = [f"HTTP {response.status}"]
    if response.category:
        parts.append(response.category)
    text = " ".join(parts)
    if response.correlation_id:
        text += f", correlationId {response.correlation_id}"
    return text


def stop_reason(exc: BaseException, object_type: str, *, doing: str, scope: str) -> str:
    """Say in one line why the load stopped while ``doing`` (e.g. ``"creating contacts"``) and what to do.

    ``scope`` is the scope the step needs (see :func:`write_scope`, :func:`read_scope`,
    :func:`schema_read_scope`); it is named when HubSpot answered 403.
    """
    if isinstance(exc, HubSpotAuthenticationError):
        text = (
            f"HubSpot refused the access token ({_http(exc)}) while {doing}: the token is wrong, expired "
            "or revoked; give the loader a valid private-app token for this portal (e.g. in "
            "HUBSPOT_ACCESS_TOKEN)"
        )
    elif isinstance(exc, HubSpotScopeError):
        text = (
            f"the access token lacks a scope needed for {doing} ({_http(exc)}): grant the private app "
            f"the scope {scope}{_scopes_hint(exc, scope)} and run again"
        )
    elif isinstance(exc, HubSpotRateLimitError) and exc.daily:
        text = f"{exc.message} ({_http(exc)})" if exc.message else "HubSpot's DAILY API limit is reached"
    elif isinstance(exc, HubSpotTransportError):
        text = f"HubSpot did not answer while {doing} ({exc}); check the base URL and the network"
    elif isinstance(exc, HubSpotError):
        text = f"HubSpot answered an error while {doing}: {exc}"
    else:
        text = f"unexpected {type(exc).__name__} while {doing}: {exc}"
    return one_line(f"load of {object_type} stopped: {text}")


def one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into one space."""
    return " ".join(text.split())


class LoadAborted(HubSpotLoaderError, RuntimeError):
    """The load stopped part-way (token refused, missing scope, daily limit, HubSpot unreachable ...).

    ``str(error)`` is one line saying why and what to do. ``result`` accounts for every row: those
    answered before the stop keep their outcome (rows created stay created, with their ids); rows sent
    whose creation was not confirmed are failed in doubt (``UNMATCHED_RESULT``; a ledger keeps them
    pending, so the next run looks them up before anything is resent); the rows never sent are failed
    with category ``NOT_SENT`` (those of the batch HubSpot refused carry its error). ``result.stopped``
    holds the same line. The original error is the ``__cause__``.
    """

    def __init__(self, message: str, result: LoadResult) -> None:
        super().__init__(message)
        self.result = result


def aborted(
    df: pd.DataFrame,
    key_column: str | None,
    result: LoadResult,
    message: str,
    pending: Iterable[PreparedInput] = (),
) -> LoadAborted:
    """Account for every row of ``df`` that has no outcome yet; return the error to raise.

    ``pending`` are inputs handed to the client whose outcome never reached the load (the load stopped
    while their batch was being written, or before its outcome was recorded): their batch may have been
    sent and created, so they fail in doubt (``UNMATCHED_RESULT``), with their key and trace id. Every
    other row without an outcome was never sent: it is found by position and fails ``NOT_SENT``.
    """
    message = one_line(message)
    in_doubt = RowError(
        category=UNMATCHED_RESULT,
        message=(
            f"handed to HubSpot's batch create when the load stopped ({message}): it may have been "
            "created; not confirmed"
        ),
    )
    for item in pending:
        result.rows.append(
            RowOutcome(
                key=item.key, position=item.position, status=FAILED, error=in_doubt, trace_id=item.trace_id
            )
        )
    error = RowError(category=NOT_SENT, message=f"not sent: {message}")
    seen = set(result.rows.positions())
    if len(seen) < len(df):
        keys = _keys(df, key_column)
        for position in range(len(df)):
            if position not in seen:
                key = (keys[position] if keys is not None else None) or str(position)
                result.rows.append(RowOutcome(key=key, position=position, status=FAILED, error=error))
    result.stopped = message
    return LoadAborted(message, result)


def _keys(df: pd.DataFrame, key_column: str | None) -> list[str | None] | None:
    if key_column is None or key_column not in df.columns:
        return None
    try:
        return format_series(df[key_column], column=key_column).values
    except Exception:  # keys that cannot be formatted: those rows are named by position
        return None
