"""``format_series`` never raises for what a cell holds (review finding 7).

A cell no formatting rule expects (an object whose ``str()`` raises, a value that cannot be hashed
where the vectorized path deduplicates, a 0-d array) is reported as a :class:`CellError` of its own
cell, with the error it raised; every other cell of the column is formatted as usual.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.formatting import CellError, format_series, format_value


class Unprintable:
    """A cell whose ``str()`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("this object cannot be printed")

    __repr__ = __str__


class UnhashableDecimal(Decimal):
    """A ``Decimal`` whose hash raises: the deduplicating (vectorized) path of a decimal column fails."""

    def __hash__(self) -> int:
        raise RuntimeError("no hash for this decimal")


class SilentError(Exception):
    """An exception whose own ``str()`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("no message")


class Exploding:
    """A cell whose ``str()`` raises an exception that cannot describe itself."""

    def __str__(self) -> str:
        raise SilentError


def test_a_cell_whose_str_raises_is_its_own_error_and_the_others_are_formatted() -> None:
    series = pd.Series(["a", Unprintable(), 3, None, Exploding()], dtype=object)
    formatted = format_series(series, column="c")
    assert formatted.values == ["a", None, "3", None, None]
    assert formatted.errors == [
        CellError(1, "c", "the value cannot be formatted (RuntimeError: this object cannot be printed)"),
        CellError(4, "c", "the value cannot be formatted (SilentError)"),
    ]


def test_a_column_whose_vectorized_path_raises_is_formatted_cell_by_cell() -> None:
    series = pd.Series([UnhashableDecimal("1.50"), UnhashableDecimal("2E+3"), None], dtype=object)
    assert format_series(series, column="d").values == ["1.50", "2000", None]
    assert format_series(series, column="d").errors == []


def test_format_value_raises_only_value_errors() -> None:
    with pytest.raises(
        ValueError, match=r"cannot be formatted \(RuntimeError: this object cannot be printed\)"
    ):
        format_value(Unprintable())
    with pytest.raises(ValueError, match="cannot be formatted"):
        format_value(["a", Unprintable()])


def test_an_unknown_zone_still_raises_even_for_a_column_with_an_unexpected_cell() -> None:
    series = pd.Series([pd.Timestamp("2026-01-01").to_pydatetime(), Unprintable()], dtype=object)
    with pytest.raises(ValueError, match="naive_timezone 'Mars/Base' is not an IANA time zone"):
        format_series(series, naive_timezone="Mars/Base")


HOSTILE = st.one_of(
    st.sampled_from([None, float("nan"), pd.NA, 1, -0.0, float("inf"), "x", "\udc80", b"\xff", {"a": 1}]),
    st.builds(Unprintable),
    st.builds(Exploding),
    st.builds(lambda: np.array(5)),  # a 0-d array: list() of it raises TypeError
    st.builds(lambda: [1, Unprintable()]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(lambda d: UnhashableDecimal(d)),
    st.text(max_size=4),
    st.integers(),
)


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(HOSTILE, max_size=8), as_category=st.booleans())
def test_no_cell_makes_format_series_raise(cells: list[Any], as_category: bool) -> None:
    series = pd.Series(cells, dtype=object)
    if as_category:  # unless pandas cannot build categories of these (unhashable ...)
        with contextlib.suppress(Exception):
            series = series.astype("category")
    formatted = format_series(series, column="c")
    assert len(formatted.values) == len(series)
    bad = {e.position for e in formatted.errors}
    assert all(e.column == "c" and e.reason for e in formatted.errors)
    assert all(formatted.values[p] is None for p in bad)
    for position, cell in enumerate(series.astype(object).tolist()):
        if position in bad:
            with pytest.raises(ValueError):
                format_value(cell)
        else:
            assert formatted.values[position] == format_value(cell)
