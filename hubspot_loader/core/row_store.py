"""A load's per-row results stored column by column: :class:`RowOutcomes` (re-exported by ``model``).

The store is append-only and holds exactly what a load and its readers need:

- *writing*: :meth:`RowOutcomes.reserve`, :meth:`~RowOutcomes.append`, :meth:`~RowOutcomes.extend`,
  :meth:`~RowOutcomes.extend_decided` (rows of one status, column by column), and
  :meth:`~RowOutcomes.sort_by_position` once the load is done (batches finish out of order);
- *reading without building a row object*: ``len``, :meth:`~RowOutcomes.status_count`,
  :meth:`~RowOutcomes.status_counts`, :meth:`~RowOutcomes.positions`, :meth:`~RowOutcomes.key_ids` and
  :meth:`~RowOutcomes.to_frame`;
- *reading rows*: iteration, ``rows[i]`` and :meth:`~RowOutcomes.with_status`, each :class:`RowOutcome`
  rebuilt on access and equal to the one stored.

No row is replaced, inserted or deleted.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core import row_codes
from hubspot_loader.core.columns import IntColumn
from hubspot_loader.core.rows import RowError, RowOutcome

_BLOCK = 4096
"""Rows encoded or rebuilt at a time."""

FRAME_COLUMNS = (
    "key",
    "position",
    "status",
    "hubspot_id",
    "category",
    "code",
    "property",
    "message",
    "http_status",
    "trace_id",
    "batch_index",
)
"""Columns of :meth:`RowOutcomes.to_frame`, in order: the row, then its error's fields, then where it went."""


def _is_distinct_range(positions: np.ndarray[Any, Any]) -> bool:
    """Whether ``positions`` are ``lo, lo + 1, ..., lo + n - 1`` in some order (a load's rows always are).

    Checked with one byte per row, a block at a time.
    """
    n = len(positions)
    lo, hi = int(positions.min()), int(positions.max())
    if hi - lo + 1 != n:
        return False
    seen = np.zeros(n, dtype=bool)
    for start in range(0, n, 65_536):
        seen[positions[start : start + 65_536].astype(np.int64) - lo] = True
    return bool(seen.all())  # n distinct slots of n values: no position repeats


