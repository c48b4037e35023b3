"""Checking a ``POST …/properties/{objectType}`` body and turning it into the stored definition.

HubSpot's rules (reference §9, §16.6): ``PropertyCreate`` requires ``name``, ``label``, ``type``,
``fieldType`` and ``groupName``; ``type`` and ``fieldType`` come from fixed lists and must form one of the
Properties guide's valid pairs ("both type and fieldType values are required"); enumerations need
``options``; an option (``OptionInput``) requires ``label``, ``value`` and ``hidden``, and in 2026-03 also
``displayOrder``; an object type has at most 10 unique-value properties. The error texts are ours (HubSpot
documents none for this endpoint); malformed input uses HubSpot's ``Invalid input JSON`` form (§5.5).
"""

from __future__ import annotations

from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.catalog import ObjectType
from hubspot_loader.sandbox.catalog_data import (
    FIELD_TYPES,
    MAX_UNIQUE_PROPERTIES,
    PROPERTY_TYPES,
    VALID_FIELD_TYPES,
)
from hubspot_loader.sandbox.errors import HubSpotError
from hubspot_loader.sandbox.property_defs import PropertyDef, PropertyOption

REQUIRED_FIELDS = ("name", "label", "type", "fieldType", "groupName")
DATA_SENSITIVITIES = ("highly_sensitive", "non_sensitive", "sensitive")
#: optional fields checked for their JSON type: (Python type, the name in the error text)
_OPTIONAL_TYPES: dict[str, tuple[type, str]] = {
    "description": (str, "String"),
    "displayOrder": (int, "int"),
    "hasUniqueValue": (bool, "boolean"),
    "hidden": (bool, "boolean"),
    "formField": (bool, "boolean"),
    "dataSensitivity": (str, "String"),
}


def _missing(fields: list[str], where: str = "") -> HubSpotError:
    detail = f"Missing required creator property '{fields[0]}'{where}"
    exc = errors.bad_input(detail)
    exc.body["errors"] = [
        {"message": f"Missing required creator property '{name}'{where}", "in": name} for name in fields
    ]
    return exc


def _enum_error(field: str, value: Any, allowed: tuple[str, ...]) -> HubSpotError:
    return errors.bad_input(
        f'Cannot deserialize value of type `{field}` from String "{value}": not one of the values '
        f"accepted for Enum class: [{', '.join(allowed)}]"
    )


def _check_optional_types(data: dict[str, Any]) -> None:
    for name, (kind, expected) in _OPTIONAL_TYPES.items():
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise errors.bad_input(f"Cannot deserialize value of type `{expected}` for property '{name}'")


def _options(raw: Any, *, require_display_order: bool) -> tuple[PropertyOption, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        raise errors.bad_input("Cannot deserialize `options`: expected an array of objects")
    required = ("label", "value", "hidden", *(("displayOrder",) if require_display_order else ()))
    out: list[PropertyOption] = []
    for position, option in enumerate(raw):
        missing = [name for name in required if option.get(name) is None]
        if missing:
            raise _missing(missing, f" (options[{position}])")
        if not isinstance(option["label"], str) or not isinstance(option["value"], str):
            raise errors.bad_input(
                f"Cannot deserialize `options[{position}]`: label and value must be strings"
            )
        order = option.get("displayOrder")
        out.append(
            PropertyOption(
                value=option["value"],
                label=option["label"],
                description=str(option.get("description") or ""),
                display_order=order if isinstance(order, int) and not isinstance(order, bool) else None,
                hidden=bool(option["hidden"]),
            )
        )
    return tuple(out)


def _check_type_pair(kind: Any, field_type: Any) -> None:
    if kind not in PROPERTY_TYPES:
        raise _enum_error("PropertyType", kind, PROPERTY_TYPES)
    if field_type not in FIELD_TYPES:
        raise _enum_error("FieldType", field_type, FIELD_TYPES)
    if field_type not in VALID_FIELD_TYPES[kind]:
        raise errors.validation(
            f"fieldType {field_type} is not valid for a property of type {kind}; valid fieldType values: "
            f"[{', '.join(VALID_FIELD_TYPES[kind])}]"
        )


def parse_property_create(
    data: Any, obj: ObjectType, *, date_versioned: bool, created_at: str
) -> PropertyDef:
    """Return the definition a valid ``PropertyCreate`` body describes; raise the 400 it deserves.

    ``date_versioned`` applies the 2026-03 option rules (``displayOrder`` required). A name already defined
    on ``obj`` is not checked here (the caller answers 409 under its lock).
    """
    if not isinstance(data, dict):
        raise errors.bad_input("Cannot deserialize value of type `PropertyCreate`: expected an object")
    missing = [name for name in REQUIRED_FIELDS if data.get(name) in (None, "")]
    if missing:
        raise _missing(missing)
    not_text = [name for name in REQUIRED_FIELDS if not isinstance(data[name], str)]
    if not_text:
        raise errors.bad_input(
            f"Cannot deserialize value of type `java.lang.String` for property '{not_text[0]}'"
        )
    kind, field_type = data["type"], data["fieldType"]
    _check_type_pair(kind, field_type)
    _check_optional_types(data)
    sensitivity = data.get("dataSensitivity") or "non_sensitive"
    if sensitivity not in DATA_SENSITIVITIES:
        raise _enum_error("DataSensitivity", sensitivity, DATA_SENSITIVITIES)
    if kind == "enumeration" and not isinstance(data.get("options"), list):
        raise errors.validation("options are required for a property of type enumeration")
    options = _options(data.get("options"), require_display_order=date_versioned)
    if kind == "bool" and not options:
        options = (PropertyOption("true", "Yes"), PropertyOption("false", "No"))
    unique = bool(data.get("hasUniqueValue", False))
    if unique and sum(1 for p in obj.properties.values() if p.unique and not p.hubspot_defined) >= (
        MAX_UNIQUE_PROPERTIES
    ):
        raise errors.validation(
            f"An object type can have at most {MAX_UNIQUE_PROPERTIES} properties with unique values"
        )
    return PropertyDef(
        name=data["name"],
        type=kind,
        field_type=field_type,
        label=data["label"],
        group=data["groupName"],
        options=options,
        unique=unique,
        hubspot_defined=False,
        description=str(data.get("description") or ""),
        display_order=data.get("displayOrder"),
        hidden=bool(data.get("hidden", False)),
        form_field=data.get("formField"),
        data_sensitivity=sensitivity,
        created_at=created_at,
    )
