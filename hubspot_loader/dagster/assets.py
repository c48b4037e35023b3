"""Asset builders: Dagster assets that load upstream DataFrames into HubSpot.

Describe each load once (:class:`~hubspot_loader.dagster.translator.HubSpotLoad`: a name, the upstream
asset, a :class:`~hubspot_loader.core.spec.HubSpotLoadSpec`) and build its assets in one call::

    loads = build_hubspot_load_assets(
        [
            HubSpotLoad(name="companies", source="account_rows",
                        spec=HubSpotLoadSpec(object_type="companies", key_column="account_id")),
            HubSpotLoad(name="contacts", source="customer_rows",
                        spec=HubSpotLoadSpec(object_type="contacts", key_column="customer_id",
                                             associations=[AssociationColumn("account_id", "companies",
                                                                             keys_from="hubspot/companies")])),
        ],
        translator=DagsterHubSpotTranslator(key_prefix="hubspot", group_name="hubspot"),
    )

An association column with ``keys_from="<asset key of a load>"`` makes that load's asset an input: its
id map (warehouse key → HubSpot id) translates the column's warehouse keys. What each asset does in its
step, and how it fails, is in :mod:`hubspot_loader.dagster.load_step`; the asset spec comes from the
translator (:class:`~hubspot_loader.dagster.translator.DagsterHubSpotTranslator`).

``build_hubspot_load_asset(name=..., object_type=..., ...)``, the keyword form of earlier releases, still
works for one release, with a ``DeprecationWarning``.
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation's type object.

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.dagster.load_step import PLANNED_ID_PREFIX as PLANNED_ID_PREFIX
from hubspot_loader.dagster.load_step import ROWS_ACCEPTED_CHECK, run_load_step
from hubspot_loader.dagster.load_step import step_failure as _step_failure  # noqa: F401  (old import path)
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.dagster.translator import (
    DEFAULT_TABLE_ROWS,
    DagsterHubSpotTranslator,
    HubSpotLoad,
    as_asset_key,
)
from hubspot_loader.dagster.translator import SourceReader as SourceReader
from hubspot_loader.errors import LoadUsageError

__all__ = [
    "PLANNED_ID_PREFIX",
    "ROWS_ACCEPTED_CHECK",
    "AssetSettings",
    "SourceReader",
    "build_hubspot_load_asset",
    "build_hubspot_load_assets",
    "make_load_asset",
]


@dataclass(frozen=True, kw_only=True)
class AssetSettings:
    """How the load assets run in Dagster: the resource and the options passed to the asset decorator.

    Args:
        resource_key: the key of the :class:`HubSpotResource` the assets require.
        resource: a resource the assets use directly instead (the Component's ``resource:`` settings);
            it is not bound in the definitions, so its token stays out of the UI.
        pool: the Dagster concurrency pool (default ``hubspot``: one portal's request budget is shared).
        op_tags: tags of the assets' ops (e.g. ``dagster/max_runtime``).
        retry_policy: step retries (only transient failures reach it: see ``load_step``).
        backfill_policy: how a backfill of several partitions runs.
        partitions_def: the assets' partitions; each partition's rows are recorded with its key.

    """

    resource_key: str = "hubspot"
    resource: HubSpotResource | None = None
    pool: str | None = "hubspot"
    op_tags: Mapping[str, Any] | None = None
    retry_policy: dg.RetryPolicy | None = None
    backfill_policy: dg.BackfillPolicy | None = None
    partitions_def: dg.PartitionsDefinition | None = field(default=None)


def build_hubspot_load_assets(
    loads: Sequence[HubSpotLoad],
    *,
    translator: DagsterHubSpotTranslator | None = None,
    resource_key: str = "hubspot",
    pool: str | None = "hubspot",
    op_tags: Mapping[str, Any] | None = None,
    retry_policy: dg.RetryPolicy | None = None,
    backfill_policy: dg.BackfillPolicy | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> list[dg.AssetsDefinition]:
    """Build one asset per load, each loading its upstream frame into HubSpot.

    Args:
        loads: the loads (names unique within the call).
        translator: turns each load into its asset spec (default: key ``<name>``, no group).
        resource_key: the key of the :class:`HubSpotResource` the assets use.
        pool: the Dagster concurrency pool (default ``hubspot``); ``None`` for none.
        op_tags: tags of the assets' ops.
        retry_policy: step retries.
        backfill_policy: how a backfill of several partitions runs.
        partitions_def: the assets' partitions.

    Raises:
        LoadUsageError: two loads share a name, or a load is not a :class:`HubSpotLoad`.

    """
    settings = AssetSettings(
        resource_key=resource_key,
        pool=pool,
        op_tags=op_tags,
        retry_policy=retry_policy,
        backfill_policy=backfill_policy,
        partitions_def=partitions_def,
    )
    translator = translator or DagsterHubSpotTranslator()
    check_loads(loads)
    return [make_load_asset(load, translator.get_asset_spec(load), settings) for load in loads]


def build_hubspot_load_asset(
    load: HubSpotLoad | None = None,
    /,
    *,
    translator: DagsterHubSpotTranslator | None = None,
    resource_key: str = "hubspot",
    pool: str | None = "hubspot",
    op_tags: Mapping[str, Any] | None = None,
    retry_policy: dg.RetryPolicy | None = None,
    backfill_policy: dg.BackfillPolicy | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
    **deprecated: Any,
) -> dg.AssetsDefinition:
    """Build the asset of one load (the arguments as for :func:`build_hubspot_load_assets`).

    ``build_hubspot_load_asset(name=..., source=..., object_type=..., key_column=..., ...)``, with the
    spec's fields and ``key_prefix``, ``group_name``, ``read_source``, ``description``, ``table_rows`` as
    keywords, is the deprecated form of earlier releases: it warns (``DeprecationWarning``) and goes in
    the next release.

    Raises:
        TypeError: neither a load nor the deprecated keywords, or both.

    """
    if load is not None and deprecated:
        raise TypeError(f"build_hubspot_load_asset() got a load and old keywords {sorted(deprecated)}")
    if load is None:
        if not deprecated:
            raise TypeError("build_hubspot_load_asset() needs a HubSpotLoad")
        load, translator = _legacy_load(deprecated)
    [asset] = build_hubspot_load_assets(
        [load],
        translator=translator,
        resource_key=resource_key,
        pool=pool,
        op_tags=op_tags,
        retry_policy=retry_policy,
        backfill_policy=backfill_policy,
        partitions_def=partitions_def,
    )
    return asset


def check_loads(loads: Sequence[HubSpotLoad]) -> None:
    """Refuse anything but :class:`HubSpotLoad` objects with distinct names."""
    seen: set[str] = set()
    for i, load in enumerate(loads):
        if not isinstance(load, HubSpotLoad):
            raise LoadUsageError(f"loads[{i}] must be a HubSpotLoad, got {type(load).__name__}")
        if load.name in seen:
            raise LoadUsageError(f"two loads are named {load.name!r}: each load needs its own name")
        seen.add(load.name)


def make_load_asset(load: HubSpotLoad, spec: dg.AssetSpec, settings: AssetSettings) -> dg.AssetsDefinition:
    """Build the asset of ``load`` with the asset spec ``spec`` (the translator's, or the Component's).

    The source (unless ``read_source`` reads the frame) and each parent load of ``keys_from`` become
    inputs; the spec's other deps stay deps. The asset's value is the load's id map.
    """
    id_map_args = {parent: f"id_map_{i}" for i, parent in enumerate(load.parents)}
    ins = {arg: dg.AssetIn(key=as_asset_key(parent)) for parent, arg in id_map_args.items()}
    if load.read_source is None:
        ins["frame"] = dg.AssetIn(key=load.source_key)
    input_keys = {asset_in.key for asset_in in ins.values()}
    deps = [dep.asset_key for dep in spec.deps if dep.asset_key not in input_keys]
    partitions_def = settings.partitions_def or spec.partitions_def
    resource, resource_key = settings.resource, settings.resource_key

    @dg.multi_asset(
        name=spec.key.to_python_identifier(),
        outs={"result": dg.AssetOut.from_spec(spec.replace_attributes(deps=[]), dagster_type=dg.Any)},
        ins=ins,
        deps=deps,
        check_specs=[dg.AssetCheckSpec(ROWS_ACCEPTED_CHECK, asset=spec.key)],
        required_resource_keys=set() if resource is not None else {resource_key},
        pool=settings.pool,
        op_tags=settings.op_tags,
        retry_policy=settings.retry_policy,
        backfill_policy=settings.backfill_policy,
        partitions_def=partitions_def,
    )
    def _load(context: dg.AssetExecutionContext, **inputs: Any) -> dg.MaterializeResult:
        hubspot = resource if resource is not None else getattr(context.resources, resource_key)
        frame = load.read_source(context) if load.read_source is not None else inputs["frame"]
        id_maps = {parent: inputs[arg] for parent, arg in id_map_args.items()}
        return run_load_step(context, hubspot, load, frame, id_maps)

    return _load


_LEGACY_ASSET_OPTIONS = ("name", "source", "read_source", "description", "table_rows")
_LEGACY_TRANSLATOR_OPTIONS = ("key_prefix", "group_name")


def _legacy_load(options: Mapping[str, Any]) -> tuple[HubSpotLoad, DagsterHubSpotTranslator]:
    """Turn the old keyword call into a load and a translator, with a ``DeprecationWarning``."""
    warnings.warn(
        "build_hubspot_load_asset(name=..., object_type=..., ...) is deprecated and goes in the next "
        "release; describe the load once: build_hubspot_load_asset(HubSpotLoad(name=..., source=..., "
        "spec=HubSpotLoadSpec(object_type=..., ...)), translator=DagsterHubSpotTranslator(key_prefix=...)) "
        "or build_hubspot_load_assets([...])",
        DeprecationWarning,
        stacklevel=3,
    )
    for required in ("name", "source", "object_type"):
        if required not in options:
            raise TypeError(f"build_hubspot_load_asset() missing keyword argument {required!r}")
    asset_options = {k: options[k] for k in _LEGACY_ASSET_OPTIONS if k in options}
    translator_options = {k: options[k] for k in _LEGACY_TRANSLATOR_OPTIONS if k in options}
    spec_options = {
        k: v for k, v in options.items() if k not in (*_LEGACY_ASSET_OPTIONS, *_LEGACY_TRANSLATOR_OPTIONS)
    }
    asset_options.setdefault("table_rows", DEFAULT_TABLE_ROWS)
    load = HubSpotLoad(spec=HubSpotLoadSpec.from_mapping(spec_options), **asset_options)
    return load, DagsterHubSpotTranslator(**translator_options)
