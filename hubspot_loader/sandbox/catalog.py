"""Object types and association types: resolving type references, properties and labels per portal.

The tables (standard objects, their properties, HubSpot's default association type ids) are in
:mod:`~hubspot_loader.sandbox.catalog_data`; the property classes in
:mod:`~hubspot_loader.sandbox.property_defs`. Their names stay importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubspot_loader.sandbox.catalog_data import (
    ASSOCIATION_PAIRS,
    DEAL_STAGES,
    ENGAGEMENT_ASSOCIATIONS,
    ENGAGEMENT_TARGETS,
    INDUSTRIES,
    LIFECYCLE_STAGES,
    PRIMARY_IMPLIES,
    STANDARD_OBJECT_TYPES,
    STANDARD_PROPERTIES,
    system_properties,
)
from hubspot_loader.sandbox.config import CustomAssociationConfig, CustomObjectConfig, SandboxConfig
from hubspot_loader.sandbox.property_defs import (
    FIELD_TYPE_BY_TYPE,
    PropertyDef,
    PropertyOption,
    property_from_config,
)


@dataclass(frozen=True)
class ObjectType:
    """An object type the sandbox serves (standard or custom)."""

    name: str
    type_id: str
    singular: str
    write_scopes: tuple[str, ...]
    read_scopes: tuple[str, ...]
    modified_property: str
    default_properties: tuple[str, ...]
    properties: dict[str, PropertyDef] = field(hash=False, compare=False)
    aliases: tuple[str, ...] = ()
    custom: bool = False

    @property
    def error_name(self) -> str:
        """The upper-case name HubSpot uses in association errors (``CONTACT``)."""
        return self.singular.upper()

    def unique_properties(self) -> tuple[str, ...]:
        """Names of writable properties with ``hasUniqueValue`` (checked for conflicts)."""
        return tuple(p.name for p in self.properties.values() if p.unique and not p.read_only)


@dataclass(frozen=True)
class AssociationType:
    """A directed association type: ``from_type`` → ``to_type`` with id ``type_id``."""

    type_id: int
    from_type: str
    to_type: str
    category: str
    label: str | None
    inverse_id: int
    implies: int | None = None

    def to_label(self) -> dict[str, Any]:
        """Render as ``AssociationSpecWithLabel``."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


def _pairs() -> list[tuple[str, str, int, int, str | None, str | None]]:
    pairs = list(ASSOCIATION_PAIRS)
    for engagement, type_ids in ENGAGEMENT_ASSOCIATIONS.items():
        for target, type_id in zip(ENGAGEMENT_TARGETS, type_ids, strict=True):
            pairs.append((engagement, target, type_id, type_id - 1, None, None))
    return pairs


def default_association_types() -> dict[int, AssociationType]:
    """HubSpot's HUBSPOT_DEFINED association types, keyed by type id."""
    table: dict[int, AssociationType] = {}
    for from_t, to_t, tid, inv, label, inv_label in _pairs():
        table[tid] = AssociationType(
            tid, from_t, to_t, "HUBSPOT_DEFINED", label, inv, PRIMARY_IMPLIES.get(tid)
        )
        if inv != tid:
            table[inv] = AssociationType(
                inv, to_t, from_t, "HUBSPOT_DEFINED", inv_label, tid, PRIMARY_IMPLIES.get(inv)
            )
    return table


