"""The arguments of a load besides its spec: the run (:class:`LoadRun`) and the old keyword form.

:func:`legacy_arguments` turns the deprecated ``load_dataframe(df, object_type, **options)`` call into a
:class:`~hubspot_loader.core.spec.HubSpotLoadSpec` and a :class:`LoadRun`, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.core.model import BatchOutcome
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import InvalidSpecError, LoadUsageError
from hubspot_loader.state.leases import DEFAULT_LEASE_SECONDS, MIN_LEASE_SECONDS
from hubspot_loader.state.ledger import SyncLedger
from hubspot_loader.state.sync import SyncMode

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

ProgressCallback = Callable[[BatchOutcome], None]
"""Called after every finished batch."""


@dataclass(frozen=True, kw_only=True)
class LoadRun:
    """Which run a load is, and how it reports: everything about a load that is not its spec.

    Args:
        run_id: recorded in the ledger as the rows' first/last run; a random id when ``None``.
        partition: the partition key recorded with the rows sent (partitioned assets).
        portal: the portal identity the ledger keys rows by (default: from the client's URL and token).
        sync_mode: ``incremental`` (skip rows the ledger has created) or ``full_refresh`` (send every row).
        preview_rows: how many payloads a dry run keeps.
        on_batch: called after every finished batch (progress reporting).
        lease_seconds: how long the ledger's claim on the rows being sent lasts without renewal (renewed
            every third of it while the load runs; a killed load's rows are free again after it;
            :mod:`hubspot_loader.state.leases`).
        share_rate_budget: with a ledger in a database, pace the client through its token's rate window
            in that database, shared with every other load using the token and the same state
            (:mod:`hubspot_loader.budget_step`); ``False``: this process's limiter alone.

    """

    run_id: str | None = None
    partition: str | None = None
    portal: str | None = None
    sync_mode: SyncMode = "incremental"
    preview_rows: int = 5
    on_batch: ProgressCallback | None = None
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    share_rate_budget: bool = True

    def __post_init__(self) -> None:
        """Refuse a sync mode or preview count that cannot work."""
        if self.sync_mode not in ("incremental", "full_refresh"):
            raise LoadUsageError(f"sync_mode must be 'incremental' or 'full_refresh', got {self.sync_mode!r}")
        if (
            isinstance(self.preview_rows, bool)
            or not isinstance(self.preview_rows, int)
            or self.preview_rows < 0
        ):
            raise LoadUsageError(f"preview_rows must be a count >= 0, got {self.preview_rows!r}")
        seconds = self.lease_seconds
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not seconds >= MIN_LEASE_SECONDS
        ):
            raise LoadUsageError(f"lease_seconds must be at least {MIN_LEASE_SECONDS:g}, got {seconds!r}")
        if not isinstance(self.share_rate_budget, bool):
            raise LoadUsageError(f"share_rate_budget must be True or False, got {self.share_rate_budget!r}")


_SPEC_OPTIONS = {f.name for f in dataclasses.fields(HubSpotLoadSpec)} - {"object_type"}
_RUN_OPTIONS = {f.name for f in dataclasses.fields(LoadRun)}


def legacy_arguments(
    object_type: HubSpotLoadSpec | str, run: LoadRun | None, options: Mapping[str, Any]
) -> tuple[HubSpotLoadSpec, LoadRun]:
    """Turn the old ``load_dataframe(df, object_type, **options)`` call into a spec and a run, warning.

    The old call's ``preflight`` default was ``"off"``; it stays so for the old form.

    Raises:
        TypeError: an option neither form knows, or old options beside a spec.

    """
    if not isinstance(object_type, str):
        raise TypeError(f"load_dataframe() got unexpected keyword arguments {sorted(options)} beside a spec")
    unknown = sorted(set(options) - _SPEC_OPTIONS - _RUN_OPTIONS)
    if unknown:
        raise TypeError(f"load_dataframe() got an unexpected keyword argument {unknown[0]!r}")
    warnings.warn(
        "load_dataframe(df, object_type, **options) is deprecated and goes in the next release; describe "
        "the load once: load_dataframe(df, HubSpotLoadSpec(object_type=..., key_column=..., ...), "
        "client=..., ledger=..., run=LoadRun(...))",
        DeprecationWarning,
        stacklevel=3,
    )
    spec_options = {"preflight": "off", **{k: v for k, v in options.items() if k in _SPEC_OPTIONS}}
    spec = HubSpotLoadSpec(object_type=object_type, **spec_options)
    run_options = {k: v for k, v in options.items() if k in _RUN_OPTIONS}
    if run is not None:
        run_options = {**{f.name: getattr(run, f.name) for f in dataclasses.fields(LoadRun)}, **run_options}
    return spec, LoadRun(**run_options)


@dataclass(frozen=True)
class LoadRequest:
    """What :func:`~hubspot_loader.load.load_dataframe` was asked to do."""

    df: pd.DataFrame
    spec: HubSpotLoadSpec
    client: HubSpotClient | None
    ledger: SyncLedger | None
    id_maps: Mapping[str, Mapping[str, str]] | None
    run: LoadRun
    dry_run: bool


def imported(path: str) -> Any:
    """Return the object the import path ``"package.module:NAME"`` names.

    Raises:
        ImportError, AttributeError, ValueError: as :func:`importlib.import_module` and ``getattr`` do.

    """
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def resolved_schema(schema: Any) -> Any:
    """Return the pandera schema a spec names: the object itself, or the one at ``"package.module:NAME"``.

    Raises:
        InvalidSpecError: the import path does not lead to an object.

    """
    if not isinstance(schema, str):
        return schema
    try:
        return imported(schema)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InvalidSpecError(
            "schema", f"cannot be imported ({type(exc).__name__}: {exc})", schema
        ) from None
