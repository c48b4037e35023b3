"""hubspot_loader: load warehouse rows into HubSpot CRM from Dagster (reverse ETL).

The public names are imported lazily, so ``import hubspot_loader.sandbox`` or the core modules do not
pull in Dagster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "HubSpotClient": "hubspot_loader.client",
    "HubSpotResource": "hubspot_loader.resource",
    "build_hubspot_load_asset": "hubspot_loader.assets",
    "ROWS_ACCEPTED_CHECK": "hubspot_loader.assets",
    "load_dataframe": "hubspot_loader.load",
    "DataValidationError": "hubspot_loader.load",
    "LoadAborted": "hubspot_loader.load",
    "load_metadata": "hubspot_loader.metadata",
    "AssociationColumn": "hubspot_loader.model",
    "LoadResult": "hubspot_loader.model",
    "RowOutcome": "hubspot_loader.model",
    "RowError": "hubspot_loader.model",
    "BatchRecord": "hubspot_loader.model",
    "HubSpotError": "hubspot_loader.errors",
    "HubSpotLoaderError": "hubspot_loader.errors",
    "LoadUsageError": "hubspot_loader.errors",
    "DuplicateColumnsError": "hubspot_loader.errors",
    "MissingColumnsError": "hubspot_loader.errors",
    "InvalidKeysError": "hubspot_loader.errors",
    "CONTACTS_SCHEMA": "hubspot_loader.schemas",
    "COMPANIES_SCHEMA": "hubspot_loader.schemas",
    "DEALS_SCHEMA": "hubspot_loader.schemas",
    "SQLiteLedger": "hubspot_loader.ledger",
    "SyncLedger": "hubspot_loader.ledger",
    "PreflightError": "hubspot_loader.preflight",
    "run_preflight": "hubspot_loader.preflight",
    "schema_from_properties": "hubspot_loader.preflight",
}

__all__ = [
    "COMPANIES_SCHEMA",
    "CONTACTS_SCHEMA",
    "DEALS_SCHEMA",
    "ROWS_ACCEPTED_CHECK",
    "AssociationColumn",
    "BatchRecord",
    "DataValidationError",
    "DuplicateColumnsError",
    "HubSpotClient",
    "HubSpotError",
    "HubSpotLoaderError",
    "HubSpotResource",
    "InvalidKeysError",
    "LoadAborted",
    "LoadResult",
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
    from hubspot_loader.assets import ROWS_ACCEPTED_CHECK, build_hubspot_load_asset
    from hubspot_loader.client import HubSpotClient
    from hubspot_loader.errors import (
        DuplicateColumnsError,
        HubSpotError,
        HubSpotLoaderError,
        InvalidKeysError,
        LoadUsageError,
        MissingColumnsError,
    )
    from hubspot_loader.ledger import SQLiteLedger, SyncLedger
    from hubspot_loader.load import DataValidationError, LoadAborted, load_dataframe
    from hubspot_loader.metadata import load_metadata
    from hubspot_loader.model import AssociationColumn, BatchRecord, LoadResult, RowError, RowOutcome
    from hubspot_loader.preflight import PreflightError, run_preflight, schema_from_properties
    from hubspot_loader.resource import HubSpotResource
    from hubspot_loader.schemas import COMPANIES_SCHEMA, CONTACTS_SCHEMA, DEALS_SCHEMA


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hubspot_loader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
