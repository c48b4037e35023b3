"""The object types ``--object-type`` and ``--associate`` accept, and a suggestion for a typo.

Accepted (reference §2.3, HubSpot's "Using object APIs" guide and changelog):

- the standard objects by name, plural or singular (``contacts``, ``contact``), or by type id (``0-1``);
  names the loader knows are turned into their canonical plural (``contact`` and ``0-1`` →
  ``contacts``), so the sync state keeps one set of rows per object type whatever the spelling;
- any other standard type id ``0-N`` and custom object type id ``2-N``;
- custom objects as ``p_{name}`` or ``p{portalId}_{name}``. A custom object's bare name stopped working
  in June 2025 and is refused here too.
"""

from __future__ import annotations

import difflib
import re

from hubspot_loader.cli.exits import UsageError
from hubspot_loader.core.associations import normalize_object_type

#: Standard object names HubSpot's object APIs take in paths (reference §2.3 path names).
STANDARD_OBJECT_TYPES: tuple[str, ...] = (
    "contacts", "companies", "deals", "tickets", "products", "line_items", "quotes", "calls", "emails",
    "meetings", "notes", "tasks", "communications", "postal_mail", "leads", "invoices", "orders", "carts",
    "discounts", "fees", "taxes", "goal_targets", "commerce_payments", "subscriptions", "users", "projects",
    "appointments", "courses", "listings", "services",
)  # fmt: skip

#: Singular spellings (and a few ids) the loader turns into the plural names above.
_ALIASES: tuple[str, ...] = (
    "contact", "company", "deal", "ticket", "product", "line_item", "quote", "call", "email", "meeting",
    "note", "task", "communication", "lead",
)  # fmt: skip

_TYPE_ID = re.compile(r"^[02]-[0-9]+$")
_CUSTOM_NAME = re.compile(r"^p[0-9]*_[a-z0-9_]+$", re.IGNORECASE)

ACCEPTED_FORMS = (
    "a standard object (contacts, companies, deals, tickets ...), a type id (0-3, 2-123) or a custom "
    "object as p_NAME (p_vendor)"
)


def check_object_type(text: str, *, option: str = "--object-type", label: str | None = None) -> str:
    """Return the object type to load for ``text``, or raise :class:`UsageError` with a suggestion.

    ``contact``, ``Contacts`` and ``0-1`` all give ``contacts``; ``contcts`` raises "unknown object
    type 'contcts'; did you mean 'contacts'?". The message starts with ``label`` when given (a spec
    file's field: ``load.yaml: object_type``), else with ``option`` unless it is ``--object-type``.
    """
    name = text.strip()
    canonical = normalize_object_type(name)
    if canonical in STANDARD_OBJECT_TYPES:
        return canonical
    if name.lower() in STANDARD_OBJECT_TYPES:
        return name.lower()
    if _TYPE_ID.match(name) or _CUSTOM_NAME.match(name):
        return name
    close = difflib.get_close_matches(name.lower(), (*STANDARD_OBJECT_TYPES, *_ALIASES), n=1, cutoff=0.6)
    where = f"{option} {text!r}: " if option != "--object-type" else ""
    if label is not None:
        where = f"{label}: "
    if close:
        suggestion = normalize_object_type(close[0])
        raise UsageError(f"{where}unknown object type {text!r}; did you mean {suggestion!r}?")
    raise UsageError(f"{where}unknown object type {text!r}; give {ACCEPTED_FORMS}")
