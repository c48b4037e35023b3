"""Convert a DataFrame, chunk by chunk, into HubSpot batch-create inputs.

:func:`iter_prepared` is lazy: it formats ``chunk_rows`` rows at a time (see
:mod:`hubspot_loader.core.formatting`), so the first batch can be sent before the rest of the frame is
converted and memory stays bounded by one chunk of payloads.

Every row ends in exactly one place: a :class:`~hubspot_loader.core.model.PreparedInput` to send, or a
rejected :class:`~hubspot_loader.core.model.RowOutcome` (status ``FAILED``) naming the column and the reason:

- a cell that cannot be formatted → category ``INVALID_VALUE``;
- an association target whose warehouse key is not in the id map → ``UNRESOLVED_ASSOCIATION``
  (a row is never sent with only some of its associations).

A row whose properties are all null is still sent with ``"properties": {}``: HubSpot decides whether
such an object is acceptable (a contact needs one of email, firstname, lastname), and its answer is
reported for the row like any other.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, count, repeat
from operator import is_
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype

from hubspot_loader.core.fingerprints import ChunkPrints
from hubspot_loader.core.formatting import format_series, format_value
from hubspot_loader.core.model import (
    FAILED,
    INVALID_VALUE,
    MAX_DECIMAL_DIGITS,
    UNRESOLVED_ASSOCIATION,
    PreparedInput,
    ResolvedAssociation,
    RowError,
    RowOutcome,
)
from hubspot_loader.errors import LoadUsageError

_INT32_MAX = 2**31 - 1
_LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)
_MAX_LISTED = 20

RowKeys: TypeAlias = "Sequence[str] | array[int]"
"""The checked keys of a frame's rows, in row order: strings, or plain decimal keys kept as integers."""


@dataclass
class PreparedChunk:
    """One chunk of converted rows: the inputs to send and the rows rejected before sending."""

    inputs: list[PreparedInput] = field(default_factory=list)
    rejected: list[RowOutcome] = field(default_factory=list)
    prints: ChunkPrints | None = field(default=None, compare=False, repr=False)
    """The fingerprints of the chunk's rows, by position (:mod:`hubspot_loader.core.fingerprints`); always
    set by :func:`iter_prepared`."""


def iter_prepared(
    df: pd.DataFrame,
    *,
    properties: Mapping[str, str],
    associations: Sequence[ResolvedAssociation] = (),
    key_column: str | None = None,
    naive_timezone: str = "UTC",
    chunk_rows: int = 2_000,
    start_position: int = 0,
    keys: RowKeys | None = None,
) -> Iterator[PreparedChunk]:
    """Convert ``df`` lazily into batch-create inputs, ``chunk_rows`` rows per yielded chunk.

    The configuration and the key column are checked when this function is called, before any chunk
    is produced; the rows themselves are formatted only as chunks are taken. No cell makes it raise:
    a cell that cannot be sent rejects its row.

    Args:
        df: the rows, one HubSpot object each.
        properties: column → HubSpot property name.
        associations: association columns with their type ids settled
            (see :func:`hubspot_loader.core.associations.resolve_association`). A null cell means no
            association; a scalar one target; a list several (duplicates are sent once). With an
            ``id_map`` the cells are warehouse keys translated through it.
        key_column: the column holding each row's warehouse key; its value (formatted like a property
            value, so ``42.0`` → ``"42"``) is the row's ``key`` and ``objectWriteTraceId``. Without it
            the key is the position and the trace id ``row-{position}``.
        naive_timezone: the IANA zone naive datetimes are wall-clock times in.
        chunk_rows: rows converted per chunk.
        start_position: the position of ``df``'s first row in the source frame (when ``df`` is a slice
            of a larger frame); positions, default keys and trace ids count from it.
        keys: the keys of ``df``'s rows as :func:`row_keys` returned them (checked already), so that
            the key column is not formatted again; ``None``: formatted and checked here.

    Raises:
        KeyError: a named column is not in the frame.
        ValueError: keys are null, duplicate or unformattable (the message names them and their
            positions); two columns map to the same property; ``chunk_rows`` < 1.

    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    _check_columns(df, properties, associations, key_column)
    if keys is None and key_column is not None:
        keys = row_keys(df, key_column, naive_timezone, start_position)
    elif keys is not None and len(keys) != len(df):
        raise ValueError(f"{len(keys)} keys were given for {len(df)} rows")
    return _chunks(df, properties, associations, keys, naive_timezone, chunk_rows, start_position)


def row_keys(
    df: pd.DataFrame, key_column: str, naive_timezone: str = "UTC", start_position: int = 0
) -> RowKeys:
    """Format and check the key column: each row's key, as the loader sends it.

    A column of distinct non-negative integers is checked without building a string per row, and plain
    decimal keys are kept as integers (:func:`_compact`); :func:`iter_prepared` turns them back into
    the same strings.

    Raises:
        ValueError: keys are null, duplicate or unformattable (the message names them and their
            positions, counted from ``start_position``).

    """
    keys = _integer_keys(df[key_column])
    if keys is not None:
        return keys
    return _compact(_keys(df, key_column, naive_timezone, start_position))


def keys_at(keys: RowKeys, positions: np.ndarray) -> RowKeys:
    """Return the keys of the rows at ``positions`` (e.g. the rows preflight let through), in that order."""
    if isinstance(keys, array):
        out = array(keys.typecode)
        out.frombytes(np.asarray(keys)[positions].tobytes())
        return out
    return [keys[i] for i in positions.tolist()]


def _integer_keys(series: pd.Series) -> array[int] | None:
    """Return the keys of an integer column as :func:`_compact` would keep them (``None``: not possible).

    An integer cell is formatted as ``str(n)``, so a column of distinct integers in ``[0, 10**18)`` gives
    distinct canonical decimal keys: they are kept as integers without building a string per row. Any
    other column (nulls, negatives, duplicates, other dtypes) returns ``None`` and takes the general path,
    which checks and reports its keys.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or is_bool_dtype(dtype) or not is_integer_dtype(dtype):
        return None
    if len(series) == 0 or series.hasnans:
        return None
    values = series.to_numpy(dtype="uint64" if dtype.kind == "u" else "int64")
    if values.min() < 0 or values.max() >= 10**MAX_DECIMAL_DIGITS:
        return None
    values = values.astype(np.int64, copy=False)
    if len(values) > 1 and not (values[1:] > values[:-1]).all() and pd.Series(values).duplicated().any():
        return None
    narrow = values.max() <= _INT32_MAX  # 4 bytes per key instead of 8 when every key fits
    out = array("i" if narrow else "q")
    data = values.astype(np.int32) if narrow else np.ascontiguousarray(values)
    out.frombytes(data.data.cast("B"))  # from the buffer: no intermediate bytes copy
    return out


