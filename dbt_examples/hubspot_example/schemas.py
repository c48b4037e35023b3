"""The example's pandera schemas (``schema: hubspot_example.schemas:CONTACTS_SCHEMA`` in ``defs.yaml``)."""

from hubspot_loader import CONTACTS_SCHEMA as _CONTACTS_SCHEMA

#: The package's email check would block the whole contacts load over the warehouse's 10 invalid emails.
#: Without it, preflight (quarantine, the default) holds exactly those rows back, each reported with
#: HubSpot's reason, and loads the rest.
CONTACTS_SCHEMA = _CONTACTS_SCHEMA.update_column("email", checks=[])
