"""A load's per-row results stored column by column: :class:`RowOutcomes` (re-exported by ``model``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence
from itertools import repeat
from operator import itemgetter
from typing import Any, overload

import numpy as np

from hubspot_loader.core.columns import IntColumn
from hubspot_loader.core.rows import RowError, RowOutcome, decimal_int

_ID_NONE = -1
_ID_TEXT = -2
_NO_ERROR = -1
_TRACE_NONE, _TRACE_KEY, _TRACE_ROW, _TRACE_TEXT = 0, 1, 2, 3
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BLOCK = 4096
"""Rows rebuilt at a time when iterating."""


def _batch_code(batch: int | None) -> int:
    """Store ``None`` as 0, an index ``b >= 0`` as ``b + 1`` and a negative one as itself."""
    if batch is None:
        return 0
    return batch + 1 if batch >= 0 else batch


def _in_int64(value: int, what: str) -> int:
    value = value.__index__()
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"{what} {value} does not fit a signed 64-bit integer")
    return value


def _distinct_range_order(positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """Return the sorting order of ``positions`` if they are ``lo, lo + 1, ..., lo + n - 1`` in any order.

    A load's rows are exactly that. The order is then the inverse permutation, written in one ``int32``
    array block by block (no ``argsort`` and its 64-bit result). ``None`` when the positions are not
    such a range (a gap or a repeat), or too many for ``int32``.
    """
    n = len(positions)
    lo, hi = int(positions.min()), int(positions.max())
    if hi - lo + 1 != n or n > np.iinfo(np.int32).max:
        return None
    order = np.full(n, -1, dtype=np.int32)
    for start in range(0, n, 65_536):
        block = positions[start : start + 65_536]
        order[block.astype(np.int64) - lo] = np.arange(start, start + len(block), dtype=np.int32)
    if int(order.min()) < 0:  # a slot nobody filled: some position repeats
        return None
    return order


class RowOutcomes(MutableSequence[RowOutcome]):
    """A list of :class:`RowOutcome` stored column by column, for loads of millions of rows.

    It behaves as a list of :class:`RowOutcome` (indexing, slicing, iteration, ``len``, ``append``,
    ``extend``, ``sort``, ``==`` with a list, ``+``); each item is rebuilt on access, equal to the one
    stored. A row costs about 20 bytes instead of a few hundred for the objects: positions, batch
    indexes, and keys and HubSpot ids that are plain decimal numbers (see :func:`decimal_int`) are
    integers in :class:`~hubspot_loader.core.columns.IntColumn` columns, each as narrow as its values allow;
    statuses are small codes; equal errors are stored once; a trace id that repeats the key or is
    ``row-{position}`` is not stored at all. Anything else (a text key, a non-numeric id, another trace
    id) is kept as it is, in a column created on first use. :meth:`reserve` makes room for a known
    number of rows up front, so that the columns are never reallocated while they fill.
    """

    def __init__(self, rows: Iterable[RowOutcome] = ()) -> None:
        self._version = 0
        """Bumped by every change, so that an iteration in progress sees it (as over a list)."""
        self._reset()
        self.extend(rows)

    def _reset(self) -> None:
        self._version += 1
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

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows in all: appending up to that many never moves a column.

        :func:`~hubspot_loader.load.load_dataframe` reserves one row per frame row before it sends.
        """
        for column in self._int_columns():
            column.reserve(rows)

    def _int_columns(self) -> tuple[IntColumn, ...]:
        return (self._keys, self._positions, self._status, self._ids, self._trace, self._errors, self._batch)

    # ------------------------------------------------------------------ encoding

    def _encode(self, row: RowOutcome) -> tuple[Any, ...]:
        if not isinstance(row, RowOutcome):
            raise TypeError(f"RowOutcomes holds RowOutcome objects, not {type(row).__name__}")
        position = _in_int64(row.position, "position")
        batch = row.batch_index
        batch_code = _batch_code(None if batch is None else _in_int64(batch, "batch index"))
        if batch_code > _INT64_MAX:
            raise OverflowError(f"batch index {batch} does not fit a signed 64-bit integer")
        key_code = decimal_int(row.key)
        key_text: object = None
        if key_code is None:
            key_code, key_text = _ID_TEXT, row.key
        status = self._status_codes.get(row.status)
        if status is None:
            status = len(self._status_table)
            self._status_table.append(row.status)
            self._status_codes[row.status] = status
        hid = row.hubspot_id
        id_text: object = None
        if hid is None:
            id_code = _ID_NONE
        else:
            number = decimal_int(hid)
            id_code, id_text = (_ID_TEXT, hid) if number is None else (number, None)
        trace = row.trace_id
        trace_text: object = None
        if trace is None:
            trace_code = _TRACE_NONE
        elif trace is row.key or trace == row.key:
            trace_code = _TRACE_KEY
        elif type(trace) is str and trace == f"row-{position}":
            trace_code = _TRACE_ROW
        else:
            trace_code, trace_text = _TRACE_TEXT, trace
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

    def _error_code(self, error: RowError | None) -> int:
        if error is None:
            return _NO_ERROR
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

    def _make(
        self,
        key_code: int,
        key_text: object,
        position: int,
        status: int,
        id_code: int,
        id_text: object,
        trace_code: int,
        trace_text: object,
        error_code: int,
        batch_code: int,
    ) -> RowOutcome:
        key: Any = str(key_code) if key_code >= 0 else key_text
        if id_code >= 0:
            hid: Any = str(id_code)
        else:
            hid = None if id_code == _ID_NONE else id_text
        if trace_code == _TRACE_KEY:
            trace: Any = key
        elif trace_code == _TRACE_NONE:
            trace = None
        elif trace_code == _TRACE_ROW:
            trace = f"row-{position}"
        else:
            trace = trace_text
        batch = None if batch_code == 0 else batch_code - 1 if batch_code > 0 else batch_code
        return RowOutcome(
            key=key,
            position=position,
            status=self._status_table[status],
            hubspot_id=hid,
            error=None if error_code == _NO_ERROR else self._error_table[error_code],
            trace_id=trace,
            batch_index=batch,
        )

    def _row(self, i: int) -> RowOutcome:
        return self._make(
            self._keys[i],
            None if self._key_text is None else self._key_text[i],
            self._positions[i],
            self._status[i],
            self._ids[i],
            None if self._id_text is None else self._id_text[i],
            self._trace[i],
            None if self._trace_text is None else self._trace_text[i],
            self._errors[i],
            self._batch[i],
        )

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

    def _text_columns(self) -> list[list[object]]:
        return [c for c in (self._key_text, self._id_text, self._trace_text) if c is not None]

    def _texts(self, key_text: object, id_text: object, trace_text: object) -> None:
        """Create the text columns on first use (``None`` for every earlier row)."""
        if key_text is not None and self._key_text is None:
            self._key_text = [None] * len(self)
        if id_text is not None and self._id_text is None:
            self._id_text = [None] * len(self)
        if trace_text is not None and self._trace_text is None:
            self._trace_text = [None] * len(self)

    def _pairs(self, encoded: tuple[Any, ...]) -> list[tuple[Any, Any]]:
        """Each column paired with ``encoded``'s value for it."""
        key_code, key_text, position, status, id_code, id_text, trace_code, trace_text, error, batch = encoded
        self._texts(key_text, id_text, trace_text)
        pairs: list[tuple[Any, Any]] = [
            (self._keys, key_code),
            (self._positions, position),
            (self._status, status),
            (self._ids, id_code),
            (self._trace, trace_code),
            (self._errors, error),
            (self._batch, batch),
        ]
        for column, value in (
            (self._key_text, key_text),
            (self._id_text, id_text),
            (self._trace_text, trace_text),
        ):
            if column is not None:
                pairs.append((column, value))
        return pairs

    # ------------------------------------------------------------------ list behaviour

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> RowOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> RowOutcomes: ...

    def __getitem__(self, index: int | slice) -> RowOutcome | RowOutcomes:
        if isinstance(index, slice):
            return RowOutcomes(self._row(i) for i in range(*index.indices(len(self))))
        n = len(self)
        i = index.__index__()
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("RowOutcomes index out of range")
        return self._row(i)

    def __iter__(self) -> Iterator[RowOutcome]:
        i = 0
        while i < len(self):  # a block at a time; rebuilt from ``i`` after a change, as a list would
            version = self._version
            for row in self._block(i, min(i + _BLOCK, len(self))):
                yield row
                i += 1
                if self._version != version:
                    break

    @overload
    def __setitem__(self, index: int, value: RowOutcome) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[RowOutcome]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            items = list(self)
            items[index] = list(value)
            self._reset()
            self.extend(items)
            return
        n = len(self)
        i = index.__index__()
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("RowOutcomes assignment index out of range")
        for column, item in self._pairs(self._encode(value)):
            column[i] = item
        self._version += 1

    def __delitem__(self, index: int | slice) -> None:
        if not isinstance(index, slice):
            n = len(self)
            i = index.__index__()
            if not -n <= i < n:
                raise IndexError("RowOutcomes assignment index out of range")
        for column in self._int_columns():
            del column[index]
        for texts in self._text_columns():
            del texts[index]
        self._version += 1

    def insert(self, index: int, value: RowOutcome) -> None:
        """Insert ``value`` before ``index`` (like ``list.insert``)."""
        for column, item in self._pairs(self._encode(value)):
            column.insert(index, item)
        self._version += 1

    def append(self, value: RowOutcome) -> None:
        """Add ``value`` at the end (like ``list.append``)."""
        for column, item in self._pairs(self._encode(value)):
            column.append(item)
        self._version += 1

    def extend(self, values: Iterable[RowOutcome]) -> None:
        """Add every value at the end (like ``list.extend``), stored a block of rows at a time.

        As with a list, the values before one that is not a :class:`RowOutcome` (or before an error
        raised by ``values`` itself) are added.
        """
        encoded: list[tuple[Any, ...]] = []
        try:
            for value in list(values) if values is self else values:
                encoded.append(self._encode(value))
                if len(encoded) == _BLOCK:
                    self._store(encoded)
                    encoded = []
        finally:
            if encoded:
                self._store(encoded)

    def _store(self, encoded: list[tuple[Any, ...]]) -> None:
        self._version += 1
        columns = list(zip(*encoded, strict=True))
        key_text, id_text, trace_text = columns[1], columns[5], columns[7]
        self._texts(
            next((t for t in key_text if t is not None), None),
            next((t for t in id_text if t is not None), None),
            next((t for t in trace_text if t is not None), None),
        )
        for column, values in zip(self._int_columns(), itemgetter(0, 2, 3, 4, 6, 8, 9)(columns), strict=True):
            column.extend_ints(values)
        for texts, values in (
            (self._key_text, key_text),
            (self._id_text, id_text),
            (self._trace_text, trace_text),
        ):
            if texts is not None:
                texts.extend(values)

    def clear(self) -> None:
        """Remove every row."""
        self._reset()

    def copy(self) -> RowOutcomes:
        """Return a shallow copy (like ``list.copy``)."""
        out = RowOutcomes()
        out.reserve(len(self))
        out.extend(self)
        return out

    __copy__ = copy

    def reverse(self) -> None:
        """Reverse in place (like ``list.reverse``)."""
        self._permute(np.arange(len(self) - 1, -1, -1, dtype=np.intp))

    def sort(self, *, key: Callable[[RowOutcome], Any] | None = None, reverse: bool = False) -> None:
        """Sort in place, stably, like ``list.sort``."""
        if key is None:
            if len(self) > 1:  # RowOutcome defines no order, so a list raises the same
                raise TypeError("'<' not supported between instances of 'RowOutcome' and 'RowOutcome'")
            return
        keys = [key(row) for row in self]
        order = sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)
        self._permute(np.asarray(order, dtype=np.intp))

    def sort_by_position(self) -> None:
        """Sort in place by position, stably (same result as ``sort(key=lambda r: r.position)``)."""
        positions = self._positions.view()
        if len(positions) < 2 or bool(np.all(positions[1:] >= positions[:-1])):
            return
        order = _distinct_range_order(positions)
        if order is None:
            order = np.argsort(positions, kind="stable")
            if len(order) <= np.iinfo(np.int32).max:  # half the memory while the columns are permuted
                order = order.astype(np.int32)
        del positions
        self._permute(order)

    def _permute(self, order: np.ndarray[Any, Any]) -> None:
        """Reorder every column in place (row ``i`` becomes the row at ``order[i]``)."""
        self._version += 1
        for column in self._int_columns():
            column.permute(order)
        for objects in self._text_columns():
            objects[:] = np.fromiter(objects, dtype=object, count=len(objects))[order].tolist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, RowOutcomes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[RowOutcome]) -> RowOutcomes:
        out = self.copy()
        out.extend(other)
        return out

    def __radd__(self, other: Iterable[RowOutcome]) -> RowOutcomes:
        out = RowOutcomes(other)
        out.extend(self)
        return out

    def __repr__(self) -> str:
        return repr(list(self))

    # ------------------------------------------------------------------ column access (no objects built)

    def status_count(self, status: str) -> int:
        """How many rows have ``status``."""
        code = self._status_codes.get(status)
        if code is None or not len(self):
            return 0
        return int(np.count_nonzero(self._status.view() == code))

    def with_status(self, status: str) -> list[RowOutcome]:
        """Return the rows that have ``status``, in order (only those rows are rebuilt)."""
        code = self._status_codes.get(status)
        if code is None or not len(self):
            return []
        return [self._row(i) for i in np.flatnonzero(self._status.view() == code).tolist()]

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
                if id_code == _ID_NONE:
                    continue
                if keys[i] >= 0:
                    key: Any = str(keys[i])
                else:  # a key that is not a decimal number; ``None`` (no text column) stays ``None``
                    key = None if self._key_text is None else self._key_text[start + i]
                hid = str(id_code) if id_code >= 0 else self._id_text[start + i]  # type: ignore[index]
                yield key, hid  # type: ignore[misc]
