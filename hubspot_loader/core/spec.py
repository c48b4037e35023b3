"""The load spec: one object that describes a load everywhere.

:class:`HubSpotLoadSpec` says *what* is loaded and how rows are judged: the object type, the key column,
the properties and associations, the schema, the unique property, preflight, the failure threshold,
the batch size and the zone of naive datetimes. The same object drives :func:`hubspot_loader.load_dataframe`,
the Dagster asset factory and Component, and the CLI's spec file, so an option is written once.

*Where* it goes (the client, the ledger) and *which run* it is (run id, partition, dry run) are not part
of the spec: they are the run's (:class:`hubspot_loader.load.LoadRun`).

The spec checks itself when it is made: a wrong value raises
:class:`~hubspot_loader.errors.InvalidSpecError` naming the field and the reason, before any frame is
read. :meth:`HubSpotLoadSpec.from_mapping` builds one from a spec file's mapping (YAML, TOML or JSON,
already parsed), refusing unknown keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from hubspot_loader.core.model import MAX_BATCH_SIZE, AssociationColumn
from hubspot_loader.core.timezones import check_zone
from hubspot_loader.errors import InvalidSpecError

PreflightMode = Literal["off", "block", "quarantine", "offline", "offline_block"]
"""How a load uses preflight: not at all, to block the whole load, or to hold back the bad rows.

``quarantine`` and ``block`` are online: besides the property definitions they read the existing records
HubSpot's answer depends on (unique values already used, association targets that do not exist), within
a bounded share of the load's requests. ``offline`` (quarantine) and ``offline_block`` judge the rows by
the definitions alone, with no reads of records (``docs/preflight.md``).
"""

PREFLIGHT_MODES: tuple[str, ...] = get_args(PreflightMode)

WriteMode = Literal["create", "upsert", "update", "mirror"]
"""What a load writes (``docs/sync-modes.md``): ``create`` (the default) creates rows new to the ledger and
leaves known ones alone; ``upsert`` also updates the changed properties of known rows and adopts records
HubSpot already has (found by the unique property); ``update`` only updates rows it can match; ``mirror`` is
``upsert`` plus archiving the records this sync created or adopted whose keys left the source."""

WRITE_MODES: tuple[str, ...] = get_args(WriteMode)

NullValues = Literal["clear", "ignore"]
"""What a sync mode does with a cell that became null: clear the value in HubSpot (send ``""``, reference
§16.2) or leave HubSpot's value alone."""

