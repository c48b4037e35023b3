"""A growable integer column: one numpy buffer with reserved capacity, as narrow as its values allow.

:class:`~hubspot_loader.core.model.RowOutcomes` keeps a load's per-row results in these columns. Two
properties matter for loads of millions of rows:

- **Capacity can be reserved.** A load knows how many rows it will report, so it reserves that many
  slots before the first batch: the buffer is never reallocated while results arrive. (Growing a
  buffer by reallocation leaves the old block behind as free but resident heap memory, again and
  again as it grows.) Without a reservation the buffer grows by half its size when full.
- **The element type widens on demand.** A column starts with the narrowest signed type that its
  caller expects (``int8`` for small codes, ``int32`` for positions) and is copied to the next wider
  type the first time a value does not fit, up to ``int64``. Values outside ``int64`` raise
  :class:`OverflowError`, as :class:`array.array` does.
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


class IntColumn:
    """A list of Python ints stored in a numpy buffer of a signed integer type.

    Supports ``append``, ``extend``, ``insert``, indexing, item assignment, deletion (index or
    slice), ``len`` and iteration, plus :meth:`reserve`, :meth:`view` and :meth:`permute`.
    """

    __slots__ = ("_data", "_len", "_version")

    def __init__(self, dtype: type[np.signedinteger[Any]] = np.int8, values: Iterable[int] = ()) -> None:
        if dtype not in _BOUNDS:
            raise TypeError(f"IntColumn holds signed numpy integers, not {dtype!r}")
        self._data: np.ndarray[Any, Any] = np.empty(0, dtype=dtype)
        self._len = 0
        self._version = 0
        """Bumped by every change, so that an iteration in progress sees it (as over a list)."""
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
        value = operator.index(value)
        self._fit(value, value, 1)
        self._data[self._len] = value
        self._len += 1
        self._version += 1

    def extend(self, values: Iterable[int]) -> None:
        """Add every value at the end."""
        self.extend_ints([operator.index(v) for v in values])

    def extend_ints(self, items: Sequence[int]) -> None:
        """Add ``items``, which are already Python ``int`` objects, at the end (no conversion)."""
        if not items:
            return
        self._fit(min(items), max(items), len(items))
        self._data[self._len : self._len + len(items)] = items
        self._len += len(items)
        self._version += 1

    def insert(self, index: int, value: int) -> None:
        """Insert ``value`` before ``index`` (like ``list.insert``, out-of-range indexes clamp)."""
        value = operator.index(value)
        i = operator.index(index)
        i = max(0, min(self._len, i + self._len if i < 0 else i))
        self._fit(value, value, 1)
        data = self._data
        data[i + 1 : self._len + 1] = data[i : self._len].copy()
        data[i] = value
        self._len += 1
        self._version += 1

    def _index(self, index: int) -> int:
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("IntColumn index out of range")
        return i

    def __getitem__(self, index: int) -> int:
        return int(self._data[self._index(index)])

    def __setitem__(self, index: int, value: int) -> None:
        i = self._index(index)
        value = operator.index(value)
        self._fit(value, value, 0)
        self._data[i] = value
        self._version += 1

    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            keep = np.ones(self._len, dtype=bool)
            keep[index] = False
            kept = self.view()[keep]
            self._data[: len(kept)] = kept
            self._len = len(kept)
            self._version += 1
            return
        i = self._index(index)
        self._data[i : self._len - 1] = self._data[i + 1 : self._len].copy()
        self._len -= 1
        self._version += 1

    def __iter__(self) -> Iterator[int]:
        i = 0
        while i < self._len:  # a block at a time; re-read from ``i`` after a change, as a list would
            version = self._version
            for value in self._data[i : min(i + _ITER_BLOCK, self._len)].tolist():
                yield value
                i += 1
                if self._version != version:
                    break

    def permute(self, order: np.ndarray[Any, Any]) -> None:
        """Reorder in place: value ``i`` becomes the value at ``order[i]`` (``order`` covers every value).

        A 64-bit column is moved as two planes of 32-bit halves, one after the other, so the temporary
        copy is half the column's size.
        """
        self._version += 1
        view = self.view()
        if view.dtype.itemsize == 8:
            planes = view.view(np.int32).reshape(-1, 2)
            for half in (0, 1):
                plane = planes[:, half]
                plane[:] = plane[order]
        else:
            view[:] = view[order]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IntColumn):
            return self._len == other._len and bool(np.array_equal(self.view(), other.view()))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

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
