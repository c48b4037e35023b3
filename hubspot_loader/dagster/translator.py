"""How a load becomes a Dagster asset: :class:`HubSpotLoad` (one load) and :class:`DagsterHubSpotTranslator`.

In the style of dagster-dlt's ``DagsterDltTranslator``: the translator's one public method,
:meth:`DagsterHubSpotTranslator.get_asset_spec`, turns the description of a load into the
``dg.AssetSpec`` of its asset (key, group, deps, tags, owners, kinds, description, metadata, automation
condition, code version). Subclass it, or give the Component a ``translation``, to change any of them::

    class MyTranslator(DagsterHubSpotTranslator):
        def get_asset_spec(self, load: HubSpotLoad) -> dg.AssetSpec:
            spec = super().get_asset_spec(load)
            return spec.replace_attributes(
                owners=["team:crm"], automation_condition=dg.AutomationCondition.eager()
            )

The builders (:func:`hubspot_loader.dagster.assets.build_hubspot_load_assets`) and the Component
(:class:`hubspot_loader.dagster.component.HubSpotLoadCollectionComponent`) call it once per load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import LoadUsageError

SourceReader = Callable[[dg.AssetExecutionContext], pd.DataFrame]
"""Reads the rows to load when the upstream asset's value is not passed through an IO manager
(e.g. a dbt model read from DuckDB)."""

AssetKeyLike = str | Sequence[str] | dg.AssetKey
"""An asset key: ``"a/b"``, ``["a", "b"]`` or a ``dg.AssetKey``."""

DEFAULT_TABLE_ROWS = 50
"""Rows kept in a materialization's metadata tables (failed rows, preflight findings)."""


def as_asset_key(value: AssetKeyLike) -> dg.AssetKey:
    """Return ``value`` as an asset key (``"hubspot/companies"`` → ``AssetKey(["hubspot", "companies"])``)."""
    if isinstance(value, dg.AssetKey):
        return value
    if isinstance(value, str):
        return dg.AssetKey.from_user_string(value)
    return dg.AssetKey(list(value))


@dataclass(frozen=True, kw_only=True)
class HubSpotLoad:
    """One load: the rows of an upstream asset, sent to HubSpot as :attr:`spec` says.

    Args:
        name: the load's name: its asset's name (the last part of the key).
        source: the upstream asset whose value is the DataFrame; with ``read_source``, the asset the
            load depends on (e.g. the dbt model whose table ``read_source`` reads).
        spec: what is sent and how rows are judged (:class:`~hubspot_loader.core.spec.HubSpotLoadSpec`).
        read_source: reads the frame in the step instead of taking the upstream value from an IO manager.
        description: the asset's description (default: says what is created from what).
        table_rows: rows kept in the metadata tables of each materialization.

    """

    name: str
    source: AssetKeyLike
    spec: HubSpotLoadSpec
    read_source: SourceReader | None = None
    description: str | None = None
    table_rows: int = DEFAULT_TABLE_ROWS

    def __post_init__(self) -> None:
        """Refuse a name, source, spec or table size that cannot make an asset."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise LoadUsageError(f"a load's name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.spec, HubSpotLoadSpec):
            raise LoadUsageError(f"load {self.name!r}: spec must be a HubSpotLoadSpec, got {self.spec!r}")
        if self.read_source is not None and not callable(self.read_source):
            raise LoadUsageError(
                f"load {self.name!r}: read_source must be callable, got {self.read_source!r}"
            )
        if isinstance(self.table_rows, bool) or not isinstance(self.table_rows, int) or self.table_rows < 0:
            raise LoadUsageError(
                f"load {self.name!r}: table_rows must be a count >= 0, got {self.table_rows!r}"
            )
        try:
            as_asset_key(self.source)
        except Exception as exc:
            raise LoadUsageError(f"load {self.name!r}: source is not an asset key ({exc})") from None

    @property
    def source_key(self) -> dg.AssetKey:
        """The upstream asset's key."""
        return as_asset_key(self.source)

    @property
    def parents(self) -> tuple[str, ...]:
        """The ``keys_from`` of the spec's association columns, each once, in order.

        They are the asset keys of the parent loads whose id maps translate warehouse keys
        (``"hubspot/companies"``).
        """
        return tuple(dict.fromkeys(a.keys_from for a in self.spec.associations if a.keys_from is not None))


class DagsterHubSpotTranslator:
    """Turns a :class:`HubSpotLoad` into the ``dg.AssetSpec`` of its asset.

    Args:
        key_prefix: prefix of every asset key (``"hubspot"`` → ``hubspot/<name>``).
        group_name: the assets' group.

    The spec's ``deps`` are the source and the parent loads named in ``keys_from`` (asset keys; the
    builder reads their id maps as inputs); its ``code_version`` is a digest of the load spec, so a
    changed spec shows as changed code in the UI.

    """

    def __init__(
        self, *, key_prefix: str | Sequence[str] | None = None, group_name: str | None = None
    ) -> None:
        self.key_prefix: tuple[str, ...] = _prefix(key_prefix)
        self.group_name = group_name

    def asset_key(self, name: str) -> dg.AssetKey:
        """Return the key of the asset of the load called ``name``."""
        return dg.AssetKey([*self.key_prefix, name])

    def get_asset_spec(self, load: HubSpotLoad) -> dg.AssetSpec:
        """Return the asset spec of ``load``: its key, group, deps, tags, kinds, description, code version."""
        spec = load.spec
        deps = [load.source_key, *(as_asset_key(parent) for parent in load.parents)]
        return dg.AssetSpec(
            key=self.asset_key(load.name),
            deps=list(dict.fromkeys(deps)),
            description=load.description or _description(load),
            group_name=self.group_name,
            kinds={"hubspot", "python"},
            tags={"hubspot/object_type": _tag_value(spec.object_type)},
            metadata={"hubspot/object_type": spec.object_type, "hubspot/key_column": spec.key_column},
            code_version=spec_code_version(spec),
        )


def spec_code_version(spec: HubSpotLoadSpec) -> str:
    """Return a short digest of ``spec`` (same spec, same digest, in any process): the code version."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name == "schema" and value is not None and not isinstance(value, str):
            value = _qualified_name(value)
        elif f.name == "associations":
            value = [dataclasses.asdict(a) for a in value]
        fields[f.name] = value
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _qualified_name(schema: object) -> str:
    target = schema if isinstance(schema, type) else type(schema)
    name = getattr(schema, "name", None)
    return f"{target.__module__}.{target.__qualname__}:{name or ''}"


def _description(load: HubSpotLoad) -> str:
    return (
        f"Creates the rows of {load.source_key.to_user_string()} as HubSpot {load.spec.object_type}, "
        f"keyed by {load.spec.key_column or 'row position'}."
    )


def _tag_value(text: str) -> str:
    """Return ``text`` as a tag value Dagster accepts (letters, digits, ``-_.``, at most 63 characters)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return cleaned[:63]


def _prefix(key_prefix: str | Sequence[str] | None) -> tuple[str, ...]:
    if key_prefix is None:
        return ()
    if isinstance(key_prefix, str):
        return tuple(dg.AssetKey.from_user_string(key_prefix).path)
    return tuple(key_prefix)
