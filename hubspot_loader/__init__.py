"""hubspot_loader: load warehouse rows into HubSpot CRM from Dagster (reverse ETL)."""

__version__ = "0.1.0"
