"""The rules generated from HubSpot's property definitions, as vectorized "bad cell" tests.

The same rules back the plain pandera schema (:func:`~hubspot_loader.core.preflight.schema_from_properties`)
and :func:`~hubspot_loader.core.preflight.run_preflight`, which evaluates them directly over the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.preflight.cells import ColumnData
from hubspot_loader.core.preflight.codes import (
    INVALID_KEY,
    PROPERTY_DOESNT_EXIST,
    READ_ONLY_VALUE,
    VALUE_CHECK,
)
from hubspot_loader.core.preflight.properties import PropertyDefinition

CONTACT_IDENTITY = ("email", "firstname", "lastname")
"""A contact needs one of these properties (HubSpot's rule)."""
CONTACT_TYPES = frozenset({"contacts", "contact", "0-1"})
IDENTITY_DESCRIPTION = "a contact needs at least one of email, firstname or lastname"


@dataclass(frozen=True)
class ColumnRule:
    """A check of one column: ``bad`` marks the cells that fail it; ``code`` names it."""

    column: str
    code: str
    description: str
    bad: Callable[[ColumnData], np.ndarray]


@dataclass(frozen=True)
class UniqueRule:
    """A column sent to a ``hasUniqueValue`` property: two rows may not create the same value."""

    column: str
    prop: PropertyDefinition

    @property
    def description(self) -> str:
        """What the rule asks for, for schema descriptions."""
        return f"column {self.column!r}: {self.prop.name!r} has unique values in HubSpot"


@dataclass(frozen=True)
class IdentityRule:
    """Contacts: a row needs a non-empty value in one of ``columns`` (email, firstname, lastname)."""

    columns: tuple[str, ...]

    def bad(self, column_data: Callable[[Any], ColumnData], rows: int) -> np.ndarray:
        """Mark the rows that have none of the identity properties."""
        has = np.zeros(rows, dtype=bool)
        for column in self.columns:
            has |= column_data(column).has_text()
        return ~has


@dataclass
class GeneratedRules:
    """Every generated rule of a load: per column, for unique values, and the contact identity rule."""

    columns: list[ColumnRule] = field(default_factory=list)
    unique: list[UniqueRule] = field(default_factory=list)
    identity: IdentityRule | None = None


def _value_test(prop: PropertyDefinition) -> Callable[[ColumnData], np.ndarray]:
    return lambda data: np.asarray(pd.notna(data.value_codes(prop)), dtype=bool)


def generated_rules(
    props: Mapping[str, PropertyDefinition],
    mapping: Mapping[Any, str],
    *,
    key_column: Hashable | None,
    object_type: str | None,
) -> GeneratedRules:
    """Build the rules for the mapped columns (column → property name) and the key column.

    The rules name columns by their text (``0`` → ``"0"``).
    """
    where = object_type or "this object type"
    contacts = object_type is not None and object_type.strip().lower() in CONTACT_TYPES
    rules = GeneratedRules()
    for column, prop_name in mapping.items():
        prop = props.get(prop_name)
        name = str(column)
        if prop is None:
            text = f"column {name!r}: property {prop_name!r} does not exist on {where}"
            rules.columns.append(ColumnRule(name, PROPERTY_DOESNT_EXIST, text, ColumnData.sent))
        elif prop.read_only:
            text = f"column {name!r}: property {prop.name!r} is read-only"
            rules.columns.append(ColumnRule(name, READ_ONLY_VALUE, text, ColumnData.sent))
        else:
            text = f"column {name!r}: values HubSpot accepts for {prop.type} property {prop.name!r}"
            rules.columns.append(ColumnRule(name, VALUE_CHECK, text, _value_test(prop)))
            if prop.unique or (contacts and prop.name == "email"):
                # a contact's email is unique whatever its definition says (reference §5.4)
                rules.unique.append(UniqueRule(name, prop))
    if key_column is not None:
        text = f"key column {str(key_column)!r}: non-null and unique"
        rules.columns.append(ColumnRule(str(key_column), INVALID_KEY, text, ColumnData.key_problems))
    if contacts:
        identity = tuple(
            str(column)
            for column, prop_name in mapping.items()
            if prop_name in CONTACT_IDENTITY and prop_name in props and not props[prop_name].read_only
        )
        rules.identity = IdentityRule(identity)
    return rules