class Catalog:
    """Resolves object type references and holds property and association definitions."""

    def __init__(self, config: SandboxConfig) -> None:
        self.portal_id = config.portal_id
        self.types: dict[str, ObjectType] = {}
        self._lookup: dict[str, ObjectType] = {}
        for name, tid, singular, write, read, defaults in STANDARD_OBJECT_TYPES:
            props = {p.name: p for p in STANDARD_PROPERTIES[name]}
            modified = "lastmodifieddate" if name == "contacts" else "hs_lastmodifieddate"
            self._add(ObjectType(name, tid, singular, write, read, modified, defaults, props))
        for custom in config.custom_objects:
            self._add_custom(custom)
        for ref, props_cfg in config.extra_properties:
            obj = self.resolve(ref)
            if obj is None:
                raise ValueError(f"extra_properties: unknown object type {ref!r}")
            for prop in props_cfg:
                obj.properties[prop.name] = property_from_config(prop)
        self.associations = default_association_types()
        for custom in config.custom_objects:
            for assoc in custom.associations:
                self._add_custom_association(custom, assoc)

    def _add(self, obj: ObjectType) -> None:
        self.types[obj.type_id] = obj
        for key in (obj.name, obj.type_id, obj.singular, *obj.aliases):
            self._lookup[key.lower()] = obj

    def _add_custom(self, custom: CustomObjectConfig) -> None:
        if not custom.type_id.startswith("2-"):
            raise ValueError(
                f"custom object {custom.name}: type id must look like 2-123, got {custom.type_id}"
            )
        props = {p.name: p for p in system_properties("hs_lastmodifieddate")}
        for prop in custom.properties:
            props[prop.name] = property_from_config(prop)
        first = [p.name for p in custom.properties][:1]
        self._add(
            ObjectType(
                name=f"p_{custom.name}",
                type_id=custom.type_id,
                singular=custom.name,
                write_scopes=("crm.objects.custom.write",),
                read_scopes=("crm.objects.custom.read",),
                modified_property="hs_lastmodifieddate",
                default_properties=tuple(first),
                properties=props,
                aliases=(f"p{self.portal_id}_{custom.name}",),
                custom=True,
            )
        )

    def _add_custom_association(self, custom: CustomObjectConfig, assoc: CustomAssociationConfig) -> None:
        target = self.resolve(assoc.to_object)
        if target is None:
            raise ValueError(f"custom object {custom.name}: unknown association target {assoc.to_object}")
        self.associations[assoc.type_id] = AssociationType(
            assoc.type_id, custom.type_id, target.type_id, "USER_DEFINED", assoc.label, assoc.inverse_type_id
        )
        self.associations[assoc.inverse_type_id] = AssociationType(
            assoc.inverse_type_id, target.type_id, custom.type_id, "USER_DEFINED", assoc.label, assoc.type_id
        )

    def resolve(self, ref: str) -> ObjectType | None:
        """Find an object type by plural name, singular name, ``0-x``/``2-x`` id or ``p_name`` form.

        A custom object's bare name is not accepted (HubSpot removed that in June 2025).
        """
        obj = self._lookup.get(ref.lower())
        if obj is not None and obj.custom and ref.lower() == obj.singular.lower():
            return None
        return obj

    def labels(self, from_type: ObjectType, to_type: ObjectType) -> list[dict[str, Any]]:
        """Association labels between two types, as ``AssociationSpecWithLabel`` dicts."""
        return [
            a.to_label()
            for a in sorted(self.associations.values(), key=lambda a: a.type_id)
            if a.from_type == from_type.type_id and a.to_type == to_type.type_id
        ]

    def v3_association_name(self, assoc: AssociationType) -> str:
        """Return the v3 ``type`` name of an association (``contact_to_company[_unlabeled]``)."""
        src = self.types[assoc.from_type].singular
        dst = self.types[assoc.to_type].singular
        name = f"{src}_to_{dst}"
        if assoc.type_id in PRIMARY_IMPLIES.values():
            name += "_unlabeled"
        return name


__all__ = [
    "DEAL_STAGES",
    "FIELD_TYPE_BY_TYPE",
    "INDUSTRIES",
    "LIFECYCLE_STAGES",
    "STANDARD_PROPERTIES",
    "AssociationType",
    "Catalog",
    "ObjectType",
    "PropertyDef",
    "PropertyOption",
    "default_association_types",
    "property_from_config",
]