def _compact(keys: list[str]) -> RowKeys:
    """Keep plain decimal keys (``"42"``, see :func:`~hubspot_loader.core.model.decimal_int`) as integers.

    The keys live for the whole load; 4 bytes each (8 past ``2**31 - 1``) instead of a string object
    each. The chunks turn them back into the same strings (``str(n)``).
    """
    if not keys:
        return keys
    if min(map(len, keys)) < 1 or max(map(len, keys)) > MAX_DECIMAL_DIGITS:  # two passes, no list
        return keys
    joined = "".join(keys)
    if not (joined.isascii() and joined.isdigit()):
        return keys
    if sum(map(str.startswith, keys, repeat("0"))) != keys.count("0"):
        return keys  # a leading zero: str(int(key)) would not give the key back
    numbers = array("q", map(int, keys))
    return array("i", numbers) if max(numbers) <= _INT32_MAX else numbers


def _check_columns(
    df: pd.DataFrame,
    properties: Mapping[str, str],
    associations: Sequence[ResolvedAssociation],
    key_column: str | None,
) -> None:
    wanted = [*properties, *(a.column for a in associations), *([key_column] if key_column else [])]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame; it has {[str(c) for c in df.columns]}")
    repeated = sorted({str(c) for c in wanted if isinstance(df[c], pd.DataFrame)})
    if repeated:
        raise ValueError(f"columns {repeated} appear more than once in the frame")
    check_unique_properties(properties)


def check_unique_properties(properties: Mapping[str, str]) -> None:
    """Refuse a mapping in which two columns map to the same property.

    Raises:
        LoadUsageError: naming both columns and the property (also a ``ValueError``).

    """
    seen: dict[str, str] = {}
    for column, prop in properties.items():
        if prop in seen:
            raise LoadUsageError(
                f"columns {seen[prop]!r} and {column!r} both map to property {prop!r}; send one of them"
            )
        seen[prop] = column