NULL_VALUES: tuple[str, ...] = get_args(NullValues)


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True, kw_only=True)
class HubSpotLoadSpec:
    """What one load sends to HubSpot and how its rows are judged.

    Every field's description is in its ``metadata["doc"]`` (:func:`field_docs`), which the Component and
    the CLI show; the fields are, in short:

    Args:
        object_type: the HubSpot object type: ``contacts``, ``companies``, ``deals``, ``0-3``, ``p_vendor``.
        key_column: the column with each row's warehouse key (unique, non-null).
        properties: the columns sent as properties: a list of column names, or a mapping column →
            HubSpot property name; ``None``: every column but the key and association columns.
        associations: association columns (:class:`~hubspot_loader.core.model.AssociationColumn`, or
            mappings with its fields).
        schema: a pandera ``DataFrameSchema`` or ``DataFrameModel`` the frame must pass before anything is
            sent, or its import path ``"package.module:NAME"`` (spec files).
        unique_property: a property with unique values (``email``, an external id) used to look rows up
            after a lost answer instead of resending them.
        preflight: ``quarantine`` (rows HubSpot would reject are reported and not sent), ``block`` (any
            predicted failure stops the load, nothing sent), their definitions-only forms ``offline`` and
            ``offline_block`` (no reads of existing records), or ``off``.
        failure_threshold: more failed rows than this fail the Dagster step / the CLI run (a count, or a
            fraction below 1 of the rows); ``None``: failed rows never fail the step.
        batch_size: inputs per batch request (1-100); ``None``: the client's setting.
        naive_timezone: the IANA zone that datetimes without a zone are taken to be in.
        write_mode: ``create`` (default), ``upsert``, ``update`` or ``mirror`` (:data:`WriteMode`).
        null_values: in the sync modes, whether a cell that became null clears HubSpot's value
            (``clear``, default) or leaves it (``ignore``).
        archive_limit: mirror mode: the largest share of the synced records that one run may archive
            (default 0.1); more stops the load before anything is sent. ``1`` allows any share.
        key_property: a unique text property the load makes sure exists (creating it when the token
            may) and fills with each row's warehouse key; it is then the unique property (lost answers
            reconciled, existing records adopted, for every object type).

    """

    object_type: str = field(
        metadata=_doc("HubSpot object type: contacts, companies, deals, 0-3, p_vendor ...")
    )
    key_column: str | None = field(
        default=None, metadata=_doc("Column with each row's warehouse key (unique, non-null).")
    )
    properties: Sequence[str] | Mapping[str, str] | None = field(
        default=None,
        metadata=_doc(
            "Columns sent as properties: a list of columns, or a mapping column -> HubSpot property; "
            "default: every column but the key and association columns."
        ),
    )
    associations: Sequence[AssociationColumn] = field(
        default=(),
        metadata=_doc(
            "Association columns: column, to_object_type, and optionally type_id, label, category, "
            "keys_from (the load whose id map translates warehouse keys)."
        ),
    )
    schema: Any = field(
        default=None,
        metadata=_doc(
            "A pandera schema the frame must pass before anything is sent (in files: 'package.module:NAME')."
        ),
    )
    unique_property: str | None = field(
        default=None,
        metadata=_doc("A unique property (email, an external id) used to look rows up after a lost answer."),
    )
    preflight: PreflightMode = field(
        default="quarantine",
        metadata=_doc(
            "quarantine: rows HubSpot would reject are reported, not sent; block: any predicted failure "
            "stops the load; offline / offline_block: the same from the property definitions alone, "
            "without reading existing records; off."
        ),
    )
    failure_threshold: float | None = field(
        default=None,
        metadata=_doc(
            "Fail the step/run when more rows than this fail (a count, or a fraction < 1); "
            "default: failed rows only fail the rows-accepted check."
        ),
    )
    batch_size: int | None = field(
        default=None, metadata=_doc(f"Inputs per batch request (1-{MAX_BATCH_SIZE}); default: the client's.")
    )
    naive_timezone: str = field(
        default="UTC", metadata=_doc("IANA zone that datetimes without a zone are taken to be in.")
    )
    write_mode: WriteMode = field(
        default="create",
        metadata=_doc(
            "create: only new keys are created; upsert: also update changed rows and adopt existing "
            "records by the unique property; update: only update matched rows; mirror: upsert, and "
            "archive the records whose keys left the source."
        ),
    )
    null_values: NullValues = field(
        default="clear",
        metadata=_doc("Sync modes: a cell that became null clears HubSpot's value (clear) or is ignored."),
    )
    key_property: str | None = field(
        default=None,
        metadata=_doc(
            "A unique text property (created if missing) that carries the warehouse key, so every object "
            "type can be reconciled and adopted by it."
        ),
    )
    archive_limit: float = field(
        default=0.1,
        metadata=_doc(
            "Mirror: the largest share (0-1) of synced records one run may archive; more stops the load."
        ),
    )

    def __post_init__(self) -> None:
        """Check every field and normalise the collections (lists become tuples)."""
        _text("object_type", self.object_type)
        if self.key_column is not None:
            object.__setattr__(self, "key_column", _column_name("key_column", self.key_column))
        _optional_text("unique_property", self.unique_property)
        _optional_text("key_property", self.key_property)
        if self.key_property is not None and self.key_column is None:
            raise InvalidSpecError("key_property", "sends the warehouse key: key_column is needed")
        object.__setattr__(self, "properties", _properties(self.properties))
        object.__setattr__(self, "associations", _associations(self.associations))
        if self.preflight not in PREFLIGHT_MODES:
            raise InvalidSpecError(
                "preflight", f"must be one of {', '.join(PREFLIGHT_MODES)}", self.preflight
            )
        _check_threshold(self.failure_threshold)
        if self.write_mode not in WRITE_MODES:
            raise InvalidSpecError("write_mode", f"must be one of {', '.join(WRITE_MODES)}", self.write_mode)
        if self.null_values not in NULL_VALUES:
            raise InvalidSpecError(
                "null_values", f"must be one of {', '.join(NULL_VALUES)}", self.null_values
            )
        limit = self.archive_limit
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 <= limit <= 1:
            raise InvalidSpecError("archive_limit", "must be a share from 0 to 1", limit)
        _check_batch_size(self.batch_size)
        _text("naive_timezone", self.naive_timezone)
        try:
            check_zone(self.naive_timezone)
        except ValueError:
            raise InvalidSpecError(
                "naive_timezone",
                "is not an IANA time zone (use a name such as 'UTC' or 'Europe/Berlin')",
                self.naive_timezone,
            ) from None
        if self.schema is not None and isinstance(self.schema, str) and ":" not in self.schema:
            raise InvalidSpecError(
                "schema", "an import path must look like 'package.module:NAME'", self.schema
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HubSpotLoadSpec:
        """Build a spec from a parsed spec file (or a Component's attributes); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InvalidSpecError("spec", "must be a mapping of field names to values", data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InvalidSpecError(
                unknown[0], f"is not a spec field (the fields are: {', '.join(sorted(known))})"
            )
        if "object_type" not in data:
            raise InvalidSpecError("object_type", "is required")
        return cls(**{str(k): v for k, v in data.items()})

    def replace(self, **changes: Any) -> HubSpotLoadSpec:
        """Return a copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def threshold_exceeded(self, rows_failed: int, rows_total: int) -> bool:
        """Whether ``rows_failed`` of ``rows_total`` is over :attr:`failure_threshold`."""
        threshold = self.failure_threshold
        if threshold is None or rows_failed == 0:
            return False
        if threshold < 1:
            return rows_failed / max(rows_total, 1) > threshold
        return rows_failed > threshold


def field_docs() -> dict[str, str]:
    """Each spec field's one-line description, in field order (for the Component's schema and the CLI)."""
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(HubSpotLoadSpec)}


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSpecError(name, "must be a non-empty string", value)


