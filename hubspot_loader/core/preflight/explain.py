"""Turn pandera's failure cases into HubSpot-style row problems, with HubSpot's codes and phrasing."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hubspot_loader.core.formatting import MAX_STRING_LENGTH
from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.preflight.associations import association_targets
from hubspot_loader.core.preflight.cells import ColumnData, FrameData, too_long
from hubspot_loader.core.preflight.codes import (
    CONFLICT,
    DUPLICATE_UNIQUE_VALUE,
    INVALID_DATE,
    INVALID_DATETIME,
    INVALID_EMAIL,
    INVALID_INTEGER,
    INVALID_KEY,
    INVALID_OBJECT_IDS,
    INVALID_OPTION,
    INVALID_STRING_LENGTH,
    INVALID_VALUE,
    PROPERTY_DOESNT_EXIST,
    READ_ONLY_VALUE,
    REQUIRED_PROPERTY,
    UNRESOLVED_ASSOCIATION,
    VALUE_CHECK,
)
from hubspot_loader.core.preflight.existing import object_label
from hubspot_loader.core.preflight.properties import PropertyDefinition, closest_properties
from hubspot_loader.core.preflight.report import RowProblem
from hubspot_loader.core.preflight.values import instants

_SHOWN = 100


def row_keys(frame: FrameData, key_column: str | None) -> list[str]:
    """Each row's key as the loader sends it (its position when there is no key column or no key)."""
    if key_column is None:
        return [str(i) for i in range(len(frame))]
    texts = frame.column(key_column).texts.tolist()
    return [k if k is not None else str(i) for i, k in enumerate(texts)]


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f"… ({len(text):,} characters)"


