"""A growable integer column: one numpy buffer with reserved capacity, as narrow as its values allow.

:class:`~hubspot_loader.core.row_store.RowOutcomes` keeps a load's per-row results in these columns. Two
properties matter for loads of millions of rows:

- **Capacity can be reserved.** A load knows how many rows it will report, so it reserves that many
  slots before the first batch: the buffer is never reallocated while results arrive. (Growing a
  buffer by reallocation leaves the old block behind as free but resident heap memory, again and
  again as it grows.) Without a reservation the buffer grows by half its size when full.
- **The element type widens on demand.** A column starts with the narrowest signed type that its
  caller expects (``int8`` for small codes, ``int32`` for positions) and is copied to the next wider
  type the first time a value does not fit, up to ``int64``. Values outside ``int64`` raise
  :class:`OverflowError`, as :class:`array.array` does.

Like the store, a column is append-only: values are added at the end and reordered as a whole
(:meth:`IntColumn.permute`, :meth:`IntColumn.move_to`); none is replaced, inserted or deleted on its own.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

_WIDER: tuple[type[np.signedinteger[Any]], ...] = (np.int8, np.int16, np.int32, np.int64)
_BOUNDS = {t: (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in _WIDER}
_ITER_BLOCK = 4096
"""Values converted to Python ints at a time when iterating (not the whole column at once)."""
_MOVE_BLOCK = 65_536
"""Values moved at a time by :meth:`IntColumn.move_to`."""


class IntColumn:
    """An append-only list of Python ints stored in a numpy buffer of a signed integer type.

    Supports ``append``, ``extend``, indexing, ``len`` and iteration, plus :meth:`reserve`, :meth:`view`,
    :meth:`permute` and :meth:`move_to`.
    """

    __slots__ = ("_data", "_len")

    def __init__(self, dtype: type[np.signedinteger[Any]] = np.int8, values: Iterable[int] = ()) -> None:
        if dtype not in _BOUNDS:
            raise TypeError(f"IntColumn holds signed numpy integers, not {dtype!r}")
        self._data: np.ndarray[Any, Any] = np.empty(0, dtype=dtype)
        self._len = 0
        self.extend(values)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The current element type (it only ever gets wider)."""
        return self._data.dtype

    @property
    def capacity(self) -> int:
        """How many values fit before the buffer must grow."""
        return len(self._data)

    def __len__(self) -> int:
        return self._len

    def view(self) -> np.ndarray[Any, Any]:
        """Return the stored values as a numpy array sharing this column's memory (writes go through).

        Do not keep it across an append: a column that grows or widens moves to a new buffer.
        """
        return self._data[: self._len]

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` values in all, so appending up to that many does not reallocate."""
        if capacity > len(self._data):
            self._move(capacity, self._data.dtype)

    def _move(self, capacity: int, dtype: np.dtype[Any] | type[np.signedinteger[Any]]) -> None:
        data = np.empty(capacity, dtype=dtype)
        data[: self._len] = self._data[: self._len]
        self._data = data

    def _fit(self, low: int, high: int, extra: int) -> None:
        """Widen the type for values in ``[low, high]`` and make room for ``extra`` more values."""
        dtype = self._data.dtype.type
        lo, hi = _BOUNDS[dtype]
        if not lo <= low <= high <= hi:
            for wider in _WIDER[_WIDER.index(dtype) + 1 :]:
                lo, hi = _BOUNDS[wider]
                if lo <= low and high <= hi:
                    dtype = wider
                    break
            else:
                raise OverflowError(f"{low if low < lo else high} does not fit a signed 64-bit integer")
        need = self._len + extra
        if need > len(self._data) or dtype is not self._data.dtype.type:
            capacity = len(self._data)
            if need > capacity:
                capacity = max(need, capacity + capacity // 2, 16)
            self._move(capacity, dtype)

    def append(self, value: int) -> None:
        """Add ``value`` at the end."""
        self.extend_ints([operator.index(value)])

    def extend(self, values: Iterable[int]) -> None:
        """Add every value at the end (all or none: a value that is not an integer or too big adds none)."""
        self.extend_ints([operator.index(v) for v in values])

    def extend_ints(self, items: Sequence[int]) -> None:
        """Add ``items``, which are already Python ``int`` objects, at the end (no conversion)."""
        if not items:
            return
        self._fit(min(items), max(items), len(items))
        self._data[self._len : self._len + len(items)] = items
        self._len += len(items)

    def extend_array(self, values: np.ndarray[Any, Any]) -> None:
        """Add the integers of the array ``values`` at the end (all or none)."""
        if not len(values):
            return
        self._fit(int(values.min()), int(values.max()), len(values))
        self._data[self._len : self._len + len(values)] = values
        self._len += len(values)

    def __getitem__(self, index: int) -> int:
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("IntColumn index out of range")
        return int(self._data[i])

    def __iter__(self) -> Iterator[int]:
        # a block at a time, so that values appended meanwhile are seen (as over a list)
        i = 0
        while i < self._len:
            block = self._data[i : min(i + _ITER_BLOCK, self._len)].tolist()
            yield from block
            i += len(block)

    def permute(self, order: np.ndarray[Any, Any]) -> None:
        """Reorder in place: value ``i`` becomes the value at ``order[i]`` (``order`` covers every value).

        A 64-bit column is moved as two planes of 32-bit halves, one after the other, so the temporary
        copy is half the column's size.
        """
        view = self.view()
        if view.dtype.itemsize == 8:
            planes = view.view(np.int32).reshape(-1, 2)
            for half in (0, 1):
                plane = planes[:, half]
                plane[:] = plane[order]
        else:
            view[:] = view[order]

    def move_to(self, slots: np.ndarray[Any, Any], offset: int, scratch: np.ndarray[Any, Any]) -> None:
        """Reorder in place: value ``i`` moves to slot ``slots[i] - offset`` (those slots cover every value).

        ``scratch`` is a byte buffer of at least 4 bytes per value, which the caller can share between
        columns: no other temporary is larger than a block. A 64-bit column is moved as two planes of
        32-bit halves, one after the other.
        """
        view = self.view()
        planes = view.view(np.int32).reshape(-1, 2) if view.dtype.itemsize == 8 else view.reshape(-1, 1)
        for half in range(planes.shape[1]):
            plane = planes[:, half]
            moved = scratch[: plane.nbytes].view(plane.dtype)
            for start in range(0, len(plane), _MOVE_BLOCK):
                stop = start + _MOVE_BLOCK
                block = slots[start:stop]
                moved[block.astype(np.int64) - offset if offset else block] = plane[start:stop]
            plane[:] = moved

    def __repr__(self) -> str:
        return f"IntColumn({self._data.dtype.name}, {self.view().tolist()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Only the values are pickled (as a numpy array, which records its byte order), not the capacity.
        return (_restore, (self.view().copy(),))


def _restore(values: np.ndarray[Any, Any]) -> IntColumn:
    column = IntColumn(values.dtype.type)
    column.reserve(len(values))
    column._data[: len(values)] = values
    column._len = len(values)
    return column
