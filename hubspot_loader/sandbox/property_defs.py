"""Property definitions as the sandbox stores them, and their rendering as HubSpot's ``Property`` model.

The standard objects' definitions are data (:mod:`~hubspot_loader.sandbox.catalog_data`); this module holds
the classes and the builders those tables, the configuration and the properties API use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hubspot_loader.sandbox.config import PropertyConfig

#: The fieldType a property gets when a table or a configuration names only its type (our choice; the
#: properties API itself requires both, reference §16.6).
FIELD_TYPE_BY_TYPE = {
    "string": "text",
    "number": "number",
    "bool": "booleancheckbox",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "phone_number": "phonenumber",
}
#: ``createdAt``/``updatedAt`` of the built-in definitions (HubSpot's own dates are not documented).
BUILT_IN_TIMESTAMP = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class PropertyOption:
    """One allowed value of an enumeration or bool property (HubSpot's ``Option``)."""

    value: str
    label: str
    description: str = ""
    display_order: int | None = None
    hidden: bool = False

    def to_api(self, position: int) -> dict[str, Any]:
        """Render as ``Option`` (``displayOrder`` defaults to the position in the list)."""
        order = self.display_order if self.display_order is not None else position
        return {
            "label": self.label,
            "value": self.value,
            "description": self.description,
            "displayOrder": order,
            "hidden": self.hidden,
        }


@dataclass(frozen=True)
class PropertyDef:
    """One property of an object type, as served by the properties API and used by validation."""

    name: str
    type: str
    field_type: str
    label: str
    group: str
    options: tuple[PropertyOption, ...] = ()
    unique: bool = False
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    description: str = ""
    display_order: int | None = None
    hidden: bool = False
    form_field: bool | None = None
    data_sensitivity: str = "non_sensitive"
    created_at: str = BUILT_IN_TIMESTAMP

    @property
    def option_values(self) -> tuple[str, ...]:
        """Internal values of the allowed options (enumerations and bools)."""
        return tuple(option.value for option in self.options)

    @property
    def multi_valued(self) -> bool:
        """Whether the enumeration accepts several ``;``-separated values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_api(self, display_order: int) -> dict[str, Any]:
        """Render as HubSpot's ``Property`` model (``display_order`` unless one is stored)."""
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [option.to_api(i) for i, option in enumerate(self.options)],
            "displayOrder": self.display_order if self.display_order is not None else display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "formField": (not self.read_only) if self.form_field is None else self.form_field,
            "archived": False,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "dataSensitivity": self.data_sensitivity,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
        }
        if self.type == "enumeration" or self.type == "bool":
            data["modificationMetadata"]["readOnlyOptions"] = self.hubspot_defined and self.type == "bool"
        return data


def option_label(value: str) -> str:
    """Return a table option's label: ``Yes``/``No`` for bools, else the value in title case."""
    if value == "true":
        return "Yes"
    if value == "false":
        return "No"
    return value.replace("_", " ").title()


def define(
    name: str,
    type_: str = "string",
    label: str = "",
    *,
    field_type: str = "",
    options: tuple[str, ...] = (),
    unique: bool = False,
    read_only: bool = False,
    calculated: bool = False,
) -> PropertyDef:
    """Build a built-in definition from a table row (labels, fieldType and bool options filled in).

    The group is ``information``; the tables move system properties to ``system`` with ``replace``.
    """
    if type_ == "bool" and not options:
        options = ("true", "false")
    return PropertyDef(
        name=name,
        type=type_,
        field_type=field_type or FIELD_TYPE_BY_TYPE[type_],
        label=label or name.replace("hs_", "").replace("_", " ").capitalize(),
        group="information",
        options=tuple(PropertyOption(o, option_label(o)) for o in options),
        unique=unique,
        read_only=read_only or calculated,
        calculated=calculated,
    )


def property_from_config(prop: PropertyConfig) -> PropertyDef:
    """Build a :class:`PropertyDef` for a property declared by configuration (group ``custom``)."""
    base = define(
        prop.name,
        prop.type,
        prop.label,
        field_type=prop.field_type,
        options=prop.options,
        unique=prop.unique,
        read_only=prop.read_only,
    )
    return replace(base, group="custom", hubspot_defined=False)