class Explainer:
    """Turn failing cells into HubSpot-style row problems (work done once per column, lazily)."""

    def __init__(
        self,
        frame: FrameData,
        props: Mapping[str, PropertyDefinition],
        mapped: Mapping[str, str],
        keys: list[str],
        associations: Mapping[str, AssociationColumn],
        id_maps: Mapping[str, Mapping[str, str]] | None,
    ) -> None:
        self.frame = frame
        self.props = props
        self.mapped = mapped
        self.keys = keys
        self.associations = associations
        self.id_maps = id_maps or {}
        self._key_positions: dict[str, list[int]] | None = None

    def entry(
        self, position: int, column: str | None, check: str, case: str | None = None, keeper: int = -1
    ) -> list[RowProblem]:
        """Return the row problem(s) for one failing check of row ``position``.

        ``column`` is a column of the frame, as text (``None``: a frame-wide check), ``case`` the
        failing value pandera reported (for checks of the user's schema) and ``keeper`` the row that
        keeps a unique value (for ``DUPLICATE_UNIQUE_VALUE``).
        """
        key = self.keys[position]
        prop_name = self.mapped.get(column) if column is not None else None
        data = self.frame.column(column) if column is not None else None
        text = data.texts[position] if data is not None else None
        value = _short(str(text)) if text is not None else None

        def problem(code: str, message: str) -> list[RowProblem]:
            return [RowProblem(position, key, column, prop_name, code, message, value)]

        if data is not None and prop_name is not None and check in (VALUE_CHECK, DUPLICATE_UNIQUE_VALUE):
            prop = self.props[prop_name]
            if check == DUPLICATE_UNIQUE_VALUE:
                return problem(check, self._duplicate_message(data, prop, position, keeper))
            code = self._value_code(data, prop, position)
            return problem(code, self._value_message(code, prop, data, position))
        if check == PROPERTY_DOESNT_EXIST and prop_name is not None:
            close = closest_properties(prop_name, self.props)
            hint = f" (closest existing: {', '.join(close)})" if close else ""
            return problem(check, f'Property "{prop_name}" does not exist{hint}')
        if check == READ_ONLY_VALUE and prop_name is not None:
            return problem(check, f"{prop_name} is a read-only property; its value cannot be set")
        if check == INVALID_KEY and data is not None:
            return problem(check, self._key_message(data, position))
        if check == UNRESOLVED_ASSOCIATION and column is not None and data is not None:
            return problem(check, self._unresolved_message(column, data, position))
        if check == REQUIRED_PROPERTY:
            return problem(
                check, "A contact needs at least one of the properties email, firstname or lastname"
            )
        shown = f": value {case!r}" if case is not None else ""
        return problem(check, f"failed check {check}{shown}")

    def conflict(self, position: int, column: str, existing_id: str, object_type: str) -> RowProblem:
        """Return the problem of a row whose ``column`` value an existing record holds (HubSpot's 409)."""
        data = self.frame.column(column)
        prop = self.props[self.mapped[column]]
        value = data.unique_values(prop)[position]
        text = data.texts[position]
        message = (
            f"{object_label(object_type).capitalize()} already exists. Existing ID: {existing_id} "
            f"(the existing record has {prop.name} {_short(str(value))!r})"
        )
        shown = _short(str(text)) if text is not None else None
        return RowProblem(position, self.keys[position], column, prop.name, CONFLICT, message, shown)

    def invalid_targets(self, position: int, column: str, target_type: str, ids: list[str]) -> RowProblem:
        """Return the problem of a row pointing at record ids that do not exist (HubSpot's 400)."""
        label = object_label(target_type)
        listed = ", ".join(f"{label.replace(' ', '_').upper()}={i} is not valid" for i in ids)
        message = f"One or more associations are invalid: {listed} (no {label} has that id)"
        shown = _short(", ".join(ids))
        return RowProblem(position, self.keys[position], column, None, INVALID_OBJECT_IDS, message, shown)

    def _value_code(self, data: ColumnData, prop: PropertyDefinition, position: int) -> str:
        code = data.value_codes(prop)[position]
        return str(code) if code is not None else INVALID_VALUE

    def _value_message(self, code: str, prop: PropertyDefinition, data: ColumnData, position: int) -> str:
        text = data.texts[position]
        if code == INVALID_VALUE or text is None:
            raw = data.raw[position]
            if too_long(raw):
                got = f" (got {len(raw):,})" if isinstance(raw, str) else ""
                return f"{prop.name} is longer than the maximum of {MAX_STRING_LENGTH:,} characters{got}"
            reason = data.format_reason(position)
            return f"{prop.name}: {reason}" if reason else f"{prop.name}: the value cannot be sent"
        text = str(text)
        shown = _short(text)
        if code == INVALID_STRING_LENGTH:
            limit = f"{MAX_STRING_LENGTH:,}"
            return f"{prop.name} is longer than the maximum of {limit} characters (got {len(text):,})"
        if code == INVALID_EMAIL:
            return f"Email address {shown} is invalid"
        if code == INVALID_INTEGER:
            return f"{shown} was not a valid number"
        if code == INVALID_OPTION:
            parts = [p for p in text.split(";") if p] if prop.multi else [text]
            allowed = set(prop.options)
            if prop.type == "bool":
                parts = [p.lower() if p.lower() in ("true", "false") else p for p in parts]
            bad = next((p for p in parts if p not in allowed), text)
            return f"{_short(bad)} was not one of the allowed options: [{', '.join(prop.options)}]"
        if code == INVALID_DATE:
            valid, _ = instants(pd.Series([text], dtype=object))
            if valid[0]:
                return f"{shown} is not at midnight UTC; a date property takes YYYY-MM-DD (or midnight UTC)"
            return f"{shown} was not a valid date"
        if code == INVALID_DATETIME:
            return f"{shown} was not a valid datetime"
        return f"{shown} is not valid for {prop.name}"

    def _duplicate_message(
        self, data: ColumnData, prop: PropertyDefinition, position: int, keeper: int
    ) -> str:
        value = data.unique_values(prop)[position]
        return (
            f"{prop.name} {_short(str(value))!r} is not unique in the frame: the row with key "
            f"{self.keys[keeper]!r} has it first and is the one loaded (HubSpot would reject a second "
            "object with it as already existing, CONFLICT)"
        )

    def _key_message(self, data: ColumnData, position: int) -> str:
        column = data.column
        reason = data.format_reason(position)
        if reason is not None:
            return f"key column {column!r}: the key cannot be formatted ({reason})"
        key = data.texts[position]
        if key is None:
            return f"key column {column!r}: the key is null"
        if self._key_positions is None:
            self._key_positions = {}
            for i, k in enumerate(data.texts.tolist()):
                self._key_positions.setdefault(k, []).append(i)
        same = [str(i) for i in self._key_positions.get(key, []) if i != position]
        return f"key column {column!r}: key {key!r} is not unique (also at positions {', '.join(same[:5])})"

    def _unresolved_message(self, column: str, data: ColumnData, position: int) -> str:
        association = self.associations.get(column)
        if association is None or association.keys_from is None:
            return "unresolved association"
        id_map = self.id_maps.get(association.keys_from, {})
        row = ColumnData(data.series.iloc[[position]], data.naive_timezone, data.column)
        unknown = [t for t in association_targets(row).tolist() if t not in id_map]
        keys = ", ".join(repr(k) for k in unknown)
        return (
            f"no {association.to_object_type} record with warehouse key {keys} in the id map "
            f"{association.keys_from!r} (not loaded, or it failed)"
        )
