"""Numbers of any size are sent as their exact decimal text, or rejected with a reason (issue #11).

Expectations are computed without the code under test: long ints digit by digit as they are built,
floats from ``repr`` (the shortest text that reads back as the same float) and Decimals digit by digit
from ``as_tuple``.
"""

from __future__ import annotations

import enum
import re
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.formatting import MAX_STRING_LENGTH, format_series, format_value

PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")  # HubSpot: "digits with at most one decimal point"


def small(value: int) -> tuple[int, str]:
    return value, str(value)


def long_int(digits: int, low: int, negative: bool) -> tuple[int, str]:
    """An int of exactly ``digits`` digits, 10**(digits - 1) + low, and its text, built digit by digit."""
    low %= 10 ** (digits - 1)  # no carry into the leading digit
    text = "1" + str(low).rjust(digits - 1, "0")
    value = 10 ** (digits - 1) + low
    return (-value, "-" + text) if negative else (value, text)


int_cases = st.one_of(
    st.builds(small, st.integers()),
    st.builds(small, st.integers(-(2**200), 2**200)),
    st.builds(
        long_int,
        st.sampled_from([19, 20, 401, 4300, 4301, 4302, 10_000, 65_535, 65_536, 65_537, 80_000]),
        st.integers(0, 10**30),
        st.booleans(),
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(int_cases, min_size=1, max_size=4), st.booleans())
def test_ints_of_any_size_are_their_exact_digits_or_rejected(
    cases: list[tuple[int, str]], with_null: bool
) -> None:
    cells: list[int | None] = [value for value, _ in cases] + ([None] if with_null else [])
    formatted = format_series(pd.Series(cells, dtype=object), column="n")
    errors = {e.position: e for e in formatted.errors}
    for i, (_, text) in enumerate(cases):
        if len(text) > MAX_STRING_LENGTH:  # HubSpot's limit for a property value (reference §9)
            assert formatted.values[i] is None
            assert errors[i].column == "n" and "65,536 characters" in errors[i].reason
        else:
            assert i not in errors and formatted.values[i] == text
    if with_null:
        assert formatted.values[-1] is None and len(cases) not in errors


def test_issue_11_ints_beyond_4300_digits_are_sent_exactly_even_under_a_lower_limit() -> None:
    big, wide = 10**4300 + 7, -(10**400) - 1  # 4,301 digits; 401 digits (too large for a float)
    for limit in [] if not hasattr(sys, "set_int_max_str_digits") else [640, 4300]:
        previous = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(limit)  # as an application may have set it
        try:
            formatted = format_series(pd.Series([big, wide, 5], dtype=object), column="n")
            assert formatted.errors == []
            assert formatted.values == ["1" + "0" * 4299 + "7", "-1" + "0" * 399 + "1", "5"]
            assert format_value(big) == "1" + "0" * 4299 + "7"
        finally:
            sys.set_int_max_str_digits(previous)


def test_an_int_too_long_for_hubspot_is_refused_before_converting_it() -> None:
    enormous = 1 << 10_000_000  # about 3 million digits: converting it would take minutes
    formatted = format_series(pd.Series([enormous, 1], dtype=object), column="n")
    assert formatted.values == [None, "1"]
    assert [(e.position, e.column) for e in formatted.errors] == [(0, "n")]
    assert "more than HubSpot's 65,536 characters" in formatted.errors[0].reason


def plain(shortest: str) -> str:
    """A float's shortest text written without exponent and trailing zeros (``-0`` as ``0``)."""
    text = format(Decimal(shortest), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True), min_size=1, max_size=8))
def test_floats_are_their_shortest_exact_text_nan_omitted_inf_rejected(values: list[float]) -> None:
    for series in (pd.Series(values, dtype="float64"), pd.Series(values, dtype=object)):
        formatted = format_series(series, column="x")
        errors = {e.position: e for e in formatted.errors}
        for i, value in enumerate(values):
            text = formatted.values[i]
            if np.isnan(value):
                assert text is None and i not in errors
            elif np.isinf(value):
                assert text is None and errors[i].column == "x" and "infinite" in errors[i].reason
            else:
                assert i not in errors and text == plain(repr(value)), (value, text)
                assert PLAIN_NUMBER.fullmatch(text) and float(text) == value


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=8))
def test_float32_keeps_its_own_shortest_text(values: list[float]) -> None:
    series = pd.Series(values, dtype="float32")
    formatted = format_series(series, column="x")
    assert formatted.errors == []
    for value, text in zip(series.tolist(), formatted.values, strict=True):
        single = np.float32(value)
        # Whole numbers are sent as their exact integer (65735168, not float32's shortest 65735170).
        exact = str(int(value)) if value.is_integer() and abs(value) < 2**53 else plain(str(single))
        assert text == exact and np.float32(text) == single, (value, text)


