"""One load's spec from ``--spec FILE`` and the flags: flags override the file, field by field.

Precedence, for each field of :class:`~hubspot_loader.core.spec.HubSpotLoadSpec`: the flag when it is
given, else the spec file's value, else the spec's default. ``--property`` and ``--associate`` replace
the file's ``properties`` and ``associations`` as a whole (once one ``--property`` is given, only the
columns named by flags are sent); ``--keys-from COL=FILE`` sets the id-map file of column ``COL``'s
association, whether that association comes from a flag or from the file.

In a spec file, an association's ``keys_from`` names the ``--ids-out`` file of the parent load, relative
to the spec file's directory; ``schema`` is an import path ``package.module:NAME`` (looked up in the
current directory first, then the installed packages).

Every mistake is one :class:`~hubspot_loader.cli.exits.UsageError` line naming where it is (the flag, or
the file and the field) and why, before the data file is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandera.pandas as pa

from hubspot_loader.cli.exits import UsageError
from hubspot_loader.cli.objects import check_object_type
from hubspot_loader.cli.options import SPEC_FLAGS, LoadOptions
from hubspot_loader.cli.spec_file import read_spec_file
from hubspot_loader.core.model import MAX_BATCH_SIZE, AssociationColumn
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import InvalidSpecError
from hubspot_loader.load_request import resolved_schema


@dataclass(frozen=True)
class IdMapFile:
    """A ``key,hubspot_id`` file an association's warehouse keys are translated through."""

    path: Path
    label: str
    """How messages name it: ``--keys-from company_id=companies.ids.csv`` or the spec file's field."""


@dataclass(frozen=True)
class SettledLoad:
    """The load spec the command runs (object types checked, schema imported) and its id-map files."""

    spec: HubSpotLoadSpec
    id_map_files: dict[str, IdMapFile]
    """By the name the spec's associations use in ``keys_from``."""
    batch_size: int
    property_label: str
    """How a ``properties`` column is named in messages (``--property column``)."""
    association_label: str
    """How an ``associations`` column is named in messages (``--associate column``)."""


def settle_load(options: LoadOptions) -> SettledLoad:
    """Merge the spec file (if any) with the flags and check what can be checked without the data file.

    Raises:
        UsageError: a bad spec file, a field or flag with a value that cannot work, a missing object type
            or key column, an unknown object type, a ``--keys-from`` column without an association, a
            schema that cannot be imported.

    """
    spec_file = options.spec_file
    fields = read_spec_file(spec_file) if spec_file is not None else {}
    flags = options.spec_flags()
    merged = {**fields, **flags}
    try:
        spec = HubSpotLoadSpec.from_mapping(merged)  # unknown fields first, then a missing object type
    except InvalidSpecError as exc:
        if exc.field == "object_type":
            _require(merged, "object_type", spec_file, "TYPE")
        raise UsageError(_spec_error(exc, flags, spec_file)) from None
    _require(merged, "key_column", spec_file, "COLUMN")
    in_file = "associations" not in flags and spec_file is not None
    object_type = check_object_type(
        spec.object_type, label=None if "object_type" in flags else f"{spec_file}: object_type"
    )
    associations = [
        dataclasses.replace(
            a,
            to_object_type=check_object_type(
                a.to_object_type,
                option=f"--associate {a.column}=",
                label=f"{spec_file}: associations[{i}].to_object_type" if in_file else None,
            ),
        )
        for i, a in enumerate(spec.associations)
    ]
    associations, id_map_files = _id_map_files(associations, dict(options.keys_from), spec_file, in_file)
    schema = _schema(spec.schema, "schema" in flags, spec_file)
    batch_size = spec.batch_size or MAX_BATCH_SIZE
    spec = spec.replace(
        object_type=object_type, associations=associations, schema=schema, batch_size=batch_size
    )
    from_file = spec_file is not None and "properties" not in flags
    return SettledLoad(
        spec=spec,
        id_map_files=id_map_files,
        batch_size=batch_size,
        property_label=f"{spec_file} properties column" if from_file else "--property column",
        association_label=f"{spec_file} associations column" if in_file else "--associate column",
    )


def _require(merged: Mapping[str, Any], field: str, spec_file: Path | None, metavar: str) -> None:
    if merged.get(field) is not None:
        return
    flag = SPEC_FLAGS[field]
    if spec_file is None:
        raise UsageError(
            f"{flag} {metavar} is required (or a --spec FILE with {field}); see hubspot-loader load --help"
        )
    raise UsageError(f"{spec_file}: {field} is not set; set it in the file or give {flag} {metavar}")


def _spec_error(exc: InvalidSpecError, flags: Mapping[str, object], spec_file: Path | None) -> str:
    """``load.yaml: batch_size must be ...`` for the file's fields, ``--batch-size: ...`` for a flag's."""
    text = str(exc).removeprefix("load spec: ")
    root = re.split(r"[\[.]", exc.field, maxsplit=1)[0]
    if root in flags or spec_file is None:
        flag = SPEC_FLAGS.get(root, root)
        return flag + text[len(root) :] if text.startswith(root) else f"{flag}: {text}"
    return f"{spec_file}: {text}"


def _id_map_files(
    associations: list[AssociationColumn],
    keys_from: dict[str, Path],
    spec_file: Path | None,
    in_file: bool,
) -> tuple[list[AssociationColumn], dict[str, IdMapFile]]:
    """Give each association with warehouse keys its id-map file: ``--keys-from``, else the file's."""
    associated = {a.column for a in associations}
    for column in keys_from:
        if column not in associated:
            nor = f" (nor does {spec_file} associate it)" if in_file else ""
            raise UsageError(
                f"--keys-from {column}=...: no --associate {column}=OBJECT_TYPE is given for that column{nor}"
            )
    files: dict[str, IdMapFile] = {}
    settled = []
    for i, association in enumerate(associations):
        path = keys_from.get(association.column)
        if path is not None:
            name = f"--keys-from {association.column}={path}"
            files[name] = IdMapFile(path, name)
        elif association.keys_from is not None and spec_file is not None:
            relative = Path(association.keys_from).expanduser()
            path = relative if relative.is_absolute() else spec_file.parent / relative
            name = f"{spec_file}: associations[{i}].keys_from"
            files[name] = IdMapFile(path, name)
        else:
            settled.append(association)
            continue
        settled.append(dataclasses.replace(association, keys_from=name))
    return settled, files


def _schema(schema: Any, flagged: bool, spec_file: Path | None) -> Any:
    """Import a schema given as ``package.module:NAME`` and check that it is a pandera schema."""
    if not isinstance(schema, str):
        return schema
    where = "--schema" if flagged or spec_file is None else f"{spec_file}: schema"
    try:
        with _current_directory_importable():
            found = resolved_schema(schema)
    except InvalidSpecError as exc:
        raise UsageError(f"{where} {str(exc).removeprefix('load spec: schema ')}") from None
    if isinstance(found, pa.DataFrameSchema) or (
        isinstance(found, type) and issubclass(found, pa.DataFrameModel)
    ):
        return found
    raise UsageError(
        f"{where} {schema!r} is a {type(found).__name__}, not a pandera DataFrameSchema or DataFrameModel"
    )


@contextlib.contextmanager
def _current_directory_importable() -> Iterator[None]:
    """Let ``package.module`` be found in the current directory, as ``python -m`` would, while importing."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(cwd)
