"""The example project: dbt models in DuckDB → HubSpot companies → contacts → deals, daily.

``dagster dev -w workspace.yaml`` (or ``make dev``) loads these definitions. The target is chosen by the
environment, with no code change (``load_target.py``):

- by default → an embedded HubSpot sandbox started for each run, persisted in ``.demo/sandbox.sqlite``, or
  the sandbox already running at ``HUBSPOT_SANDBOX_URL`` (``make dev`` starts one), even when
  ``HUBSPOT_ACCESS_TOKEN`` is set; the run log says so;
- ``HUBSPOT_TARGET=hubspot`` → real HubSpot with ``HUBSPOT_ACCESS_TOKEN`` (``HUBSPOT_BASE_URL`` overrides
  ``https://api.hubapi.com``).

Contacts are associated with their company, and deals with their company and contacts, **by warehouse
key**: each load asset returns its id map (warehouse key → HubSpot id) and the dependent load translates
its key columns through it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_target import HUBSPOT, choose_target
from warehouse import dbt_resource, model_asset_key, read_model, warehouse_dbt_assets

from hubspot_loader import (
    COMPANIES_SCHEMA,
    CONTACTS_SCHEMA,
    DEALS_SCHEMA,
    AssociationColumn,
    HubSpotResource,
    build_hubspot_load_asset,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = Path(os.environ.get("HUBSPOT_LOADER_DEMO_DIR", PROJECT_ROOT / ".demo"))
"""Where the embedded sandbox keeps its SQLite file (``$HUBSPOT_LOADER_DEMO_DIR`` or ``.demo/``)."""

SANDBOX_DB = DEMO_DIR / "sandbox.sqlite"

#: Custom properties the example loads need in HubSpot; create them in a real portal first (README).
CUSTOM_PROPERTIES = {"contacts": {"signed_up_at": "datetime", "is_vip": "bool"}}

#: The schema's email check would block the whole contacts load over the warehouse's 10 invalid emails.
#: Without it, preflight (quarantine, the default) holds exactly those rows back, each reported with
#: HubSpot's reason, and loads the rest.
DEMO_CONTACTS_SCHEMA = CONTACTS_SCHEMA.update_column("email", checks=[])


def hubspot_target() -> HubSpotResource:
    """The sandbox, unless ``HUBSPOT_TARGET=hubspot`` opts in to real HubSpot (``load_target.py``)."""
    chosen = choose_target()
    if chosen.kind == HUBSPOT:
        return HubSpotResource(
            access_token=dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
            base_url=chosen.base_url or "https://api.hubapi.com",
        )
    from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource

    return SandboxHubSpotResource(
        db_path=str(SANDBOX_DB),
        extra_properties=CUSTOM_PROPERTIES,
        url=chosen.sandbox_url,
    )


def _reader(model: str) -> Callable[[dg.AssetExecutionContext], pd.DataFrame]:
    """Read a dbt model's table from DuckDB when the load runs."""

    def read(context: dg.AssetExecutionContext) -> pd.DataFrame:
        frame = read_model(model)
        context.log.info(f"read {len(frame)} rows from the warehouse model {model}")
        return frame

    return read


companies_load = build_hubspot_load_asset(
    name="companies",
    key_prefix="hubspot",
    source=model_asset_key("hubspot_companies"),
    read_source=_reader("hubspot_companies"),
    object_type="companies",
    key_column="company_key",
    schema=COMPANIES_SCHEMA,
    group_name="hubspot",
)

contacts_load = build_hubspot_load_asset(
    name="contacts",
    key_prefix="hubspot",
    source=model_asset_key("hubspot_contacts"),
    read_source=_reader("hubspot_contacts"),
    object_type="contacts",
    key_column="contact_key",
    schema=DEMO_CONTACTS_SCHEMA,
    associations=[AssociationColumn("company_key", "companies", keys_from="hubspot/companies")],
    unique_property="email",
    group_name="hubspot",
)

deals_load = build_hubspot_load_asset(
    name="deals",
    key_prefix="hubspot",
    source=model_asset_key("hubspot_deals"),
    read_source=_reader("hubspot_deals"),
    object_type="deals",
    key_column="deal_key",
    schema=DEALS_SCHEMA,
    associations=[
        AssociationColumn("company_key", "companies", keys_from="hubspot/companies"),
        AssociationColumn("contact_keys", "contacts", keys_from="hubspot/contacts"),
    ],
    group_name="hubspot",
)

LOAD_ASSETS = [companies_load, contacts_load, deals_load]

everything = dg.define_asset_job(
    "warehouse_to_hubspot",
    selection=dg.AssetSelection.all(),
    description="dbt build of the warehouse, then HubSpot companies → contacts → deals.",
)

daily = dg.ScheduleDefinition(job=everything, cron_schedule="0 6 * * *", execution_timezone="UTC")

defs = dg.Definitions(
    assets=[warehouse_dbt_assets, *LOAD_ASSETS],
    jobs=[everything],
    schedules=[daily],
    resources={"dbt": dbt_resource(), "hubspot": hubspot_target()},
)
