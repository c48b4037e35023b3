"""The files of ``hubspot-loader load``: the input, the failed rows, the id maps.

The id maps are the ``--ids-out`` file a load writes and the ``--keys-from`` files it reads.

Every problem with a file is a :class:`~hubspot_loader.cli.exits.UsageError` naming the file, what is
wrong and what to do, raised before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from hubspot_loader.cli.exits import UsageError
from hubspot_loader.core.model import AssociationColumn, LoadResult
from hubspot_loader.core.plan import closest_column
from hubspot_loader.core.schemas import ValidationEntry
from hubspot_loader.core.tables import FAILED_ROWS_COLUMNS, failed_rows_table
from hubspot_loader.errors import MissingColumnsError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
#: Compression pandas reads transparently after ``.csv`` (``contacts.csv.gz``).
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")
ID_MAP_COLUMNS = ("key", "hubspot_id")
"""Columns of an ``--ids-out`` file (and of a ``--keys-from`` file)."""
FAILED_SUFFIX = ".failed.csv"


def file_kind(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; :class:`UsageError` for anything else."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in PARQUET_SUFFIXES:
        return "parquet"
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in CSV_SUFFIXES:
        return "csv"
    shown = "".join(path.suffixes) or "(none)"
    raise UsageError(
        f"{path}: unsupported file type {shown}; give a .csv file (UTF-8, a header row naming the columns) "
        "or a .parquet file (from Excel: save as CSV UTF-8)"
    )


def read_input(path: Path) -> pd.DataFrame:
    """Read the rows to load: Parquet (its types kept) or CSV (every cell as the text in the file).

    CSV cells are not parsed into numbers: ``02134`` stays ``"02134"`` and ``1.50`` stays ``"1.50"``;
    HubSpot receives property values as strings anyway. Empty cells (and ``NA``, ``null`` ...) are null,
    so the property is omitted.

    Raises:
        UsageError: the file is missing, unreadable, empty, of another type, or names a column twice.

    """
    kind = file_kind(path)
    if not path.exists():
        raise UsageError(f"cannot read {path}: no such file")
    if path.is_dir():
        raise UsageError(f"cannot read {path}: it is a directory; give a .csv or .parquet file")
    if path.stat().st_size == 0:
        raise UsageError(
            f"{path} is empty; a CSV file needs a header row naming the columns, then one row per object"
        )
    if kind == "csv":
        _check_header(path)
    frame = _read(path, kind)
    _check_unique_columns(path, [str(c) for c in frame.columns])
    return frame


def _read(path: Path, kind: str) -> pd.DataFrame:
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=True)
    except ImportError as exc:
        raise UsageError(
            f"cannot read {path}: Parquet needs pyarrow (pip install 'hubspot-loader[parquet]'): {exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {path}: it is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
            "UTF-8 CSV"
        ) from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} is empty; a CSV file needs a header row naming the columns") from None
    except (OSError, ValueError) as exc:  # parser errors, corrupt Parquet (pyarrow's are ValueError/OSError)
        detail = " ".join(str(exc).split())[:300]
        raise UsageError(f"cannot read {path} as {kind.upper()}: {detail}") from None


def _check_header(path: Path) -> None:
    """Refuse a CSV header that names a column twice (pandas would quietly rename it ``name.1``)."""
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} has no header row; its first line must name the columns") from None
    except (OSError, ValueError):
        return  # the full read reports it
    header = [str(v) for v in first.iloc[0]] if len(first) else []
    if not any(cell.strip() for cell in header):
        raise UsageError(f"{path} has no header row; its first line must name the columns")
    _check_unique_columns(path, header)


def _check_unique_columns(path: Path, columns: Sequence[str]) -> None:
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name in seen:
            raise UsageError(
                f"{path} has two columns named {name!r} (columns {seen[name]} and {number}); rename one "
                "so that every column has its own name"
            )
        seen[name] = number


COLUMNS_LISTED = 20
"""File columns named in a "not in the file" line before "and N more"."""


def missing_columns_line(
    exc: MissingColumnsError,
    *,
    key: str,
    associations: Sequence[AssociationColumn],
    property_label: str = "--property column",
    association_label: str = "--associate column",
) -> str:
    """Say which option names each column the file lacks, and the file's columns, in one line.

    ``exc`` is what :func:`hubspot_loader.core.plan.property_mapping` raised: its ``columns`` are the missing
    names, its ``available`` the file's columns; a likely typo gets the library's own guess
    (:func:`~hubspot_loader.core.plan.closest_column`). "--property column 'mial' (did you mean 'mail'?) is
    not in the file; its columns are: id, mail". ``property_label`` and ``association_label`` say where
    the other columns were named (a flag, or a spec file's field).
    """
    associated = {a.column for a in associations}

    def named(column: str) -> str:
        option = association_label if column in associated else property_label
        close = closest_column(column, exc.available)
        guess = f" (did you mean {close!r}?)" if close else ""
        return f"{'key column' if column == key else option} {column!r}{guess}"

    missing = list(dict.fromkeys(exc.columns))
    verb = "is" if len(missing) == 1 else "are"
    listing = ", ".join(exc.available[:COLUMNS_LISTED]) or "none"
    if len(exc.available) > COLUMNS_LISTED:
        listing += f" and {len(exc.available) - COLUMNS_LISTED} more"
    return f"{' and '.join(map(named, missing))} {verb} not in the file; its columns are: {listing}"


def write_schema_failures(entries: Sequence[ValidationEntry], path: Path) -> None:
    """Write the rows a schema refused in the failed-rows file's columns (category ``SCHEMA``)."""
    records = [
        {"key": e.key, "position": e.position, "category": "SCHEMA", "code": e.check, "property": e.column,
         "message": e.describe(), "http_status": None}
        for e in entries
    ]  # fmt: skip
    pd.DataFrame.from_records(records, columns=list(FAILED_ROWS_COLUMNS)).to_csv(path, index=False)


def failed_rows_path(input_path: Path) -> Path:
    """``contacts.parquet`` → ``contacts.parquet.failed.csv`` (the whole name, so inputs never collide)."""
    return input_path.with_name(input_path.name + FAILED_SUFFIX)


def write_failed_rows(result: LoadResult, path: Path) -> int:
    """Write the failed rows with their reasons (``key, position, category, code, property, message``)."""
    failed_rows_table(result).to_csv(path, index=False)
    return result.rows_failed


def write_id_map(id_map: Mapping[str, str], path: Path) -> None:
    """Write ``key,hubspot_id`` rows (created, found again or skipped rows: every row with an id)."""
    frame = pd.DataFrame(
        {ID_MAP_COLUMNS[0]: list(id_map.keys()), ID_MAP_COLUMNS[1]: list(id_map.values())}, dtype=object
    )
    frame.to_csv(path, index=False)


def read_id_map(path: Path, *, option: str) -> dict[str, str]:
    """Read a ``key,hubspot_id`` file written by ``--ids-out``; every cell is kept as its text.

    Raises:
        UsageError: the file is missing or unreadable, lacks the two columns, or gives one key two ids.

    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise UsageError(
            f"{option}: no such file {path} (write it with --ids-out in the parent's load)"
        ) from None
    except (OSError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise UsageError(f"{option}: cannot read {path}: {detail}") from None
    missing = [c for c in ID_MAP_COLUMNS if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{option}: {path} has no {' and '.join(repr(c) for c in missing)} column; it must be a "
            f"'key,hubspot_id' file as --ids-out writes it (it has: {list(map(str, frame.columns))})"
        )
    id_map: dict[str, str] = {}
    for key, hubspot_id in zip(frame["key"], frame["hubspot_id"], strict=True):
        if not key or not hubspot_id:
            continue
        if id_map.get(key, hubspot_id) != hubspot_id:
            raise UsageError(f"{option}: {path} gives key {key!r} two ids ({id_map[key]} and {hubspot_id})")
        id_map[key] = hubspot_id
    return id_map
