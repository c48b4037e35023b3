"""The Dagster layer of hubspot_loader (see docs/architecture.md): the only code that imports Dagster.

- :class:`HubSpotResource`: connection settings (token and base URL from the environment by default);
- :class:`HubSpotLoad`, :func:`build_hubspot_load_assets`, :func:`build_hubspot_load_asset`: load assets
  from Python, their specs from a :class:`DagsterHubSpotTranslator`;
- :class:`HubSpotLoadCollectionComponent`: the same loads in a ``defs.yaml`` (``dg scaffold defs``).

This module is the package's ``dagster_dg_cli.registry_modules`` entry point: ``dg`` (and every ``dg``
project loaded in the same environment) imports it to list its components, so it imports no sandbox and
does no I/O.
"""

from hubspot_loader.dagster.assets import ROWS_ACCEPTED_CHECK as ROWS_ACCEPTED_CHECK
from hubspot_loader.dagster.assets import build_hubspot_load_asset as build_hubspot_load_asset
from hubspot_loader.dagster.assets import build_hubspot_load_assets as build_hubspot_load_assets
from hubspot_loader.dagster.component import HubSpotLoadCollectionComponent as HubSpotLoadCollectionComponent
from hubspot_loader.dagster.resource import HubSpotResource as HubSpotResource
from hubspot_loader.dagster.translator import DagsterHubSpotTranslator as DagsterHubSpotTranslator
from hubspot_loader.dagster.translator import HubSpotLoad as HubSpotLoad

__all__ = [
    "ROWS_ACCEPTED_CHECK",
    "DagsterHubSpotTranslator",
    "HubSpotLoad",
    "HubSpotLoadCollectionComponent",
    "HubSpotResource",
    "build_hubspot_load_asset",
    "build_hubspot_load_assets",
]
