"""Datetimes are sent as exactly the instant in the frame, or rejected with column and reason (issue #11).

Every expectation here is computed with the standard library (integers, ``datetime``, ``zoneinfo``),
never with the code under test: the instant, floored to the millisecond, as ISO 8601 UTC with ``Z``,
when it and (for naive values) its wall-clock time lie in 0001-01-01T00:00:00.000Z ..
9999-12-31T23:59:59.999Z and the wall-clock time exists exactly once in ``naive_timezone``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.formatting import CellError, FormattedColumn, format_series, format_value
from hubspot_loader.core.timezones import zone_table

EPOCH = dt.datetime(1970, 1, 1)
MS = dt.timedelta(milliseconds=1)
EARLIEST_MS, LATEST_MS = -62_135_596_800_000, 253_402_300_799_999
NAT = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max
UNITS = ["s", "ms", "us", "ns"]
UNIT_PER_MS = {"s": None, "ms": 1, "us": 1000, "ns": 10**6}
ZONES = [
    "UTC",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute daylight saving
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30
    "Europe/Dublin",  # negative daylight saving in the TZif data
    "Africa/Monrovia",  # -00:44:30 until 1972
    "Pacific/Kiritimati",  # +14, and a skipped day in 1994
    "Pacific/Apia",  # skipped 2011-12-30
    "Asia/Tokyo",  # LMT +09:18:59
    "Etc/GMT+12",
    "America/Santiago",  # transitions at 24:00
    "Antarctica/Troll",  # +00 / +02
]
try:
    import pyarrow as pa
except ImportError:  # an optional dependency (parquet)
    pa = None
CONTAINERS = ["datetime64", "categorical", "object-datetime", "object-mixed", *(["arrow"] if pa else [])]
OBJECT_KINDS = ["datetime", "timestamp", "datetime64"]


def floor_ms(raw: int, unit: str) -> int:
    return raw * 1000 if unit == "s" else raw // int(UNIT_PER_MS[unit] or 1)


def expected_text(raw: int, unit: str, zone: str | None) -> str | None:
    """The text HubSpot must get for one int64 cell (``None``: NaT), or ``"reject: <why>"``."""
    if raw == NAT:
        return None
    millis = floor_ms(raw, unit)
    if zone is not None:  # a wall-clock time in ``zone``
        if not EARLIEST_MS <= millis <= LATEST_MS:
            return "reject: outside the range"
        wall = EPOCH + millis * MS
        tz = zoneinfo.ZoneInfo(zone)
        first, second = wall.replace(tzinfo=tz).utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
        assert first is not None and second is not None
        if first != second:
            return "reject: does not exist" if first < second else "reject: is ambiguous"
        millis -= first // MS
    if not EARLIEST_MS <= millis <= LATEST_MS:
        return "reject: outside the range"
    return (EPOCH + millis * MS).isoformat(timespec="milliseconds") + "Z"


def assert_as_expected(formatted: FormattedColumn, expected: list[str | None], column: str) -> None:
    errors = {e.position: e for e in formatted.errors}
    assert len(errors) == len(formatted.errors), "one error per cell"
    for i, want in enumerate(expected):
        if want is not None and want.startswith("reject: "):
            assert formatted.values[i] is None, (i, want, formatted.values[i])
            assert i in errors, (i, want)
            assert errors[i].column == column and want.removeprefix("reject: ") in errors[i].reason, (
                want,
                errors[i],
            )
        else:
            assert i not in errors, (i, want, errors.get(i))
            assert formatted.values[i] == want, (i, want, formatted.values[i])


# --- strategies -----------------------------------------------------------------------------------


def in_unit(millis: int, unit: str) -> int:
    value = millis // 1000 if unit == "s" else millis * int(UNIT_PER_MS[unit] or 1)
    return max(NAT + 1, min(INT64_MAX, value))


def raw_values(unit: str, zone: str) -> st.SearchStrategy[int]:
    """Int64 cells in ``unit``: anything, or near the range ends, ns range ends, zone transitions."""
    day = in_unit(86_400_000, unit)
    anchors = [EARLIEST_MS, LATEST_MS + 1, 0, -9_223_372_036_855, 9_223_372_036_854]
    table = zone_table(zone)  # only to aim the examples at transitions; expectations use zoneinfo
    starts = table.starts[1:]
    starts = starts[(starts > EARLIEST_MS) & (starts < LATEST_MS)]
    walls = starts + table.offsets[np.searchsorted(table.starts, starts, side="right") - 1]
    anchors += starts.tolist()[-40:] + walls.tolist()[-40:] + walls.tolist()[:10]
    near = st.builds(
        lambda at, d: max(NAT + 1, min(INT64_MAX, in_unit(at, unit) + d)),
        st.sampled_from(anchors),
        st.one_of(st.integers(-3, 3), st.integers(-2 * day, 2 * day)),
    )
    recent = st.integers(in_unit(-2_208_988_800_000, unit), in_unit(4_102_444_800_000, unit))  # 1900-2100
    return st.one_of(st.just(NAT), st.integers(NAT + 1, INT64_MAX), near, recent)


@dataclass
class Case:
    unit: str
    zone: str
    aware: bool
    container: str
    raws: list[int]
    kinds: list[str]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    unit, zone = draw(st.sampled_from(UNITS)), draw(st.sampled_from(ZONES))
    raws = draw(st.lists(raw_values(unit, zone), min_size=1, max_size=12))
    kinds = draw(st.lists(st.sampled_from(OBJECT_KINDS), min_size=len(raws), max_size=len(raws)))
    return Case(unit, zone, draw(st.booleans()), draw(st.sampled_from(CONTAINERS)), raws, kinds)


def datetime64_column(case: Case) -> pd.Series:
    series = pd.Series(np.array(case.raws, dtype=np.int64).view(f"datetime64[{case.unit}]"))
    if case.aware:  # stored as UTC instants; the column's own zone only changes how they display
        series = series.dt.tz_localize("UTC").dt.tz_convert(zoneinfo.ZoneInfo(case.zone))
    return series


def as_object(raw: int, case: Case, kind: str) -> tuple[Any, bool]:
    """One cell as a Python object of ``kind`` holding the same instant, and whether it is tz-aware."""
    if raw == NAT:
        return (None if kind == "datetime" else pd.NaT), False
    stamp64 = np.datetime64(raw, case.unit)  # type: ignore[call-overload]
    micros = {"s": raw * 10**6, "ms": raw * 1000, "us": raw, "ns": raw // 1000}[case.unit]
    if kind == "datetime" and -62_135_596_800_000_000 <= micros <= 253_402_300_799_999_999:
        value = EPOCH + dt.timedelta(microseconds=micros)
        if not case.aware:
            return value, False
        value = value.replace(tzinfo=dt.timezone.utc)
        try:  # the same instant on another clock, where that is a datetime
            return value.astimezone(zoneinfo.ZoneInfo(case.zone)), True
        except OverflowError:
            return value, True
    if kind == "datetime64":
        return stamp64, False  # numpy datetimes are naive
    try:
        stamp = pd.Timestamp(stamp64)
    except (ValueError, OverflowError):  # beyond what pd.Timestamp holds
        return stamp64, False
    return (stamp.tz_localize("UTC"), True) if case.aware else (stamp, False)


def arrow_column(case: Case) -> pd.Series:
    """A pyarrow ``timestamp`` column (``pd.ArrowDtype``) of the same int64 values."""
    kind = pa.timestamp(case.unit, tz=case.zone if case.aware else None)
    ints = pa.array([None if raw == NAT else raw for raw in case.raws], type=pa.int64())
    return pd.Series(ints.cast(kind), dtype=pd.ArrowDtype(kind))


def column_and_expected(case: Case) -> tuple[pd.Series, list[str | None]]:
    if case.container == "arrow":
        zone = None if case.aware else case.zone
        return arrow_column(case), [expected_text(raw, case.unit, zone) for raw in case.raws]
    if case.container in ("datetime64", "categorical"):
        series = datetime64_column(case)
        if case.container == "categorical":
            series = pd.Series(pd.Categorical(series))
        zone = None if case.aware else case.zone
        return series, [expected_text(raw, case.unit, zone) for raw in case.raws]
    kinds = ["datetime"] * len(case.raws) if case.container == "object-datetime" else case.kinds
    cells = [as_object(raw, case, kind) for raw, kind in zip(case.raws, kinds, strict=True)]
    expected = [
        expected_text(raw, case.unit, None if aware else case.zone)
        for raw, (_, aware) in zip(case.raws, cells, strict=True)
    ]
    return pd.Series([cell for cell, _ in cells], dtype=object), expected


@settings(max_examples=200, deadline=None)
@given(cases())
def test_every_datetime_is_its_own_instant_or_rejected_with_column_and_reason(case: Case) -> None:
    series, expected = column_and_expected(case)
    formatted = format_series(series, column="when", naive_timezone=case.zone)
    assert_as_expected(formatted, expected, "when")


# --- the examples of issue #11, by name -----------------------------------------------------------


def one(series: pd.Series, zone: str = "UTC") -> tuple[list[str | None], list[CellError]]:
    formatted = format_series(series, column="when", naive_timezone=zone)
    return formatted.values, formatted.errors


def test_issue_11_end_of_time_in_microseconds_is_not_sent_as_1816() -> None:
    series = pd.Series(np.array(["9999-12-31"], dtype="datetime64[us]"))
    assert one(series) == (["9999-12-31T00:00:00.000Z"], [])


def test_issue_11_year_one_in_seconds_is_not_sent_as_1754() -> None:
    series = pd.Series(np.array(["0001-01-01"], dtype="datetime64[s]"))
    assert one(series) == (["0001-01-01T00:00:00.000Z"], [])


def test_issue_11_nanoseconds_near_2262_and_1677_shifted_by_the_zone_do_not_wrap() -> None:
    late = pd.Series(np.array(["2262-04-11T23:00:00"], dtype="datetime64[ns]"))
    assert one(late, "America/New_York") == (["2262-04-12T03:00:00.000Z"], [])  # EDT: beyond ns, exact
    early = pd.Series(np.array(["1677-09-21T01:00:00"], dtype="datetime64[ns]"))
    assert one(early, "Asia/Tokyo") == (["1677-09-20T15:41:01.000Z"], [])  # LMT +09:18:59
    aware_late = pd.Series(np.array([INT64_MAX], dtype=np.int64).view("datetime64[ns]")).dt.tz_localize("UTC")
    assert one(aware_late) == (["2262-04-11T23:47:16.854Z"], [])


def test_issue_11_tz_aware_milliseconds_from_1654_stay_in_1654() -> None:
    series = pd.Series(np.array(["1654-03-01T12:00:00.123"], dtype="datetime64[ms]")).dt.tz_localize("UTC")
    assert one(series.dt.tz_convert("Europe/Paris")) == (["1654-03-01T12:00:00.123Z"], [])


def test_issue_11_year_210_in_new_york_is_sent_not_a_crash() -> None:
    cell = dt.datetime(210, 2, 26, 3, 54, 57)
    # The standard library: New York kept local mean time, -04:56:02, until 1883.
    offset = cell.replace(tzinfo=zoneinfo.ZoneInfo("America/New_York")).utcoffset()
    assert offset == -dt.timedelta(hours=4, minutes=56, seconds=2)
    assert one(pd.Series([cell], dtype=object), "America/New_York") == (["0210-02-26T08:50:59.000Z"], [])
    assert one(pd.Series([cell, "x"], dtype=object), "America/New_York") == (
        ["0210-02-26T08:50:59.000Z", "x"],
        [],
    )
    assert format_value(cell, naive_timezone="America/New_York") == "0210-02-26T08:50:59.000Z"
    column = pd.Series(np.array([cell], dtype="datetime64[s]"))
    assert one(column, "America/New_York") == (["0210-02-26T08:50:59.000Z"], [])


def test_summer_2050_in_new_york_is_daylight_time_as_the_iana_rules_say() -> None:
    # pytz's tables end in 2037 and would send 17:00Z (EST); the rules in force say EDT.
    series = pd.Series(pd.to_datetime(["2050-07-01 12:00"]))
    assert one(series, "America/New_York") == (["2050-07-01T16:00:00.000Z"], [])


def test_instants_outside_years_1_to_9999_are_rejected_naming_the_value_and_range() -> None:
    cases = [
        (pd.Series(np.array(["9999-12-31T23:00"], dtype="datetime64[s]")), "America/New_York"),
        (pd.Series(np.array(["0001-01-01T00:00"], dtype="datetime64[ms]")), "Asia/Tokyo"),
        (pd.Series(np.array(["10000-01-01"], dtype="datetime64[s]")), "UTC"),
        (pd.Series(np.array(["-0001-01-01"], dtype="datetime64[us]")).dt.tz_localize("UTC"), "UTC"),
        (pd.Series([np.datetime64(10**15, "s")], dtype=object), "UTC"),
        (pd.Series([pd.Timestamp("0001-01-01T03:00+09:00")], dtype=object), "UTC"),
        (pd.Series([dt.datetime(9999, 12, 31, 23, 30)], dtype=object), "America/New_York"),
    ]
    for series, zone in cases:
        values, errors = one(series, zone)
        assert values == [None]
        assert [(e.position, e.column) for e in errors] == [(0, "when")]
        assert (
            "is outside the range sent to HubSpot, 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z"
            in (errors[0].reason)
        )
    _, [error] = one(cases[0][0], "America/New_York")
    assert error.reason.startswith("datetime 9999-12-31T23:00:00 (wall clock in America/New_York)")


def test_the_last_and_first_sendable_milliseconds() -> None:
    series = pd.Series(
        np.array(["9999-12-31T23:59:59.999999", "0001-01-01T00:00:00"], dtype="datetime64[us]")
    )
    assert one(series) == (["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z"], [])
    assert one(pd.Series([dt.datetime(9999, 12, 31, 23, 59, 59, 999999)], dtype=object)) == (
        ["9999-12-31T23:59:59.999Z"],
        [],
    )


def test_digits_below_the_millisecond_are_dropped_toward_the_past() -> None:
    micros = pd.Series(
        np.array(["1969-12-31T23:59:59.999900", "1600-01-01T00:00:00.000500"], dtype="datetime64[us]")
    )
    assert one(micros) == (["1969-12-31T23:59:59.999Z", "1600-01-01T00:00:00.000Z"], [])
    nanos = pd.Series(np.array(["2026-12-31T23:59:59.999999999"], dtype="datetime64[ns]"))
    assert one(nanos) == (["2026-12-31T23:59:59.999Z"], [])  # not rounded into 2027


def test_skipped_and_repeated_local_times_reject_their_row_only() -> None:
    walls = ["2026-03-08 02:30", "2026-11-01 01:30", "2026-11-01 03:00"]
    expected_reasons = [
        "local time 2026-03-08T02:30:00 does not exist in America/New_York (the clocks skip it)",
        "local time 2026-11-01T01:30:00 is ambiguous in America/New_York (the clocks repeat it)",
    ]
    for series in (
        pd.Series(pd.to_datetime(walls)),
        pd.Series(pd.to_datetime(walls).to_pydatetime(), dtype=object),
        pd.Series([pd.Timestamp(w) for w in walls], dtype=object),
        pd.Series(pd.Categorical(pd.to_datetime(walls))),
    ):
        values, errors = one(series, "America/New_York")
        assert values == [None, None, "2026-11-01T08:00:00.000Z"]
        assert [(e.position, e.column) for e in errors] == [(0, "when"), (1, "when")]
        assert [e.reason.split(";")[0] for e in errors] == expected_reasons


def test_an_unknown_naive_timezone_is_a_usage_error_naming_it() -> None:
    with pytest.raises(ValueError, match="naive_timezone 'Mars/Base' is not an IANA time zone"):
        format_series(pd.Series(pd.to_datetime(["2026-01-01"])), naive_timezone="Mars/Base")
    with pytest.raises(ValueError, match="naive_timezone 'Mars/Base' is not an IANA time zone"):
        format_value(dt.datetime(2026, 1, 1), naive_timezone="Mars/Base")


@pytest.mark.skipif(pa is None, reason="pyarrow is not installed")
def test_pyarrow_dates_and_timestamps_keep_their_values() -> None:
    dates = [dt.date(9999, 12, 31), dt.date(1, 1, 1), None, dt.date(1969, 12, 31)]
    for kind in (pa.date32(), pa.date64()):
        series = pd.Series(pa.array(dates, type=kind), dtype=pd.ArrowDtype(kind))
        assert one(series) == (["9999-12-31", "0001-01-01", None, "1969-12-31"], [])
    beyond = pd.Series(pa.array([2_932_897], type=pa.date32()), dtype=pd.ArrowDtype(pa.date32()))
    values, [error] = one(beyond)
    assert values == [None] and error.reason.startswith("date 10000-01-01 is outside the range")
    stamps = pa.array([dt.datetime(9999, 12, 31, 23, 59, 59, 999999), None], type=pa.timestamp("us"))
    assert one(pd.Series(stamps, dtype=pd.ArrowDtype(stamps.type))) == (
        ["9999-12-31T23:59:59.999Z", None],
        [],
    )


def test_aware_datetimes_differing_only_in_fold_are_both_sent_as_their_own_instants() -> None:
    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # EDT
    second = first.replace(fold=1)  # EST, an hour later; == first and hash-equal (PEP 495)
    assert first == second and hash(first) == hash(second)
    series = pd.Series([first, second, first], dtype=object)
    assert one(series) == (
        ["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z", "2026-11-01T05:30:00.000Z"],
        [],
    )