def _keys(df: pd.DataFrame, key_column: str, naive_timezone: str, start: int) -> list[str]:
    formatted = format_series(df[key_column], column=key_column, naive_timezone=naive_timezone)
    keys = formatted.values
    # C-level checks first; the readable report is built only when something is wrong.
    if not formatted.errors and None not in keys and not _has_repeats(cast(list[str], keys)):
        return cast(list[str], keys)
    series = pd.Series(keys, dtype=object)
    missing = series.isna().to_numpy()
    repeated = series.duplicated(keep=False).to_numpy() & ~missing
    problems = [f"invalid key at position {start + e.position}: {e.reason}" for e in formatted.errors]
    invalid = {e.position for e in formatted.errors}
    nulls = [start + i for i in np.flatnonzero(missing).tolist() if i not in invalid]
    if nulls:
        problems.append(f"{len(nulls)} null key(s) at positions {_listed(nulls)}")
    seen: dict[str, list[int]] = {}
    for i in np.flatnonzero(repeated).tolist():
        seen.setdefault(cast(str, keys[i]), []).append(start + i)
    if seen:
        shown = [f"{k!r} at positions {p[:_MAX_LISTED]}" for k, p in list(seen.items())[:_MAX_LISTED]]
        more = f" and {len(seen) - _MAX_LISTED} more" if len(seen) > _MAX_LISTED else ""
        problems.append(f"{len(seen)} duplicate key(s): {'; '.join(shown)}{more}")
    raise ValueError(f"key column {key_column!r} must be unique and non-null: " + "; ".join(problems))


def _has_repeats(keys: list[str]) -> bool:
    """Whether a key appears more than once, found without a hash table over all the keys.

    The keys' own ``hash`` (computed once and cached in every ``str``) is sorted as 8 bytes a key, and
    only keys whose hashes meet are compared exactly. For a million 32-character keys the check needs
    17 MiB for a moment instead of pandas' ``duplicated`` 36 MiB, which the allocator then keeps.
    """
    if len(keys) < 2:
        return False
    hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
    hashes.sort()
    meeting = hashes[1:] == hashes[:-1]
    if not meeting.any():
        return False
    shared = set(hashes[1:][meeting].tolist())
    candidates = [key for key in keys if hash(key) in shared]
    return len(set(candidates)) < len(candidates)


def _listed(positions: list[int]) -> str:
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    return f"{positions[:_MAX_LISTED]}{more}"


def _chunks(
    df: pd.DataFrame,
    properties: Mapping[str, str],
    associations: Sequence[ResolvedAssociation],
    keys: RowKeys | None,
    naive_timezone: str,
    chunk_rows: int,
    start_position: int,
) -> Iterator[PreparedChunk]:
    for offset in range(0, len(df), chunk_rows):
        stop = min(offset + chunk_rows, len(df))
        chunk_keys: list[str] | None = None
        if isinstance(keys, array):
            chunk_keys = list(map(str, keys[offset:stop]))
        elif keys is not None:
            chunk_keys = list(keys[offset:stop])
        yield _convert(
            df, offset, stop, properties, associations, chunk_keys, naive_timezone, start_position + offset
        )


def _convert(
    df: pd.DataFrame,
    offset: int,
    stop: int,
    properties: Mapping[str, str],
    associations: Sequence[ResolvedAssociation],
    keys: list[str] | None,
    naive_timezone: str,
    base: int,
) -> PreparedChunk:
    rows = stop - offset
    problems: dict[int, list[tuple[str, str, str]]] = {}
    columns: list[list[str | None]] = []
    for column in properties:
        formatted = format_series(df[column].iloc[offset:stop], column=column, naive_timezone=naive_timezone)
        for error in formatted.errors:
            problems.setdefault(error.position, []).append((INVALID_VALUE, column, error.reason))
        columns.append(formatted.values)
    bags = _bags(tuple(properties.values()), columns, rows)
    links = [_links(df[a.column].iloc[offset:stop], a, naive_timezone, problems) for a in associations]

    positions = range(base, base + rows)
    row_keys = keys if keys is not None else list(map(str, positions))
    traces = row_keys if keys is not None else [f"row-{p}" for p in positions]
    chunk = PreparedChunk()
    if not problems and not links:
        chunk.inputs = list(map(PreparedInput, positions, row_keys, traces, bags))
        chunk.prints = ChunkPrints(base, rows, tuple(properties.values()), columns)
        return chunk
    for i, bag in enumerate(bags):
        if i in problems:
            chunk.rejected.append(_rejected(row_keys[i], base + i, traces[i], problems[i]))
            continue
        row_links: list[dict[str, Any]] = []
        for per_row in links:
            targets = per_row[i]
            if targets:
                row_links.extend(targets)
        if len(links) > 1:
            row_links = _unique(row_links)
        chunk.inputs.append(PreparedInput(base + i, row_keys[i], traces[i], bag, row_links))
    linked = {item.position: item.associations for item in chunk.inputs if item.associations}
    chunk.prints = ChunkPrints(base, rows, tuple(properties.values()), columns, linked)
    return chunk


