"""hubspot_loader: load warehouse rows into HubSpot CRM from Dagster (reverse ETL).

The public names are imported lazily, so ``import hubspot_loader.sandbox`` or the core modules do not
pull in Dagster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hubspot_loader._version import __version__

_EXPORTS = {
    "HubSpotClient": "hubspot_loader.http.client",
    "ClientSettings": "hubspot_loader.http.settings",
    "HubSpotResource": "hubspot_loader.dagster.resource",
    "build_hubspot_load_asset": "hubspot_loader.dagster.assets",
    "ROWS_ACCEPTED_CHECK": "hubspot_loader.dagster.assets",
    "load_dataframe": "hubspot_loader.load",
    "HubSpotLoadSpec": "hubspot_loader.core.spec",
    "LoadRun": "hubspot_loader.load_request",
    "InvalidSpecError": "hubspot_loader.errors",
    "ArchiveLimitError": "hubspot_loader.errors",
    "DataValidationError": "hubspot_loader.load",
    "LoadAborted": "hubspot_loader.load",
    "load_metadata": "hubspot_loader.dagster.metadata",
    "AssociationColumn": "hubspot_loader.core.model",
    "LoadResult": "hubspot_loader.core.model",
    "RowOutcome": "hubspot_loader.core.model",
    "RowError": "hubspot_loader.core.model",
    "BatchRecord": "hubspot_loader.core.model",
    "HubSpotError": "hubspot_loader.errors",
    "HubSpotLoaderError": "hubspot_loader.errors",
    "LoadUsageError": "hubspot_loader.errors",
    "DuplicateColumnsError": "hubspot_loader.errors",
    "MissingColumnsError": "hubspot_loader.errors",
    "InvalidKeysError": "hubspot_loader.errors",
    "CONTACTS_SCHEMA": "hubspot_loader.core.schemas",
    "COMPANIES_SCHEMA": "hubspot_loader.core.schemas",
    "DEALS_SCHEMA": "hubspot_loader.core.schemas",
    "SQLiteLedger": "hubspot_loader.state.ledger",
    "SyncLedger": "hubspot_loader.state.ledger",
    "PreflightError": "hubspot_loader.core.preflight",
    "run_preflight": "hubspot_loader.core.preflight",
    "schema_from_properties": "hubspot_loader.core.preflight",
}

__all__ = [
    "COMPANIES_SCHEMA",
    "CONTACTS_SCHEMA",
    "DEALS_SCHEMA",
    "ROWS_ACCEPTED_CHECK",
    "ArchiveLimitError",
    "AssociationColumn",
    "BatchRecord",
    "ClientSettings",
    "DataValidationError",
    "DuplicateColumnsError",
    "HubSpotClient",
    "HubSpotError",
    "HubSpotLoadSpec",
    "HubSpotLoaderError",
    "HubSpotResource",
    "InvalidKeysError",
    "InvalidSpecError",
    "LoadAborted",
    "LoadResult",
    "LoadRun",
    "LoadUsageError",
    "MissingColumnsError",
    "PreflightError",
    "RowError",
    "RowOutcome",
    "SQLiteLedger",
    "SyncLedger",
    "__version__",
    "build_hubspot_load_asset",
    "load_dataframe",
    "load_metadata",
    "run_preflight",
    "schema_from_properties",
]

if TYPE_CHECKING:
    from hubspot_loader.core.model import AssociationColumn, BatchRecord, LoadResult, RowError, RowOutcome
    from hubspot_loader.core.preflight import PreflightError, run_preflight, schema_from_properties
    from hubspot_loader.core.schemas import COMPANIES_SCHEMA, CONTACTS_SCHEMA, DEALS_SCHEMA
    from hubspot_loader.core.spec import HubSpotLoadSpec
    from hubspot_loader.dagster.assets import ROWS_ACCEPTED_CHECK, build_hubspot_load_asset
    from hubspot_loader.dagster.metadata import load_metadata
    from hubspot_loader.dagster.resource import HubSpotResource
    from hubspot_loader.errors import (
        ArchiveLimitError,
        DuplicateColumnsError,
        HubSpotError,
        HubSpotLoaderError,
        InvalidKeysError,
        InvalidSpecError,
        LoadUsageError,
        MissingColumnsError,
    )
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.http.settings import ClientSettings
    from hubspot_loader.load import DataValidationError, LoadAborted, load_dataframe
    from hubspot_loader.load_request import LoadRun
    from hubspot_loader.state.ledger import SQLiteLedger, SyncLedger


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hubspot_loader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
