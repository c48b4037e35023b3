"""The main job (dbt build, then HubSpot companies → contacts → deals) and its daily schedule."""

import dagster as dg

warehouse_to_hubspot = dg.define_asset_job(
    "warehouse_to_hubspot",
    selection=dg.AssetSelection.all(),
    description="dbt build of the warehouse, then HubSpot companies → contacts → deals.",
)

daily = dg.ScheduleDefinition(job=warehouse_to_hubspot, cron_schedule="0 6 * * *", execution_timezone="UTC")
