"""Association type ids: HubSpot's defaults for standard object pairs, and label resolution.

The table is HubSpot's ``HUBSPOT_DEFINED`` *unlabeled* (non-primary) type ids for standard pairs, in both
directions (reference §11.1). Object types may be given as plural or singular names or as ``0-x`` type
ids; custom objects (``p_vendor``, ``2-123``, ``p123_vendor``) pass through unchanged and have no
defaults: give their association a ``type_id`` or a ``label``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hubspot_loader.core.model import AssociationColumn, ResolvedAssociation
from hubspot_loader.errors import HubSpotLoaderError

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
"""The association category of HubSpot's built-in type ids."""

_ALIASES: dict[str, tuple[str, ...]] = {
    "contacts": ("contact", "0-1"),
    "companies": ("company", "0-2"),
    "deals": ("deal", "0-3"),
    "tickets": ("ticket", "0-5"),
    "products": ("product", "0-7"),
    "line_items": ("line_item", "lineitem", "lineitems", "0-8"),
    "quotes": ("quote", "0-14"),
    "communications": ("communication", "0-18"),
    "tasks": ("task", "0-27"),
    "notes": ("note", "0-46"),
    "meetings": ("meeting", "0-47"),
    "calls": ("call", "0-48"),
    "emails": ("email", "0-49"),
    "postal_mail": ("postal_mails", "postalmail", "0-116"),
    "leads": ("lead", "0-136"),
}
_CANONICAL: dict[str, str] = {alias: name for name, aliases in _ALIASES.items() for alias in (name, *aliases)}


def normalize_object_type(name: str) -> str:
    """Return the canonical plural name of a standard object type (``contact``/``0-1`` → ``contacts``).

    Anything else (custom objects such as ``p_vendor`` or ``2-123``) is returned unchanged.
    """
    return _CANONICAL.get(name.strip().lower(), name)


def object_type_id(name: str) -> str | None:
    """HubSpot's ``objectTypeId`` of an object type: ``contacts``/``contact``/``0-1`` → ``0-1``.

    Type ids (``0-3``, a custom object's ``2-123``) are returned as given; custom object *names*
    (``p_vendor``, ``p123_vendor``) give ``None``: their id is per portal (``GET /crm/v3/schemas``).
    """
    text = name.strip().lower()
    canonical = _CANONICAL.get(text)
    if canonical is not None:
        return next(a for a in _ALIASES[canonical] if a.startswith("0-"))
    head, _, tail = text.partition("-")
    return text if head in {"0", "2"} and tail.isdigit() else None


def _pairs() -> dict[tuple[str, str], int]:
    table: dict[tuple[str, str], int] = {
        ("contacts", "companies"): 279,
        ("companies", "contacts"): 280,
        ("deals", "contacts"): 3,
        ("contacts", "deals"): 4,
        ("deals", "companies"): 341,
        ("companies", "deals"): 342,
        ("tickets", "contacts"): 16,
        ("contacts", "tickets"): 15,
        ("tickets", "companies"): 339,
        ("companies", "tickets"): 340,
        ("deals", "tickets"): 27,
        ("tickets", "deals"): 28,
        ("deals", "line_items"): 19,
        ("line_items", "deals"): 20,
        ("quotes", "deals"): 64,
        ("deals", "quotes"): 63,
        ("quotes", "contacts"): 69,
        ("contacts", "quotes"): 70,
        ("quotes", "companies"): 71,
        ("companies", "quotes"): 72,
        ("quotes", "line_items"): 67,
        ("line_items", "quotes"): 68,
        ("contacts", "contacts"): 449,
        ("companies", "companies"): 450,
        ("deals", "deals"): 451,
        ("tickets", "tickets"): 452,
        ("leads", "contacts"): 608,
        ("leads", "companies"): 610,
        ("companies", "leads"): 611,
        ("contacts", "leads"): 609,
    }
    # Engagements: (to contact, to company, to deal, to ticket) and the reverse direction.
    engagements = {
        "calls": ((194, 182, 206, 220), (193, 181, 205, 219)),
        "emails": ((198, 186, 210, 224), (197, 185, 209, 223)),
        "meetings": ((200, 188, 212, 226), (199, 187, 211, 225)),
        "notes": ((202, 190, 214, 228), (201, 189, 213, 227)),
        "tasks": ((204, 192, 216, 230), (203, 191, 215, 229)),
        "communications": ((81, 87, 85, 83), (82, 88, 86, 84)),
        "postal_mail": ((453, 459, 457, 455), (454, 460, 458, 456)),
    }
    for engagement, (forward, reverse) in engagements.items():
        for target, to_id, from_id in zip(
            ("contacts", "companies", "deals", "tickets"), forward, reverse, strict=True
        ):
            table[(engagement, target)] = to_id
            table[(target, engagement)] = from_id
    return table