def _objects(table: list[Any], codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``table[code]`` for each code, ``None`` for code -1, as an object array (the objects are shared)."""
    lookup = np.empty(len(table) + 1, dtype=object)
    for i, value in enumerate(table):  # one by one: a value that is a sequence stays one object
        lookup[i] = value
    return lookup[codes]  # -1 reads the last slot, left None


class RowOutcomes:
    """An append-only store of :class:`RowOutcome`, column by column, for loads of millions of rows.

    A row costs about 20 bytes instead of a few hundred for the objects: positions, batch indexes, and
    keys and HubSpot ids that are plain decimal numbers (see :func:`decimal_int`) are integers in
    :class:`~hubspot_loader.core.columns.IntColumn` columns, each as narrow as its values allow; statuses
    are small codes; equal errors are stored once; a trace id that repeats the key or is
    ``row-{position}`` is not stored at all. Anything else (a text key, a non-numeric id, another trace
    id) is kept as it is, in a column created on first use. :meth:`reserve` makes room for a known
    number of rows up front, so that the columns are never reallocated while they fill.

    It compares equal to a list (or another store) of the same rows in the same order.
    """

    def __init__(self, rows: Iterable[RowOutcome] = ()) -> None:
        self._sorts = 0
        """Counts the sorts, so that an iteration in progress sees one (as over a list)."""
        self._keys = IntColumn()
        self._key_text: list[object] | None = None
        self._positions = IntColumn()
        self._status = IntColumn()
        self._ids = IntColumn()
        self._id_text: list[object] | None = None
        self._trace = IntColumn()
        self._trace_text: list[object] | None = None
        self._errors = IntColumn()
        self._batch = IntColumn()
        self._status_table: list[str] = []
        self._status_codes: dict[str, int] = {}
        self._error_table: list[RowError] = []
        self._error_codes: dict[RowError, int] = {}
        self.extend(rows)

    def _int_columns(self) -> tuple[IntColumn, ...]:
        """Return the integer columns, in the order of an encoded row's integer fields."""
        return (self._keys, self._positions, self._status, self._ids, self._trace, self._errors, self._batch)

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows in all: appending up to that many never moves a column.

        :func:`~hubspot_loader.load.load_dataframe` reserves one row per frame row before it sends.
        """
        for column in self._int_columns():
            column.reserve(rows)

    # ------------------------------------------------------------------ writing

    def append(self, row: RowOutcome) -> None:
        """Add ``row`` at the end."""
        self._store([self._encode(row)])

    def extend(self, rows: Iterable[RowOutcome]) -> None:
        """Add every row at the end, stored a block of rows at a time.

        As with a list, the rows before one that is not a :class:`RowOutcome` (or before an error raised
        by ``rows`` itself) are added.
        """
        encoded: list[row_codes.Encoded] = []
        try:
            for row in list(rows) if rows is self else rows:
                encoded.append(self._encode(row))
                if len(encoded) == _BLOCK:
                    self._store(encoded)
                    encoded = []
        finally:
            if encoded:
                self._store(encoded)

    def extend_decided(
        self,
        keys: Sequence[str],
        positions: Sequence[int],
        traces: row_codes.Texts,
        status: str,
        ids: row_codes.Texts | np.ndarray[Any, Any],
    ) -> None:
        """Add rows of one ``status`` and no error, column by column (no row objects).

        As ``extend`` of the same ``RowOutcome``s, at a fraction of the cost: a sync decides most rows from
        the ledger alone (skipped, unchanged). ``ids`` are the HubSpot ids, or their codes already
        (``int64``: a canonical decimal id as its number, :data:`~hubspot_loader.core.row_codes.ID_NONE`
        for none).
        """
        count = len(keys)
        if not (len(positions) == len(traces) == len(ids) == count):
            raise ValueError("keys, positions, traces and ids must have the same length")
        code = self._status_code(status)
        for start in range(0, count, _BLOCK):
            part = slice(start, min(start + _BLOCK, count))
            block_keys, block_positions = keys[part], positions[part]
            key_codes, key_texts = row_codes.text_codes(block_keys)
            if isinstance(ids, np.ndarray):
                id_codes, id_texts = _id_numbers(ids[part]), None
            else:
                id_codes, id_texts = row_codes.id_codes(ids[part])
            trace_codes, trace_texts = row_codes.trace_codes(traces[part], block_keys, block_positions)
            size = len(block_keys)
            for attr, texts in (
                ("_key_text", key_texts),
                ("_id_text", id_texts),
                ("_trace_text", trace_texts),
            ):
                self._add_texts(attr, texts, size)
            values: tuple[np.ndarray[Any, Any], ...] = (
                key_codes,
                _int64s(block_positions),
                np.full(size, code, dtype=np.int64),
                id_codes,
                trace_codes,
                np.full(size, row_codes.NO_ERROR, dtype=np.int8),
                np.zeros(size, dtype=np.int8),
            )
            for column, array in zip(self._int_columns(), values, strict=True):
                column.extend_array(array)

    def _add_texts(self, attr: str, texts: list[object] | None, count: int) -> None:
        """Add ``count`` cells to a text column (``None``: no text), creating it when a text first comes."""
        column = getattr(self, attr)
        if column is None:
            if texts is None:
                return
            column = [None] * len(self)
            setattr(self, attr, column)
        column.extend(repeat(None, count) if texts is None else texts)

    def sort_by_position(self) -> None:
        """Sort in place by position, stably (the rows of equal positions keep their order).

        When the positions are a range (a load's rows), every row moves straight to its slot: the only
        temporaries are one scratch buffer of 4 bytes per row shared by the integer columns and, for a
        text column, its new list. Otherwise a stable ``argsort`` gives the order.
        """
        positions = self._positions.view()
        if len(positions) < 2 or bool(np.all(positions[1:] >= positions[:-1])):
            return
        self._sorts += 1
        if not _is_distinct_range(positions):
            order = np.argsort(positions, kind="stable")
            for column in self._int_columns():
                column.permute(order)
            self._reorder_texts(lambda texts: [texts[i] for i in order.tolist()])
            return
        lo = int(positions.min())
        scratch = np.empty(4 * len(positions), dtype=np.uint8)
        for column in self._int_columns():
            if column is not self._positions:  # moved last: it says where every row goes
                column.move_to(positions, lo, scratch)
        del scratch
        self._reorder_texts(lambda texts: _moved(texts, positions, lo))
        for start in range(0, len(positions), 65_536):  # now simply lo, lo + 1, ...
            stop = min(start + 65_536, len(positions))
            positions[start:stop] = np.arange(lo + start, lo + stop, dtype=positions.dtype)

    def _reorder_texts(self, reorder: Callable[[list[object]], list[object]]) -> None:
        for attr in ("_key_text", "_id_text", "_trace_text"):
            texts = getattr(self, attr)
            if texts is not None:
                setattr(self, attr, reorder(texts))

    def _encode(self, row: RowOutcome) -> row_codes.Encoded:
        if not isinstance(row, RowOutcome):
            raise TypeError(f"RowOutcomes holds RowOutcome objects, not {type(row).__name__}")
        position = row_codes.in_int64(row.position, "position")
        batch = row.batch_index
        batch_code = row_codes.batch_code(None if batch is None else row_codes.in_int64(batch, "batch index"))
        if batch_code > row_codes.INT64_MAX:
            raise OverflowError(f"batch index {batch} does not fit a signed 64-bit integer")
        key_code, key_text = row_codes.text_code(row.key)
        status = self._status_code(row.status)
        id_code, id_text = row_codes.id_code(row.hubspot_id)
        trace_code, trace_text = row_codes.trace_code(row.trace_id, row.key, position)
        error = self._error_code(row.error)
        return (
            key_code,
            key_text,
            position,
            status,
            id_code,
            id_text,
            trace_code,
            trace_text,
            error,
            batch_code,
        )

    def _status_code(self, status: str) -> int:
        code = self._status_codes.get(status)
        if code is None:
            code = len(self._status_table)
            self._status_table.append(status)
            self._status_codes[status] = code
        return code

    def _error_code(self, error: RowError | None) -> int:
        if error is None:
            return row_codes.NO_ERROR
        try:
            code = self._error_codes.get(error)
        except TypeError:  # a field that is not hashable: keep the object as it is
            self._error_table.append(error)
            return len(self._error_table) - 1
        if code is None:
            code = len(self._error_table)
            self._error_table.append(error)
            self._error_codes[error] = code
        return code

    def _store(self, encoded: list[row_codes.Encoded]) -> None:
        """Add encoded rows to every column (the text columns first: they are created at ``len(self)``)."""
        fields = list(zip(*encoded, strict=True))
        for attr, texts in (("_key_text", fields[1]), ("_id_text", fields[5]), ("_trace_text", fields[7])):
            column = getattr(self, attr)
            if column is None:
                if all(text is None for text in texts):
                    continue
                column = [None] * len(self)
                setattr(self, attr, column)
            column.extend(texts)
        integers = (fields[0], fields[2], fields[3], fields[4], fields[6], fields[8], fields[9])
        for column, values in zip(self._int_columns(), integers, strict=True):
            column.extend_ints(values)

    # ------------------------------------------------------------------ reading rows

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index: int) -> RowOutcome:
        """Return the row at ``index`` (negative counts from the end)."""
        n = len(self)
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("RowOutcomes index out of range")
        return self._block(i, i + 1)[0]

    def __iter__(self) -> Iterator[RowOutcome]:
        i = 0
        while i < len(self):  # a block at a time: rows appended meanwhile are seen, as over a list
            sorts = self._sorts
            for row in self._block(i, min(i + _BLOCK, len(self))):
                yield row
                i += 1
                if self._sorts != sorts:  # sorted meanwhile: go on from ``i`` in the new order
                    break

    def with_status(self, status: str) -> list[RowOutcome]:
        """Return the rows that have ``status``, in order (only those rows are rebuilt)."""
        code = self._status_codes.get(status)
        if code is None or not len(self):
            return []
        return [self[i] for i in np.flatnonzero(self._status.view() == code).tolist()]

    def _block(self, start: int, stop: int) -> list[RowOutcome]:
        """Rows ``start`` to ``stop``, each column read once as a list."""

        def ints(column: IntColumn) -> list[int]:
            return list(column.view()[start:stop].tolist())

        def texts(column: list[object] | None) -> Iterable[object]:
            return repeat(None, stop - start) if column is None else column[start:stop]

        return list(
            map(
                self._make,
                ints(self._keys),
                texts(self._key_text),
                ints(self._positions),
                ints(self._status),
                ints(self._ids),
                texts(self._id_text),
                ints(self._trace),
                texts(self._trace_text),
                ints(self._errors),
                ints(self._batch),
            )
        )

    def _make(self, *encoded: Any) -> RowOutcome:
        key_code, key_text, position, status, id_code, id_text, trace_code, trace_text, error, batch = encoded
        key: Any = str(key_code) if key_code >= 0 else key_text
        if id_code >= 0:
            hubspot_id: Any = str(id_code)
        else:
            hubspot_id = None if id_code == row_codes.ID_NONE else id_text
        if trace_code == row_codes.TRACE_KEY:
            trace: Any = key
        elif trace_code == row_codes.TRACE_NONE:
            trace = None
        elif trace_code == row_codes.TRACE_ROW:
            trace = f"row-{position}"
        else:
            trace = trace_text
        return RowOutcome(
            key=key,
            position=position,
            status=self._status_table[status],
            hubspot_id=hubspot_id,
            error=None if error == row_codes.NO_ERROR else self._error_table[error],
            trace_id=trace,
            batch_index=None if batch == 0 else batch - 1 if batch > 0 else batch,
        )

    # ------------------------------------------------------------------ reading columns (no row objects)

    def status_count(self, status: str) -> int:
        """How many rows have ``status``."""
        code = self._status_codes.get(status)
        if code is None or not len(self):
            return 0
        return int(np.count_nonzero(self._status.view() == code))

    def status_counts(self) -> dict[str, int]:
        """How many rows have each status, for the statuses that occur (in order of first appearance)."""
        if not len(self):
            return {}
        counts = np.bincount(self._status.view(), minlength=len(self._status_table))
        return {status: int(n) for status, n in zip(self._status_table, counts.tolist(), strict=True) if n}

    def positions(self) -> Iterator[int]:
        """Every row's position, in order."""
        return iter(self._positions)

    def key_ids(self) -> Iterator[tuple[str, str]]:
        """``(key, hubspot_id)`` of every row that has an id, in order."""
        for start in range(0, len(self), _BLOCK):
            stop = min(start + _BLOCK, len(self))
            keys = self._keys.view()[start:stop].tolist()
            ids = self._ids.view()[start:stop].tolist()
            for i, id_code in enumerate(ids):
                if id_code == row_codes.ID_NONE:
                    continue
                if keys[i] >= 0:
                    key: Any = str(keys[i])
                else:  # a key that is not a decimal number; ``None`` (no text column) stays ``None``
                    key = None if self._key_text is None else self._key_text[start + i]
                hid = str(id_code) if id_code >= 0 else self._id_text[start + i]  # type: ignore[index]
                yield key, hid  # type: ignore[misc]

    def to_frame(self) -> pd.DataFrame:
        """One line per row, in order, with the columns of :data:`FRAME_COLUMNS`, built from the columns.

        ``position`` is ``int64``; ``http_status`` and ``batch_index`` are nullable ``Int64``; the other
        columns hold strings or ``None`` (``category`` ... ``message`` are ``None`` for a row without an
        error). No :class:`RowOutcome` is made.
        """
        errors, error_codes = self._error_table, self._errors.view().astype(np.intp)
        batch = self._batch.view().astype(np.int64)
        keys = row_codes.texts_or_numbers(self._keys.view(), self._key_text)
        data: dict[str, Any] = {
            "key": keys,
            "position": self._positions.view().astype(np.int64),
            "status": _objects(self._status_table, self._status.view().astype(np.intp)),
            "hubspot_id": row_codes.texts_or_numbers(self._ids.view(), self._id_text),
            "category": _objects([e.category for e in errors], error_codes),
            "code": _objects([e.code for e in errors], error_codes),
            "property": _objects([e.property for e in errors], error_codes),
            "message": _objects([e.message for e in errors], error_codes),
            "http_status": pd.array(_objects([e.http_status for e in errors], error_codes), dtype="Int64"),
            "trace_id": self._trace_ids(keys),
            "batch_index": pd.arrays.IntegerArray(np.where(batch > 0, batch - 1, batch), batch == 0),
        }
        return pd.DataFrame(data, columns=list(FRAME_COLUMNS), index=pd.RangeIndex(len(self)))

    def _trace_ids(self, keys: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Return the trace id column, given the key column (a trace id that repeats the key is that key)."""
        codes = self._trace.view()
        out = np.full(len(codes), None, dtype=object)
        same = codes == row_codes.TRACE_KEY
        out[same] = keys[same]
        by_position = np.flatnonzero(codes == row_codes.TRACE_ROW)
        out[by_position] = [f"row-{p}" for p in self._positions.view()[by_position].tolist()]
        if self._trace_text is not None:
            kept = codes == row_codes.TRACE_TEXT
            out[kept] = np.fromiter(self._trace_text, dtype=object, count=len(codes))[kept]
        return out

    # ------------------------------------------------------------------ comparison and display

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, RowOutcomes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> RowOutcomes:
        """Return an independent copy (a shallow one would share the columns that appends grow)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        counts = ", ".join(f"{status}={n}" for status, n in self.status_counts().items())
        return f"RowOutcomes({len(self)} rows{': ' if counts else ''}{counts})"


def _int64s(values: Sequence[int]) -> np.ndarray[Any, Any]:
    """Return integer ``values`` as ``int64``; ``OverflowError`` naming the first that does not fit."""
    array = np.asarray(values)
    if array.dtype.kind == "i":
        return array.astype(np.int64, copy=False)
    return np.array([row_codes.in_int64(v, "position") for v in values], dtype=np.int64)


def _moved(texts: list[object], slots: np.ndarray[Any, Any], offset: int) -> list[object]:
    """``texts`` with item ``i`` moved to index ``slots[i] - offset``."""
    out: list[object] = [None] * len(texts)
    for start in range(0, len(texts), 65_536):
        block = (slots[start : start + 65_536].astype(np.int64) - offset).tolist()
        for index, text in zip(block, texts[start : start + 65_536], strict=True):
            out[index] = text
    return out


def _id_numbers(codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return id codes given as numbers (``int64``): each an id's number or ``ID_NONE``, no kept text."""
    codes = codes.astype(np.int64, copy=False)
    if len(codes) and (codes < row_codes.ID_NONE).any():
        raise ValueError("id codes given as numbers must be ids (>= 0) or ID_NONE")
    return codes
