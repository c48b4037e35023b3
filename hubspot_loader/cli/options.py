"""The options of one ``hubspot-loader load`` as given on the command line (before the spec file).

:class:`LoadOptions` is what the click command parsed; a spec field's option is ``None`` (or empty)
when the flag was not given, so a ``--spec`` file can supply it (:mod:`hubspot_loader.cli.settle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hubspot_loader.core.model import AssociationColumn

SPEC_FLAGS: dict[str, str] = {
    "object_type": "--object-type",
    "key_column": "--key",
    "properties": "--property",
    "associations": "--associate",
    "schema": "--schema",
    "unique_property": "--unique-property",
    "preflight": "--preflight",
    "failure_threshold": "--failure-threshold",
    "batch_size": "--batch-size",
    "naive_timezone": "--naive-timezone",
    "write_mode": "--write-mode",
    "null_values": "--null-values",
    "archive_limit": "--archive-limit",
    "key_property": "--key-property",
}
"""The flag of each :class:`~hubspot_loader.core.spec.HubSpotLoadSpec` field (every field has one)."""


@dataclass(frozen=True)
class LoadOptions:
    """The parsed command line of ``hubspot-loader load`` (``None``: the flag was not given)."""

    file: Path
    spec_file: Path | None
    # the load spec's fields (flags override the spec file)
    object_type: str | None
    key: str | None
    properties: tuple[tuple[str, str], ...]
    associations: tuple[AssociationColumn, ...]
    keys_from: tuple[tuple[str, Path], ...]
    schema: str | None
    unique_property: str | None
    preflight: str | None
    failure_threshold: float | None
    batch_size: int | None
    naive_timezone: str | None
    write_mode: str | None
    null_values: str | None
    archive_limit: float | None
    key_property: str | None
    # where the load goes, and how fast
    base_url: str
    api_version: str
    max_in_flight: int
    requests_per_10s: int | Literal["learn"]
    # the sync state
    state: Path | None
    state_url: str | None
    no_state: bool
    portal: str | None
    full_refresh: bool
    shared_budget: bool
    # output
    dry_run: bool
    preview: int
    failed_rows: Path | None
    ids_out: Path | None
    no_progress: bool

    def spec_flags(self) -> dict[str, object]:
        """Return the load spec fields given as flags, by field name (what overrides the spec file)."""
        given: dict[str, object] = {
            "object_type": self.object_type,
            "key_column": self.key,
            "properties": dict(self.properties) if self.properties else None,
            "associations": self.associations or None,
            "schema": self.schema,
            "unique_property": self.unique_property,
            "preflight": self.preflight,
            "failure_threshold": self.failure_threshold,
            "batch_size": self.batch_size,
            "naive_timezone": self.naive_timezone,
            "write_mode": self.write_mode,
            "null_values": self.null_values,
            "archive_limit": self.archive_limit,
            "key_property": self.key_property,
        }
        return {name: value for name, value in given.items() if value is not None}
