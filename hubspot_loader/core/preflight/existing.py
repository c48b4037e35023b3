"""Existing records: what online preflight reads from HubSpot before a load, and what it predicts with it.

Offline preflight judges each row against the property definitions. Two of HubSpot's rejections depend
on the records already in the portal:

- a unique value (a contact's ``email``, compared case-insensitively; any ``hasUniqueValue`` property,
  compared exactly) that an existing record holds: 409 ``CONFLICT``,
  ``<Object> already exists. Existing ID: N`` (reference §5.4);
- an association to a record id that does not exist: 400 ``VALIDATION_ERROR``,
  ``One or more associations are invalid`` with ``context.INVALID_OBJECT_IDS`` (reference §5.6).

:meth:`~hubspot_loader.core.preflight.run.PreflightChecks.lookups` says which values and ids to read
(a :class:`LookupPlan`); the caller reads them (:mod:`hubspot_loader.http.reads`) and passes what it
found as :class:`ExistingRecords` to :meth:`~hubspot_loader.core.preflight.run.PreflightChecks.report`.
Rows an earlier run of the same sync created are never flagged against their own record
(:class:`KnownRow`). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubspot_loader.core.associations import normalize_object_type
from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.preflight.properties import PropertyDefinition

_SINGULAR = {
    "contacts": "contact", "companies": "company", "deals": "deal", "tickets": "ticket",
    "products": "product", "line_items": "line item", "quotes": "quote", "tasks": "task", "notes": "note",
    "meetings": "meeting", "calls": "call", "emails": "email", "communications": "communication",
    "postal_mail": "postal mail", "leads": "lead",
}  # fmt: skip


def object_label(object_type: str) -> str:
    """Return the singular name HubSpot's messages use for an object type (``contacts`` → ``contact``)."""
    name = normalize_object_type(object_type)
    return _SINGULAR.get(name, name)


def canonical_id(text: str) -> str:
    """Return a record id as HubSpot returns it: digits lose leading zeros (``"007"`` → ``"7"``)."""
    stripped = text.strip()
    return str(int(stripped)) if stripped.isdigit() else stripped


def unique_key(prop: PropertyDefinition, text: str) -> str | None:
    """One value as HubSpot compares it for uniqueness (emails lowercased); ``None`` when empty."""
    value = prop.normalise(pd.Series([text], dtype=object)).iloc[0]
    return None if value is None or value != value or value == "" else str(value)


@dataclass(frozen=True)
class KnownRow:
    """What the sync ledger knows of a row's key: the record an earlier run of this sync created.

    ``in_doubt``: an earlier run sent the row without a settling answer; the record holding its
    ``unique_value`` of ``unique_property`` is most likely its own (the load adopts it, ``docs/ledger.md``).
    """

    hubspot_id: str | None = None
    in_doubt: bool = False
    unique_property: str | None = None
    unique_value: str | None = None


@dataclass
class LookupPlan:
    """What online preflight needs to read before a load (distinct values and ids, as sent)."""

    object_type: str
    values: dict[str, list[str]] = field(default_factory=dict)
    """Unique property → the distinct values rows send, as HubSpot compares them."""
    targets: dict[str, list[str]] = field(default_factory=dict)
    """Association target object type (canonical name) → the distinct record ids rows point at that no id
    map of this run already holds."""
    rows: int = 0
    """Rows these values and ids come from."""

    @property
    def empty(self) -> bool:
        """Whether there is nothing to read."""
        return not any(self.values.values()) and not any(self.targets.values())


@dataclass
class ExistingRecords:
    """What online preflight found in HubSpot, and what the ledger says about the rows."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Unique property → value (as compared) → id of the existing record that holds it."""
    values_checked: dict[str, set[str]] = field(default_factory=dict)
    """Unique property → values whose answer is known (held or not); only found values fail rows."""
    targets_found: dict[str, set[str]] = field(default_factory=dict)
    """Target object type (canonical name) → record ids that exist (canonical, :func:`canonical_id`)."""
    targets_checked: dict[str, set[str]] = field(default_factory=dict)
    """Target object type → record ids whose existence is known (found or not); others are not judged."""
    skipped: frozenset[str] = frozenset()
    """Keys the load does not send (the ledger has created them and the sync is incremental)."""
    known: dict[str, KnownRow] = field(default_factory=dict)
    """Key → what the ledger knows of the row (earlier runs of this sync)."""


def holder_ids(values: np.ndarray, found: Mapping[str, str]) -> np.ndarray:
    """Each row's existing record id holding its value (``None``: none holds it, or it was not read)."""
    out = np.full(len(values), None, dtype=object)
    if not found:
        return out
    mapped = pd.Series(values, dtype=object).map(found)
    present = mapped.notna().to_numpy(dtype=bool)
    out[present] = mapped.to_numpy(dtype=object)[present]
    return out


def own_rows(
    keys: Sequence[str],
    unique: Sequence[tuple[PropertyDefinition, np.ndarray]],
    existing: ExistingRecords,
) -> np.ndarray:
    """Rows not to judge against existing records: not sent (skipped), or whose record is their own.

    A row's record is its own when the existing record holding one of its unique values is the id the
    ledger holds for its key, or the record holding the value an in-doubt earlier attempt sent.
    """
    own = np.array([k in existing.skipped for k in keys], dtype=bool)
    if not existing.known:
        return own
    positions = {key: i for i, key in enumerate(keys)}
    props = {prop.name: prop for prop, _ in unique}
    for key, known in existing.known.items():
        position = positions.get(key)
        if position is None:
            continue
        mine = {known.hubspot_id} if known.hubspot_id else set()
        prop = props.get(known.unique_property or "")
        if known.in_doubt and prop is not None and known.unique_value:
            value = unique_key(prop, known.unique_value)
            holder = existing.values.get(prop.name, {}).get(value or "")
            if holder is not None:
                mine.add(holder)
        for prop_def, values in unique:
            value = values[position]
            if value is not None and existing.values.get(prop_def.name, {}).get(value) in mine:
                own[position] = True
    return own


def known_targets(
    associations: Sequence[AssociationColumn], id_maps: Mapping[str, Mapping[str, str]] | None
) -> dict[str, set[str]]:
    """Return the record ids this run knows exist, per target type: the id maps of ``keys_from`` columns."""
    known: dict[str, set[str]] = {}
    for association in associations:
        id_map = (id_maps or {}).get(association.keys_from or "")
        if association.keys_from is not None and id_map is not None:
            target = normalize_object_type(association.to_object_type)
            known.setdefault(target, set()).update(canonical_id(str(v)) for v in id_map.values())
    return known


def missing_targets(
    targets: pd.Series, target_type: str, existing: ExistingRecords
) -> dict[int, list[str]]:
    """Row position → the record ids it points at that HubSpot does not have (checked and not found).

    ``targets`` holds one id per line, indexed by row position (as sent).
    """
    checked = existing.targets_checked.get(target_type, set())
    if not checked or targets.empty:
        return {}
    canonical = targets.map(canonical_id)
    found = existing.targets_found.get(target_type, set())
    missing = canonical.isin(pd.Index(list(checked), dtype=object)) & ~canonical.isin(
        pd.Index(list(found), dtype=object)
    )
    out: dict[int, list[str]] = {}
    for position, text in targets[missing.to_numpy(dtype=bool)].items():
        out.setdefault(int(position), []).append(str(text))  # type: ignore[call-overload]
    return out


def distinct(values: Collection[object]) -> list[str]:
    """Return the distinct non-empty texts of ``values``, in first-seen order."""
    return [str(v) for v in dict.fromkeys(v for v in values if v is not None and v != "")]
