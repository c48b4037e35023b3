"""Preflight: predict, before anything is sent, which rows HubSpot will reject and why.

Everything here is pure (no I/O). The caller fetches HubSpot's own definitions once per run and passes
them in:

- ``definitions``: the ``results`` of ``GET /crm/{v3|2026-03}/properties/{objectType}``
  (:meth:`hubspot_loader.http.client.HubSpotClient.properties`), standard and custom objects alike;
- ``labels``: per association target, the ``results`` of the labels API
  (:meth:`hubspot_loader.http.client.HubSpotClient.association_labels`), or ``None`` when HubSpot did not
  know the target object type.

:func:`schema_from_properties` turns the definitions into a :class:`pandera.pandas.DataFrameSchema` for
the columns a load will send. Its checks are vectorized: each column is formatted once with
:func:`hubspot_loader.core.formatting.format_series` (the exact strings the loader sends) and the wire strings
are checked with pandas string operations, ``isin`` and one ``to_datetime`` over the distinct values.
The rules follow HubSpot's documented property formats (reference §9) and its error codes (§5.5):

==============================  =============================================================
property                        a non-null cell is rejected when (code)
==============================  =============================================================
any                             its wire form is longer than 65,536 characters
                                (``INVALID_STRING_LENGTH``); it has no wire form at all, e.g. a
                                dict or ``inf`` (``INVALID_VALUE``)
``email``                       it is not an email address (``INVALID_EMAIL``)
``number``                      it is not digits with at most one decimal point, optionally
                                negative (``INVALID_INTEGER``), judged on the exact text sent, so
                                ints of any size are checked by their digits
``bool``                        it is not ``true``/``false`` (any case) (``INVALID_OPTION``)
``enumeration``                 it is not one of the option values; for ``fieldType`` checkbox
                                every ``;``-separated part (or list element) must be one
                                (``INVALID_OPTION``). ``externalOptions`` properties (owners ...)
                                are not checked
``date``                        it is not ``YYYY-MM-DD``, an ISO 8601 datetime or epoch
                                milliseconds, or it is not at midnight UTC (``INVALID_DATE``)
``datetime``                    it is not an ISO 8601 datetime, a date or epoch milliseconds
                                (``INVALID_DATETIME``)
read-only or calculated         any value, even ``""`` (``READ_ONLY_VALUE``)
not a property                  any value, even ``""`` (``PROPERTY_DOESNT_EXIST``)
``hasUniqueValue`` (and a        an earlier row that HubSpot would accept has the same value
contact's ``email``)            (case-insensitive for ``email``; ``DUPLICATE_UNIQUE_VALUE``); a row
                                rejected for another reason keeps no value
==============================  =============================================================

Whatever a cell holds, its row gets a verdict: a cell the loader cannot send (no wire form) rejects its
row with the column and the formatter's reason, and nothing is raised for a cell. Column names are
compared as text (``0`` is ``"0"``); a frame with two columns of the same name is refused with
:class:`~hubspot_loader.errors.DuplicateColumnsError`.

Null cells (and empty lists) are always allowed: the loader omits the property. ``""`` passes the value
checks (HubSpot reads it as "no value"). For ``contacts`` a row needs one of email, firstname, lastname
(``REQUIRED_PROPERTY``), and the key column must be non-null and unique (``INVALID_KEY``).

:func:`run_preflight` evaluates the same rules directly over the frame (pandera only runs the user's own
schema), adds the column- and association-level checks and returns a
:class:`PreflightReport`: ``blocking`` problems (a mapped property that does not exist, with the closest
existing names; a read-only property; an unknown association target, type id or label; a missing id
map) and one failed :class:`~hubspot_loader.core.model.RowOutcome` per bad row (category :data:`PREFLIGHT`,
HubSpot's code, the column and a reason phrased like HubSpot's), with ``bad_positions`` so a caller can
quarantine those rows and load the rest (:meth:`PreflightReport.quarantine`). See ``docs/preflight.md``.

Online preflight adds what only HubSpot's records tell: :class:`PreflightChecks` runs the same checks in
phases, says which unique values and association record ids to read (:class:`LookupPlan`), and, given
what the portal holds (:class:`ExistingRecords`), fails the rows HubSpot would refuse as ``CONFLICT``
(409: an existing record holds the value) or ``INVALID_OBJECT_IDS`` (400: the target does not exist).
The reads themselves are :mod:`hubspot_loader.http.reads`, run by :mod:`hubspot_loader.preflight_step`.

The package is split by job: ``codes`` (the codes), ``properties`` (reading property definitions),
``cells`` (each column formatted once, as the loader sends it), ``values`` (the vectorized value checks
on wire strings), ``rules`` (the rules generated from the definitions), ``schema`` (those rules as a
pandera schema, and merging it with the user's), ``associations``, ``unique`` (which row keeps a unique
value), ``existing`` (what online preflight read), ``mapping`` (the column → property mapping),
``user_schema``, ``explain`` (HubSpot-style messages), ``report``, ``checks`` (the phases) and ``run``.
Import from ``hubspot_loader.core.preflight`` itself.
"""

