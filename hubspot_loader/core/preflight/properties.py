"""HubSpot's property definitions, reduced to what decides whether a value is accepted."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class PropertyDefinition:
    """The parts of HubSpot's ``Property`` model that decide what a value may be."""

    name: str
    type: str
    field_type: str
    label: str
    options: tuple[str, ...]
    external_options: bool
    unique: bool
    read_only: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PropertyDefinition:
        """Read one entry of the properties API ``results``."""
        meta = data.get("modificationMetadata") or {}
        kind = str(data.get("type") or "string")
        options = tuple(str(o.get("value")) for o in data.get("options") or () if isinstance(o, Mapping))
        if kind == "bool" and not options:
            options = ("true", "false")
        return cls(
            name=str(data["name"]),
            type=kind,
            field_type=str(data.get("fieldType") or ""),
            label=str(data.get("label") or ""),
            options=options,
            external_options=bool(data.get("externalOptions")),
            unique=bool(data.get("hasUniqueValue")),
            read_only=bool(meta.get("readOnlyValue")) or bool(data.get("calculated")),
        )

    @property
    def multi(self) -> bool:
        """Whether the property takes several options (``enumeration`` with ``fieldType`` checkbox)."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def normalise(self, texts: pd.Series) -> pd.Series:
        """Wire strings → the form HubSpot compares unique values in (emails lowercased)."""
        if self.name == "email":
            return texts.str.lower()
        if self.type == "number":
            return texts.str.strip()
        return texts


def parse_definitions(definitions: Sequence[Mapping[str, Any]]) -> dict[str, PropertyDefinition]:
    """Property name → definition, for the non-archived entries of the properties API ``results``."""
    return {
        str(d["name"]): PropertyDefinition.from_api(d)
        for d in definitions
        if isinstance(d, Mapping) and d.get("name") and not d.get("archived")
    }


def closest_properties(name: str, props: Mapping[str, PropertyDefinition], n: int = 3) -> list[str]:
    """Existing property names closest to ``name`` (by name or by label), best first."""
    candidates: dict[str, str] = {}
    for prop in props.values():
        candidates.setdefault(prop.name.lower(), prop.name)
        if prop.label:
            candidates.setdefault(prop.label.lower(), prop.name)
    out: list[str] = []
    for hit in difflib.get_close_matches(name.lower(), list(candidates), n=n * 2, cutoff=0.6):
        if candidates[hit] not in out:
            out.append(candidates[hit])
    return out[:n]
