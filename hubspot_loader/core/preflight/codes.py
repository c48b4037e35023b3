"""The codes preflight reports: HubSpot's own where HubSpot has one (reference §5.5), else the loader's."""

from __future__ import annotations

PREFLIGHT = "PREFLIGHT"
"""The :attr:`RowError.category` of rows rejected by preflight (the HubSpot code is in ``code``)."""

# Row-level codes.
PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
READ_ONLY_VALUE = "READ_ONLY_VALUE"
INVALID_OPTION = "INVALID_OPTION"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_INTEGER = "INVALID_INTEGER"
INVALID_DATE = "INVALID_DATE"
INVALID_DATETIME = "INVALID_DATETIME"
INVALID_STRING_LENGTH = "INVALID_STRING_LENGTH"
INVALID_VALUE = "INVALID_VALUE"
"""The cell has no HubSpot wire form at all (a dict, ``inf`` ...).

See :mod:`hubspot_loader.core.formatting`.
"""
REQUIRED_PROPERTY = "REQUIRED_PROPERTY"
DUPLICATE_UNIQUE_VALUE = "DUPLICATE_UNIQUE_VALUE"
"""Rows of the frame share a value of a ``hasUniqueValue`` property: HubSpot would create one of them
(which one depends on batch timing) and reject the others as ``CONFLICT``."""
UNRESOLVED_ASSOCIATION = "UNRESOLVED_ASSOCIATION"
CONFLICT = "CONFLICT"
"""An existing record already holds the row's unique value (``email``, compared case-insensitively, or a
``hasUniqueValue`` property): HubSpot answers 409 ``CONFLICT`` ``<Object> already exists. Existing ID: N``
(reference §5.4). Found by online preflight's reads."""
INVALID_OBJECT_IDS = "INVALID_OBJECT_IDS"
"""An association points at a record id that does not exist: HubSpot answers 400 ``VALIDATION_ERROR``
``One or more associations are invalid`` with ``context.INVALID_OBJECT_IDS`` (reference §5.6). Found by
online preflight's reads."""
INVALID_KEY = "INVALID_KEY"
"""The row's warehouse key is null, unformattable or not unique."""

# Blocking (column- or configuration-level) codes.
COLUMN_NOT_IN_FRAME = "COLUMN_NOT_IN_FRAME"
DUPLICATE_MAPPING = "DUPLICATE_MAPPING"
UNKNOWN_OBJECT_TYPE = "UNKNOWN_OBJECT_TYPE"
UNKNOWN_ASSOCIATION_TYPE = "UNKNOWN_ASSOCIATION_TYPE"
UNKNOWN_ASSOCIATION_LABEL = "UNKNOWN_ASSOCIATION_LABEL"
MISSING_ID_MAP = "MISSING_ID_MAP"
SCHEMA_ERROR = "SCHEMA_ERROR"

VALUE_CHECK = "hubspot_value"
"""Name of the generated per-column value check (its failures carry the codes above)."""

MESSAGE_ENTRIES = 50
"""How many problems :attr:`PreflightReport.message` lists before summarising the rest."""