def _bags(props: tuple[str, ...], columns: list[list[str | None]], rows: int) -> list[dict[str, str]]:
    """One property dict per row, in property order, without the null (``None``) cells.

    Every dict is built by one call of :func:`_bag_builder`'s function per row (mapped over the columns
    at C level); the null cells are then removed column by column, touching only the rows that have them.
    """
    if not props:
        return [{} for _ in range(rows)]
    if any(len(values) != rows for values in columns):
        raise ValueError(f"every column must have {rows} cells")
    bags: list[dict[str, Any]] = list(map(_bag_builder(props), *columns))
    for prop, values in zip(props, columns, strict=True):
        if None in values:
            for i in compress(count(), map(is_, values, repeat(None))):
                del bags[i][prop]
    return bags


@lru_cache(maxsize=64)
def _bag_builder(props: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """Return ``f(v0, v1, ...) -> {props[0]: v0, props[1]: v1, ...}`` for these property names.

    A dict display with constant keys builds a row's dict in about half the time of
    ``dict(zip(props, row))`` (0.9 against 1.6 µs for 11 properties), and a load builds one per row.
    The function is compiled from the names' ``repr`` (a ``str`` literal for any ``str``, so no name
    can inject code) and cached per tuple of names.
    """
    if not all(type(p) is str for p in props):
        raise TypeError("property names must be str")
    params = ", ".join(f"v{i}" for i in range(len(props)))
    display = ", ".join(f"{p!r}: v{i}" for i, p in enumerate(props))
    builder: Callable[..., dict[str, Any]] = eval(f"lambda {params}: {{{display}}}", {"__builtins__": {}})
    return builder


def _rejected(key: str, position: int, trace_id: str, problems: list[tuple[str, str, str]]) -> RowOutcome:
    category, column, _ = problems[0]
    message = "; ".join(f"column {c!r}: {reason}" for _, c, reason in problems)
    return RowOutcome(
        key=key,
        position=position,
        status=FAILED,
        error=RowError(category=category, message=message, property=column),
        trace_id=trace_id,
    )


def _targets(series: pd.Series, naive_timezone: str) -> tuple[list[list[str]], dict[int, str]]:
    """Target ids (or keys) per cell, and the reason for each cell that cannot be read."""
    errors: dict[int, str] = {}
    if series.dtype == object:
        cells = series.to_numpy(dtype=object)
        if any(isinstance(v, _LIST_TYPES) for v in cells):
            targets: list[list[str]] = []
            for i, cell in enumerate(cells.tolist()):
                try:
                    items = list(cell) if isinstance(cell, _LIST_TYPES) else [cell]
                    texts = [format_value(v, naive_timezone=naive_timezone) for v in items]
                except ValueError as exc:  # format_value raises nothing else
                    errors[i] = str(exc)
                    texts = []
                except TypeError as exc:  # list() of a 0-d array
                    errors[i] = f"the targets cannot be read ({exc})"
                    texts = []
                targets.append([t for t in texts if t is not None and t != ""])
            return targets, errors
    formatted = format_series(series, naive_timezone=naive_timezone)
    for error in formatted.errors:
        errors[error.position] = error.reason
    return [[v] if v else [] for v in formatted.values], errors


def _links(
    series: pd.Series,
    association: ResolvedAssociation,
    naive_timezone: str,
    problems: dict[int, list[tuple[str, str, str]]],
) -> list[list[dict[str, Any]] | None]:
    """Build the ``associations`` entries of each row for one association column (``None``: none)."""
    column = association.column
    targets, errors = _targets(series, naive_timezone)
    for i, reason in errors.items():
        problems.setdefault(i, []).append((INVALID_VALUE, column, reason))
    id_map = association.id_map
    out: list[list[dict[str, Any]] | None] = []
    for i, cell in enumerate(targets):
        if not cell:
            out.append(None)
            continue
        ids = cell
        if id_map is not None:
            unknown = [k for k in cell if k not in id_map]
            if unknown:
                problems.setdefault(i, []).append(
                    (UNRESOLVED_ASSOCIATION, column, _unresolved(unknown, association.to_object_type))
                )
                out.append(None)
                continue
            ids = [id_map[k] for k in cell]
        out.append(
            [
                {
                    "to": {"id": target},
                    "types": [
                        {
                            "associationCategory": association.category,
                            "associationTypeId": association.type_id,
                        }
                    ],
                }
                for target in dict.fromkeys(ids)
            ]
        )
    return out


def _unresolved(unknown: list[str], to_object_type: str) -> str:
    keys = ", ".join(repr(k) for k in unknown)
    return f"no {to_object_type} record with warehouse key {keys} in the id map (not loaded, or it failed)"


def _unique(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for link in links:
        kind = link["types"][0]
        mark = (link["to"]["id"], kind["associationCategory"], kind["associationTypeId"])
        if mark not in seen:
            seen.add(mark)
            out.append(link)
    return out