from __future__ import annotations

from hubspot_loader.core.preflight.checks import PreflightChecks, PreflightRequest
from hubspot_loader.core.preflight.codes import (
    COLUMN_NOT_IN_FRAME,
    CONFLICT,
    DUPLICATE_MAPPING,
    DUPLICATE_UNIQUE_VALUE,
    INVALID_DATE,
    INVALID_DATETIME,
    INVALID_EMAIL,
    INVALID_INTEGER,
    INVALID_KEY,
    INVALID_OBJECT_IDS,
    INVALID_OPTION,
    INVALID_STRING_LENGTH,
    INVALID_VALUE,
    MESSAGE_ENTRIES,
    MISSING_ID_MAP,
    PREFLIGHT,
    PROPERTY_DOESNT_EXIST,
    READ_ONLY_VALUE,
    REQUIRED_PROPERTY,
    SCHEMA_ERROR,
    UNKNOWN_ASSOCIATION_LABEL,
    UNKNOWN_ASSOCIATION_TYPE,
    UNKNOWN_OBJECT_TYPE,
    UNRESOLVED_ASSOCIATION,
    VALUE_CHECK,
)
from hubspot_loader.core.preflight.existing import ExistingRecords, KnownRow, LookupPlan
from hubspot_loader.core.preflight.report import (
    BlockingProblem,
    PreflightCost,
    PreflightError,
    PreflightReport,
    Quarantine,
    RowProblem,
)
from hubspot_loader.core.preflight.run import run_preflight
from hubspot_loader.core.preflight.schema import merge_schemas, schema_from_properties

__all__ = [
    "COLUMN_NOT_IN_FRAME",
    "CONFLICT",
    "DUPLICATE_MAPPING",
    "DUPLICATE_UNIQUE_VALUE",
    "INVALID_DATE",
    "INVALID_DATETIME",
    "INVALID_EMAIL",
    "INVALID_INTEGER",
    "INVALID_KEY",
    "INVALID_OBJECT_IDS",
    "INVALID_OPTION",
    "INVALID_STRING_LENGTH",
    "INVALID_VALUE",
    "MESSAGE_ENTRIES",
    "MISSING_ID_MAP",
    "PREFLIGHT",
    "PROPERTY_DOESNT_EXIST",
    "READ_ONLY_VALUE",
    "REQUIRED_PROPERTY",
    "SCHEMA_ERROR",
    "UNKNOWN_ASSOCIATION_LABEL",
    "UNKNOWN_ASSOCIATION_TYPE",
    "UNKNOWN_OBJECT_TYPE",
    "UNRESOLVED_ASSOCIATION",
    "VALUE_CHECK",
    "BlockingProblem",
    "ExistingRecords",
    "KnownRow",
    "LookupPlan",
    "PreflightChecks",
    "PreflightCost",
    "PreflightError",
    "PreflightReport",
    "PreflightRequest",
    "Quarantine",
    "RowProblem",
    "merge_schemas",
    "run_preflight",
    "schema_from_properties",
]
