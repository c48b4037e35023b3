"""Checks against HubSpot before the first write: token, URL, object type and property names.

The property a load reconciles lost answers by is chosen by
:func:`hubspot_loader.preflight_step.unique_property_for`, as in the library.

They all use the one properties read that preflight makes anyway (the client caches it), so they cost
no extra request.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from hubspot_loader.cli.exits import UsageError
from hubspot_loader.errors import HubSpotScopeError
from hubspot_loader.http.client import HubSpotClient

PROBE_ATTEMPTS = 2
"""Attempts of the first read (the regular policy has 5, with backoff): a closed port or a refused
token fails in about a second instead of after the full retry schedule. The load itself keeps the
client's regular retries."""

CONNECT_TIMEOUT_S = 5.0
"""Seconds to establish a connection (HubSpot's API answers connects in milliseconds)."""
READ_TIMEOUT_S = 60.0
"""Seconds to wait for an answer once connected (a batch of 100 can take HubSpot several seconds)."""


def probe(client: HubSpotClient, object_type: str) -> list[dict[str, Any]] | None:
    """Read ``object_type``'s property definitions with :data:`PROBE_ATTEMPTS` attempts; ``None`` on 403.

    A token without the properties read scope gets ``None`` (preflight then skips with a warning, as
    the library documents); every other failure raises the client's
    :class:`~hubspot_loader.errors.HubSpotError` (401, transport, unknown object type ...).
    """
    regular = client.retry
    client.retry = dataclasses.replace(regular, max_attempts=min(PROBE_ATTEMPTS, regular.max_attempts))
    try:
        return client.properties(object_type)
    except HubSpotScopeError:
        return None
    finally:
        client.retry = regular


def _suggestion(name: str, definitions: Sequence[Mapping[str, Any]]) -> str | None:
    by_text: dict[str, str] = {}
    for definition in definitions:
        prop = str(definition.get("name"))
        by_text.setdefault(prop, prop)
        label = definition.get("label")
        if label:
            by_text.setdefault(str(label).lower(), prop)
    close = difflib.get_close_matches(name.lower(), list(by_text), n=1, cutoff=0.6)
    return by_text[close[0]] if close else None


def check_properties_exist(
    mapping: Mapping[str, str], definitions: Sequence[Mapping[str, Any]], object_type: str
) -> None:
    """Refuse a load that sends a property the object type does not have (a typo, or a stray column).

    Raises:
        UsageError: "property 'fristname' (column 'first') does not exist on contacts; did you mean
            'firstname'? ...".

    """
    names = {str(d.get("name")) for d in definitions}
    unknown = [(column, prop) for column, prop in mapping.items() if prop not in names]
    if not unknown:
        return
    parts = []
    for column, prop in unknown:
        where = f" (column {column!r})" if column != prop else ""
        close = _suggestion(prop, definitions)
        hint = f"; did you mean {close!r}?" if close else ""
        parts.append(f"property {prop!r}{where} does not exist on {object_type}{hint}")
    raise UsageError(
        "; ".join(parts) + ". Send only existing properties with --property COLUMN=PROPERTY (only the "
        "columns named are sent), or create the property in HubSpot; nothing was sent"
    )


def no_unique_property_warning(object_type: str) -> str:
    """Return the warning printed before a load that cannot look lost answers up."""
    return (
        f"{object_type}: no unique property to reconcile by: if HubSpot's answer to a batch is lost "
        "(timeout, dropped connection) the batch is sent again, so duplicates are possible. Send a "
        "property HubSpot keeps unique (an external id with 'Require unique values') and name it with "
        "--unique-property"
    )