DEFAULT_ASSOCIATION_TYPES: Mapping[tuple[str, str], int] = _pairs()
"""(from, to) canonical object types → HubSpot's default unlabeled ``HUBSPOT_DEFINED`` type id."""


PRIMARY_ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 1,
    ("companies", "contacts"): 2,
    ("deals", "companies"): 5,
    ("companies", "deals"): 6,
    ("tickets", "companies"): 26,
    ("companies", "tickets"): 25,
}
"""HubSpot's built-in *primary* ``HUBSPOT_DEFINED`` type ids (label ``Primary``; reference §11.1)."""

PRIMARY_LABEL = "primary"


class UnknownAssociationError(HubSpotLoaderError, ValueError):
    """No association type could be settled for a column (no default, or an unknown label)."""


def default_association_type(from_type: str, to_type: str) -> int:
    """HubSpot's default unlabeled type id from ``from_type`` to ``to_type`` (e.g. contact→company 279).

    Raises:
        UnknownAssociationError: no default is known for the pair; the message lists the known pairs.

    """
    pair = (normalize_object_type(from_type), normalize_object_type(to_type))
    try:
        return DEFAULT_ASSOCIATION_TYPES[pair]
    except KeyError:
        known = ", ".join(f"{a}→{b}" for a, b in sorted(DEFAULT_ASSOCIATION_TYPES))
        raise UnknownAssociationError(
            f"no default association type is known from {from_type!r} to {to_type!r}; give the "
            f"association a type_id or a label. Known default pairs: {known}"
        ) from None


def resolve_association(
    from_type: str,
    column: AssociationColumn,
    labels: Sequence[Mapping[str, Any]] | None,
    id_map: Mapping[str, str] | None,
) -> ResolvedAssociation:
    """Settle the type id and category of one association column.

    Order: an explicit ``column.type_id`` (category ``column.category`` or ``HUBSPOT_DEFINED``); else
    ``column.label`` looked up case-insensitively in ``labels`` (the ``results`` of HubSpot's labels
    endpoint: ``[{"category", "typeId", "label"}]``; category from the match unless ``column.category``
    is set) — when no labels were fetched, ``Primary`` on a standard pair uses the built-in primary type
    id (:data:`PRIMARY_ASSOCIATION_TYPES`, e.g. contact→company 1); else HubSpot's default for the pair.

    Args:
        from_type: the object type being created.
        column: the association column.
        labels: the labels endpoint's results for ``from_type`` → ``column.to_object_type``; needed only
            when the column uses a label.
        id_map: warehouse key → HubSpot id map for ``column.keys_from`` (``None``: the column holds ids).

    Raises:
        UnknownAssociationError: the label is not among ``labels`` (the message lists the available
            labels), or no default exists for the pair.

    """
    if column.type_id is not None:
        type_id, category = column.type_id, column.category or HUBSPOT_DEFINED
    elif column.label is not None:
        primary = _builtin_primary(from_type, column) if labels is None else None
        if primary is not None:
            type_id, category = primary, HUBSPOT_DEFINED
        else:
            type_id, category = _from_label(from_type, column, labels)
        category = column.category or category
    else:
        type_id = default_association_type(from_type, column.to_object_type)
        category = column.category or HUBSPOT_DEFINED
    return ResolvedAssociation(
        column=column.column,
        to_object_type=column.to_object_type,
        type_id=int(type_id),
        category=category,
        id_map=id_map,
    )


def _builtin_primary(from_type: str, column: AssociationColumn) -> int | None:
    """Return the built-in primary type id when the column asks for ``Primary`` on a standard pair."""
    if (column.label or "").strip().casefold() != PRIMARY_LABEL:
        return None
    pair = (normalize_object_type(from_type), normalize_object_type(column.to_object_type))
    return PRIMARY_ASSOCIATION_TYPES.get(pair)


def _from_label(
    from_type: str, column: AssociationColumn, labels: Sequence[Mapping[str, Any]] | None
) -> tuple[int, str]:
    wanted = (column.label or "").strip().casefold()
    for entry in labels or ():
        label = entry.get("label")
        if label is not None and str(label).strip().casefold() == wanted:
            return int(entry["typeId"]), str(entry.get("category") or HUBSPOT_DEFINED)
    available = sorted({str(e["label"]) for e in labels or () if e.get("label") is not None})
    raise UnknownAssociationError(
        f"association column {column.column!r}: label {column.label!r} is not defined from {from_type!r} "
        f"to {column.to_object_type!r}; available labels: {available or 'none'}"
    )
