"""IntColumn: a reservable, widening, append-only integer column behaves as a list of ints."""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest

from hubspot_loader.core.columns import IntColumn


def test_appends_match_a_list_and_the_type_widens_only_when_needed() -> None:
    rng = random.Random(7)
    column, expected = IntColumn(), []
    for step in range(600):
        value = rng.choice(
            [0, -1, 5, 127, -128, 128, 40_000, -(2**31), 2**31, 2**62, -(2**63)][: 1 + step // 60]
        )
        if rng.random() < 0.6:
            column.append(value)
            expected.append(value)
        else:
            column.extend([value, -value if value != -(2**63) else 0])
            expected.extend([value, -value if value != -(2**63) else 0])
        assert list(column) == expected and len(column) == len(expected)
        at = rng.randrange(-len(expected), len(expected))
        assert column[at] == expected[at]
    low, high = min(expected), max(expected)
    narrowest = next(
        t
        for t in (np.int8, np.int16, np.int32, np.int64)
        if np.iinfo(t).min <= low and high <= np.iinfo(t).max
    )
    assert column.dtype.itemsize >= np.dtype(narrowest).itemsize
    assert IntColumn(values=[1, 2, 3]).dtype == np.int8 and IntColumn(values=[300]).dtype == np.int16
    with pytest.raises(IndexError):
        column[len(expected)]
    for name in ("__setitem__", "__delitem__", "insert"):
        assert not hasattr(column, name), name


def test_values_beyond_64_bits_raise_and_change_nothing() -> None:
    column = IntColumn(values=[1, 2])
    for bad in (2**63, -(2**63) - 1):
        with pytest.raises(OverflowError):
            column.append(bad)
        with pytest.raises(OverflowError):
            column.extend([0, bad])
    assert list(column) == [1, 2]
    with pytest.raises(TypeError):
        column.append(1.5)  # type: ignore[arg-type]


def test_reserved_capacity_is_filled_without_moving_the_buffer() -> None:
    column = IntColumn(np.int32)
    column.reserve(10_000)
    buffer = column._data
    for start in range(0, 10_000, 100):
        column.extend(range(start, start + 100))
    assert column._data is buffer and column.capacity == 10_000
    assert list(column) == list(range(10_000))
    column.append(1)  # past the reservation it grows
    assert column.capacity > 10_000 and column[-1] == 1


def test_permute_64_bit_values_by_halves() -> None:
    rng = np.random.default_rng(1)
    values = [int(v) for v in rng.integers(-(2**63), 2**63 - 1, size=1000, dtype=np.int64)]
    column = IntColumn(values=values)
    assert column.dtype == np.int64
    order = rng.permutation(1000).astype(np.int32)
    column.permute(order)
    assert list(column) == [values[i] for i in order]


def test_pickles_and_copies_without_the_spare_capacity() -> None:
    column = IntColumn(values=[5, -7, 300])
    column.reserve(1000)
    again = pickle.loads(pickle.dumps(column))
    assert list(again) == [5, -7, 300] and again.dtype == np.int16
    assert again.capacity == 3
    deep = copy.deepcopy(column)
    deep.append(1)
    assert list(deep) == [5, -7, 300, 1] and list(column) == [5, -7, 300]


def test_values_appended_during_iteration_are_seen_as_with_a_list() -> None:
    column, expected = IntColumn(values=range(5000)), list(range(5000))  # more than one iteration block
    for target in (column, expected):
        seen = []
        for i, value in enumerate(target):
            seen.append(value)
            if i == 0:
                target.append(-1)
        assert seen == [*range(5000), -1]
    assert list(column) == expected


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("offset", [0, -100, 2**33])
def test_move_to_puts_each_value_in_its_slot_with_one_shared_scratch(dtype: type, offset: int) -> None:
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    size = 200_000 if dtype == np.int64 else 300
    values = [int(v) for v in rng.integers(info.min, info.max, size=size, dtype=dtype)]
    column = IntColumn(dtype, values)
    slots = rng.permutation(len(values)).astype(np.int64) + offset  # more than one block for the 64-bit one
    scratch = np.empty(4 * len(values), dtype=np.uint8)
    column.move_to(slots, offset, scratch)
    expected = [0] * len(values)
    for i, slot in enumerate(slots.tolist()):
        expected[slot - offset] = values[i]
    assert list(column) == expected and column.dtype == dtype