def test_float_extremes() -> None:
    values = [np.inf, -np.inf, np.nan, -0.0, 5e-324, -2.2250738585072014e-308, 1e308, 1.7976931348623157e308]
    formatted = format_series(pd.Series(values), column="x")
    assert formatted.values[:4] == [None, None, None, "0"]
    assert formatted.values[4] == "0." + "0" * 323 + "5"
    assert formatted.values[6] == "1" + "0" * 308
    assert all(float(t) == v for t, v in zip(formatted.values[4:], values[4:], strict=True) if t)
    assert [e.position for e in formatted.errors] == [0, 1]


def expected_decimal(value: Decimal) -> str:
    """Plain notation built from the digits and exponent (the sign dropped for zero)."""
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    if exponent >= 0:
        text = digits + "0" * exponent
    else:
        digits = digits.rjust(-exponent + 1, "0")
        text = digits[:exponent] + "." + digits[exponent:]
    text = text.lstrip("0") or "0"
    text = "0" + text if text.startswith(".") else text
    return ("-" if sign and not value.is_zero() else "") + text


decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.just(Decimal("sNaN")),
    st.builds(
        lambda d, e: Decimal(d).scaleb(e), st.integers(-(10**40), 10**40), st.integers(-70_000, 70_000)
    ),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(decimals, min_size=1, max_size=6))
def test_decimals_are_plain_exact_text_or_rejected(values: list[Decimal]) -> None:
    formatted = format_series(pd.Series(values, dtype=object), column="d")
    errors = {e.position: e for e in formatted.errors}
    for i, value in enumerate(values):
        if value.is_qnan():
            assert formatted.values[i] is None and i not in errors
        elif not value.is_finite():
            assert formatted.values[i] is None and "not a valid HubSpot number" in errors[i].reason
        elif len(expected_decimal(value)) > MAX_STRING_LENGTH:
            assert formatted.values[i] is None and "65,536 characters" in errors[i].reason
        else:
            assert i not in errors and formatted.values[i] == expected_decimal(value), value
            assert (
                PLAIN_NUMBER.fullmatch(str(formatted.values[i]))
                and Decimal(str(formatted.values[i])) == value
            )


def test_decimal_signalling_nan_and_enormous_exponent_are_rejected_not_raised() -> None:
    cells = [Decimal("sNaN"), Decimal("1E+999999999"), Decimal("-0.00"), Decimal("NaN"), Decimal("12.50")]
    formatted = format_series(pd.Series(cells, dtype=object), column="d")
    assert formatted.values == [None, None, "0.00", None, "12.50"]
    assert [(e.position, e.column) for e in formatted.errors] == [(0, "d"), (1, "d")]
    with pytest.raises(ValueError, match="sNaN is not a valid HubSpot number"):
        format_value(Decimal("sNaN"))


class Level(enum.IntEnum):
    HIGH = 3


class Flags(enum.IntFlag):
    A = 1
    B = 2


class Shouty(int):
    def __str__(self) -> str:
        return "LOUD"

    __repr__ = __str__


def test_bools_and_int_subclasses_keep_their_value() -> None:
    cells = [np.True_, np.False_, True, Level.HIGH, Flags.A | Flags.B, Shouty(7), np.uint64(2**64 - 1)]
    formatted = format_series(pd.Series(cells, dtype=object), column="v")
    assert formatted.errors == []
    assert formatted.values == ["true", "false", "true", "3", "3", "7", "18446744073709551615"]
    assert format_series(pd.Series([Level.HIGH, Shouty(2**70)], dtype=object)).values == [
        "3",
        "1180591620717411303424",
    ]
    assert format_series(pd.Series([True, None, False], dtype="boolean")).values == ["true", None, "false"]


def test_equal_decimals_keep_their_own_text() -> None:
    # Decimal("0.0") == Decimal("0") and they hash alike: deduplicating by value sent the first one's text
    values = [Decimal("0.0"), Decimal("0"), Decimal("1.50"), None, Decimal("1.5")]
    formatted = format_series(pd.Series(values, dtype=object), column="d")
    assert formatted.values == ["0.0", "0", "1.50", None, "1.5"] and not formatted.errors


def test_a_decimal_just_under_the_length_limit_is_sent() -> None:
    # 65,523 characters written out: the length estimate counted digits and exponent twice (hypothesis)
    value = Decimal("9.999999999999999996E-65503")
    formatted = format_series(pd.Series([value], dtype=object), column="d")
    assert not formatted.errors and Decimal(str(formatted.values[0])) == value
    assert len(str(formatted.values[0])) == 65_523
