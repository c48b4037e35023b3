"""A key property for every object type: a unique text property that holds the warehouse key.

Companies, deals and most custom objects have no unique property, so a row whose answer was lost cannot
be looked up (it is resent, and may be duplicated) and an existing record cannot be adopted. With
``HubSpotLoadSpec(key_property="warehouse_key")`` the load makes sure a text property of that name with
``hasUniqueValue`` exists (:func:`ensure_key_property`), sends each row's key in it, and uses it as the
unique property: lost answers are reconciled, existing records adopted and rows found for update by it,
for every object type (``docs/sync-modes.md``).

``hasUniqueValue`` can only be set when a property is created, never on an existing one, and an object
type has at most 10 unique properties (reference §16.6): an existing property of that name that is not
unique is refused with a message saying so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.plan import LoadPlan
from hubspot_loader.core.stops import aborted, read_scope, stop_reason
from hubspot_loader.errors import HubSpotConflictError, HubSpotError, HubSpotScopeError, LoadUsageError

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

_FALLBACK_GROUPS = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "tickets": "ticketinformation",
}
"""HubSpot's default property group of the standard object types (used when no definition names one)."""


class KeyPropertyError(LoadUsageError):
    """The key property cannot be used: it exists without unique values, or it may not be created."""


def with_key_property(plan: LoadPlan, key_property: str) -> LoadPlan:
    """Return ``plan`` sending the key column as ``key_property`` too.

    Raises:
        LoadUsageError: no key column, or another column is already sent as that property.

    """
    key_column = plan.key_column
    if key_column is None:
        raise LoadUsageError("key_property sends each row's warehouse key: pass key_column")
    taken = [c for c, p in plan.properties.items() if p == key_property and c != key_column]
    if taken:
        raise LoadUsageError(
            f"key_property {key_property!r} is already the property of column {taken[0]!r}: the load sends "
            "the key column as the key property; drop that mapping or choose another key_property"
        )
    return LoadPlan(
        plan.object_type, {**plan.properties, key_column: key_property}, plan.associations, key_column
    )


def _schema_scope(object_type: str) -> str:
    """Return the scope that lets a token create properties of ``object_type`` (reference §16.6)."""
    standard = object_type in _FALLBACK_GROUPS
    return f"crm.schemas.{object_type}.write" if standard else "crm.schemas.custom.write"


def key_property_definition(
    object_type: str, name: str, definitions: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return the ``PropertyCreate`` body of the key property (a unique single-line text property, §16.6)."""
    groups = Counter(str(d.get("groupName")) for d in definitions if d.get("groupName"))
    group = groups.most_common(1)[0][0] if groups else _FALLBACK_GROUPS.get(object_type, "")
    return {
        "name": name,
        "label": name.replace("_", " ").strip().capitalize() or name,
        "description": "The warehouse key of the row this record was loaded from (hubspot_loader).",
        "type": "string",
        "fieldType": "text",
        "groupName": group,
        "hasUniqueValue": True,
    }


def ensure_key_property(
    client: HubSpotClient, object_type: str, name: str, *, create: bool = True
) -> str | None:
    """Make sure ``name`` is a unique text property of ``object_type``; return a warning, or ``None``.

    Creates it when it is missing (``create=False``, a dry run: only says it would). Reads the definitions
    through the client's cache, so preflight afterwards sees the new property.

    Raises:
        KeyPropertyError: the property exists without unique values, or the token may not create it
            (403: the message names the property to create by hand and the scope that would allow it).
        HubSpotError: the definitions could not be read, or the create failed otherwise.

    """
    definitions = client.properties(object_type)
    found = next((d for d in definitions if d.get("name") == name), None)
    if found is not None:
        if not found.get("hasUniqueValue"):
            raise KeyPropertyError(
                f"key_property {name!r} of {object_type} exists but does not require unique values, and "
                "HubSpot cannot make an existing property unique: choose another key_property name (the load "
                "creates it) or create a unique one by hand"
            )
        return None
    definition = key_property_definition(object_type, name, definitions)
    if not create:
        return f"dry run: key_property {name!r} does not exist in {object_type}; a real run creates it"
    try:
        client.create_property(object_type, definition)
    except HubSpotConflictError:  # created meanwhile (a concurrent load, or a resent create): check it
        return ensure_key_property(client, object_type, name, create=False)
    except HubSpotScopeError as exc:
        raise KeyPropertyError(
            f"key_property {name!r} does not exist in {object_type} and this token may not create it "
            f"({exc}): create it in HubSpot (Settings → Properties → {object_type}: single-line text, "
            f"internal name {name!r}, 'Require unique values for this property' on) or give the private "
            f"app the scope {_schema_scope(object_type)}"
        ) from exc
    except HubSpotError:
        raise
    return f"created the key property {name!r} of {object_type} (unique single-line text)"


def plan_with_key_property(
    df: pd.DataFrame,
    plan: LoadPlan,
    client: HubSpotClient | None,
    name: str,
    result: LoadResult,
    dry_run: bool,
) -> LoadPlan:
    """Return ``plan`` sending the key column as the key property too, once the property surely exists.

    Raises:
        LoadUsageError: the property cannot be used (:class:`KeyPropertyError`, :func:`with_key_property`).
        LoadAborted: its definition could not be read or created (every row ``NOT_SENT``).

    """
    plan = with_key_property(plan, name)
    if client is None:
        return plan
    try:
        note = ensure_key_property(client, plan.object_type, name, create=not dry_run)
    except HubSpotError as exc:
        doing = f"making sure the key property {name!r} of {plan.object_type} exists"
        message = stop_reason(exc, plan.object_type, doing=doing, scope=read_scope(plan.object_type))
        raise aborted(df, plan.key_column, result, message) from exc
    if note is not None:
        result.warnings.append(note)
    return plan
