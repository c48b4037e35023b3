"""The example project: a dbt warehouse in DuckDB, loaded into HubSpot companies → contacts → deals, daily.

A ``dg`` project (``dbt_examples/dg.toml``); its definitions are ``defs/``:

- ``defs/warehouse/defs.yaml``: the dbt project through dagster-dbt's ``DbtProjectComponent``;
- ``defs/hubspot/defs.yaml``: the three HubSpot loads (``HubSpotLoadCollectionComponent``);
- ``defs/resources.py``: where the loads go (``target.py``: the sandbox unless ``HUBSPOT_TARGET=hubspot``);
- ``defs/jobs.py``: the job ``warehouse_to_hubspot`` and its daily schedule (06:00 UTC).
"""