def _optional_text(name: str, value: object) -> None:
    if value is not None:
        _text(name, value)


def _column_name(name: str, label: object) -> str:
    """Return a column label as text, the way the load compares them (``3`` and ``"3"`` are one column)."""
    if isinstance(label, str):
        return label
    try:
        return str(label)
    except Exception as exc:  # a label object whose str() raises has no name to address it by
        raise InvalidSpecError(name, f"has no text name ({type(exc).__name__})") from None


def _properties(value: object) -> tuple[str, ...] | Mapping[str, str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        for column, prop in value.items():
            if not isinstance(prop, str) or not prop:
                raise InvalidSpecError(
                    "properties", f"column {column!r} maps to {prop!r}, not a property name"
                )
        return {_column_name("properties", column): prop for column, prop in value.items()}
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidSpecError(
            "properties", "must be a list of columns or a mapping column -> property", value
        )
    return tuple(_column_name("properties", column) for column in value)


def _associations(value: object) -> tuple[AssociationColumn, ...]:
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        raise InvalidSpecError("associations", "must be a list of association columns", value)
    known = {f.name for f in dataclasses.fields(AssociationColumn)}
    columns = []
    for i, item in enumerate(value):
        if isinstance(item, AssociationColumn):
            if not isinstance(item.column, str):
                item = dataclasses.replace(
                    item, column=_column_name(f"associations[{i}].column", item.column)
                )
            columns.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InvalidSpecError(f"associations[{i}]", "must be an AssociationColumn or a mapping", item)
        unknown = sorted(str(k) for k in item if k not in known)
        missing = [k for k in ("column", "to_object_type") if k not in item]
        if unknown or missing:
            reason = f"unknown key {unknown[0]!r}" if unknown else f"missing {missing[0]!r}"
            raise InvalidSpecError(
                f"associations[{i}]", f"{reason} (the keys are: {', '.join(sorted(known))})"
            )
        type_id = item.get("type_id")
        if type_id is not None and (isinstance(type_id, bool) or not isinstance(type_id, int)):
            raise InvalidSpecError(f"associations[{i}].type_id", "must be an integer", type_id)
        for key in ("to_object_type", "label", "category", "keys_from"):
            if key in item and item[key] is not None and not isinstance(item[key], str):
                raise InvalidSpecError(f"associations[{i}].{key}", "must be a string", item[key])
        fields = {str(k): v for k, v in item.items()}
        fields["column"] = _column_name(f"associations[{i}].column", fields["column"])
        columns.append(AssociationColumn(**fields))
    return tuple(columns)


def _check_threshold(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        raise InvalidSpecError(
            "failure_threshold", "must be a count (>= 1) or a fraction of the rows (0 <= x < 1)", value
        )


def _check_batch_size(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH_SIZE:
        raise InvalidSpecError("batch_size", f"must be an integer from 1 to {MAX_BATCH_SIZE}", value)
