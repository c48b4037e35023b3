"""Hostile cell values for the acceptance property test (issue #11), and what must happen to each.

:data:`SPEC` is the specification, one line per value class. Every generated cell carries its class and
the exact text HubSpot must hold for it if its row is created. Those texts are computed here with the
standard library only (``datetime``, ``zoneinfo``, ``decimal``), never with
:mod:`hubspot_loader.core.formatting`:

- datetimes: the instant in UTC, ISO 8601 with milliseconds and ``Z`` (reference §9); naive values are
  wall-clock times in ``naive_timezone`` as the IANA database (``zoneinfo``) defines it; digits below the
  millisecond are dropped (the millisecond that contains the instant);
- dates: ``YYYY-MM-DD``; numbers: the exact decimal value (compared as ``Decimal``); text: unchanged.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from hubspot_loader.sandbox import PropertyConfig


class Expect(Enum):
    """What a cell's value class requires of its row."""

    CREATE = "the row is created with exactly this value"
    REJECT = "the row is reported failed, naming this column"
    EITHER = "the row is created with exactly this value, or reported failed naming this column"
    OMIT = "the property is left unset (the cell does not fail the row)"


CREATE, REJECT, EITHER, OMIT = Expect.CREATE, Expect.REJECT, Expect.EITHER, Expect.OMIT

#: The spec: value class -> what must happen. "ordinary" instants/dates are in the UTC years 1900-2100.
SPEC: dict[str, Expect] = {
    "null": OMIT,  # None, NaN, pd.NA, NaT in any column: the property is omitted, never "nan"/"None"
    # string property
    "text": CREATE,  # any text without surrogates (NUL, emoji, whitespace included): unchanged
    "text/empty": OMIT,  # "" sets nothing on a create
    "text/65536-chars": CREATE,  # HubSpot's limit is 65,536 characters, inclusive (reference §9)
    "text/over-65536-chars": REJECT,
    "text/lone-surrogate": REJECT,  # no UTF-8 form
    "text/int": CREATE,  # an int in an object column: its decimal text
    "text/bool": CREATE,  # "true" / "false"
    "text/dict": REJECT,  # a mapping has no property form
    # number property
    "number/int64": CREATE,
    "number/wide-int": EITHER,  # beyond int64, 401 or 4,301+ digits: the exact decimal text, or rejected
    "number/float": CREATE,  # 0 or 1e-7 <= |x| < 1e21: its shortest round-trip decimal value
    "number/extreme-float": EITHER,
    "number/decimal": CREATE,
    "number/numeric-text": CREATE,
    "number/infinite": REJECT,
    "number/other": REJECT,  # bool, non-numeric text, dict: not a number
    # datetime property
    "datetime/ordinary": CREATE,
    "datetime/extreme": EITHER,  # UTC years 1-1899 and 2101-9999: exact instant or rejected
    "datetime/no-4-digit-year": REJECT,  # the UTC instant is before year 1 or after 9999: no ISO 8601 text
    "datetime/naive-gap-or-fold": REJECT,  # wall-clock time that does not exist or is ambiguous in the zone
    "datetime/aware-gap-or-fold": EITHER,  # aware, in a gap or fold: its instant (PEP 495), or rejected
    # date property
    "date/ordinary": CREATE,
    "date/extreme": EITHER,
    "date/utc-midnight": CREATE,  # a datetime at midnight UTC: its date
    "date/extreme-utc-midnight": EITHER,
    "date/not-utc-midnight": REJECT,  # HubSpot rejects a date that is not at midnight UTC (reference §9)
    # bool property
    "bool": CREATE,
    # enumeration (select): options a, b, ç, 🙂, two words
    "pick/option": CREATE,
    "pick/empty": OMIT,
    "pick/not-an-option": REJECT,
    "pick/lone-surrogate": REJECT,
    # enumeration (checkbox): a list of options -> "x;y"
    "many/options": CREATE,  # null elements are skipped
    "many/empty": OMIT,  # an empty list (or one of nulls only) sets nothing
    "many/bad-element": REJECT,  # an element with ";", a nested list, or not an option
    "many/dict": REJECT,
}

#: Frame-level rules (checked in test_hostile_frames.py).
FRAME_SPEC = {
    "duplicate column name (a mapped or the key column)": "LoadUsageError naming it; nothing sent",
    "null, duplicate or unformattable key": "LoadUsageError naming the key column, nothing sent; or "
    "PreflightError in block mode; or per row: those rows fail naming the key column (of a repeated "
    "key at most one row is created)",
    "non-str column name mapped with properties=": "loads, or LoadUsageError naming it",
    "preflight='block'": "PreflightError (nothing sent) only if some row has a REJECT or EITHER cell",
    "any other exception, LoadAborted included": "never: the sandbox is healthy, no cell may stop a load",
}

OBJECT_TYPE = "p_hostile"
PICK_OPTIONS = ("a", "b", "ç", "🙂", "two words")
MANY_OPTIONS = ("x", "y", "z", "w w")
PROPERTIES = (
    PropertyConfig("h_tag", "string", unique=True),
    PropertyConfig("h_text", "string"),
    PropertyConfig("h_number", "number"),
    PropertyConfig("h_when", "datetime"),
    PropertyConfig("h_day", "date"),
    PropertyConfig("h_flag", "bool"),
    PropertyConfig("h_pick", "enumeration", field_type="select", options=PICK_OPTIONS),
    PropertyConfig("h_many", "enumeration", field_type="checkbox", options=MANY_OPTIONS),
)
PROPERTY_TYPES = {p.name: p.type for p in PROPERTIES}
NAIVE_ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe")
AWARE_ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe")


@dataclass(frozen=True)
class Cell:
    """One generated cell: the value its column is built from, its class and the text it must arrive as."""

    value: Any
    kind: str
    text: str | None = None

    @property
    def expect(self) -> Expect:
        return SPEC[self.kind]


# --- expected texts, standard library only -------------------------------------------------------------

EPOCH = dt.datetime(1970, 1, 1)
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
DAY_NS = 86_400 * 10**9


def iso_ms(utc_ns: int) -> str | None:
    """ISO 8601 UTC with milliseconds for ``utc_ns`` nanoseconds after the epoch (None: no 4-digit year)."""
    try:
        t = EPOCH + dt.timedelta(milliseconds=utc_ns // 10**6)
    except OverflowError:
        return None
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def wall_offset_ns(wall: dt.datetime, zone: str) -> int | None:
    """UTC offset (ns) of a naive wall-clock time in ``zone``; None when it does not exist or is ambiguous."""
    tz = zoneinfo.ZoneInfo(zone)
    first, second = wall.replace(tzinfo=tz, fold=0).utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    if first is None or first != second:
        return None
    return (first // dt.timedelta(microseconds=1)) * 1000


def ns_to_wall(ns: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=ns // 1000)


def to_ns(moment: dt.datetime) -> int:
    return ((moment.replace(tzinfo=None) - EPOCH) // dt.timedelta(microseconds=1)) * 1000


def instant_kind(text: str | None) -> str:
    if text is None:
        return "datetime/no-4-digit-year"
    return "datetime/ordinary" if 1900 <= int(text[:4]) <= 2100 else "datetime/extreme"


def naive_instant(wall_ns: int, zone: str) -> tuple[str, str | None]:
    """Class and expected text of a naive wall-clock time (ns after the naive epoch) in ``zone``."""
    offset = wall_offset_ns(ns_to_wall(wall_ns), zone)
    if offset is None:
        return "datetime/naive-gap-or-fold", None
    text = iso_ms(wall_ns - offset)
    return instant_kind(text), text


def decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- cell strategies -------------------------------------------------------------------------------------

LONE_SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udc00🙂"])
PLAIN_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)
ANY_NULL = st.sampled_from([None, float("nan"), pd.NA, pd.NaT]).map(lambda v: Cell(v, "null"))


def text_cells(layout: str) -> st.SearchStrategy[Cell]:
    """Cells of a string-property column laid out as ``object``, ``string`` or ``category``."""
    strings = st.one_of(
        PLAIN_TEXT.map(lambda s: Cell(s, "text", s)),
        st.just(Cell("", "text/empty")),
        st.sampled_from("xé").map(lambda c: Cell(c * 65_536, "text/65536-chars", c * 65_536)),
        st.integers(1, 64).map(lambda k: Cell("y" * (65_536 + k), "text/over-65536-chars")),
        LONE_SURROGATES.map(lambda s: Cell(s, "text/lone-surrogate")),
    )
    if layout == "string":
        return st.one_of(strings, st.sampled_from([None, pd.NA]).map(lambda v: Cell(v, "null")))
    if layout == "category":
        return st.one_of(strings, st.just(Cell(None, "null")))
    return st.one_of(
        strings,
        ANY_NULL,
        st.integers(-(10**12), 10**12).map(lambda n: Cell(n, "text/int", str(n))),
        st.booleans().map(lambda b: Cell(b, "text/bool", "true" if b else "false")),
        st.just(Cell({"a": 1}, "text/dict")),
    )


@st.composite
def wide_ints(draw: st.DrawFn) -> Cell:
    """Ints past int64, of 20-40, 401 or 4,301+ digits; the text is built digit-wise, never with str()."""
    digits = draw(st.one_of(st.integers(20, 40), st.just(401), st.integers(4_301, 4_400)))
    head, tail = draw(st.integers(1, 9)), draw(st.integers(0, 10**30 - 1))
    negative = draw(st.booleans())
    value = head * 10 ** (digits - 1) + tail
    text = str(head) + str(tail).zfill(digits - 1)
    return Cell(-value if negative else value, "number/wide-int", ("-" if negative else "") + text)


def float_cell(x: float) -> Cell:
    ordinary = x == 0 or 1e-7 <= abs(x) < 1e21
    return Cell(x, "number/float" if ordinary else "number/extreme-float", decimal_text(Decimal(repr(x))))


def number_cells(layout: str) -> st.SearchStrategy[Cell]:
    """Cells of a number-property column laid out as int64, Int64, uint64, float64 or object."""
    int64 = st.integers(-(2**63), 2**63 - 1).map(lambda n: Cell(n, "number/int64", str(n)))
    floats = st.floats(allow_nan=False, allow_infinity=False).map(float_cell)
    infinite = st.sampled_from([float("inf"), float("-inf")]).map(lambda x: Cell(x, "number/infinite"))
    if layout == "int64":
        return int64
    if layout == "Int64":
        return st.one_of(int64, st.just(Cell(pd.NA, "null")))
    if layout == "uint64":
        return st.integers(2**63, 2**64 - 1).map(lambda n: Cell(n, "number/wide-int", str(n)))
    if layout == "float64":
        return st.one_of(floats, infinite, st.just(Cell(float("nan"), "null")))
    decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=4)
    return st.one_of(
        int64,
        wide_ints(),
        floats,
        infinite,
        ANY_NULL,
        decimals.map(lambda d: Cell(d, "number/decimal", decimal_text(d))),
        st.just(Cell(Decimal("Infinity"), "number/infinite")),
        decimals.map(lambda d: Cell(str(d), "number/numeric-text", str(d))),
        st.one_of(st.booleans(), st.text("abcxyz", min_size=1), st.just({"n": 1})).map(
            lambda v: Cell(v, "number/other")
        ),
    )


_ANCHORS = [
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999_999),
    dt.datetime(1677, 9, 21, 0, 12, 43, 145_225),
    dt.datetime(2262, 4, 11, 23, 47, 16, 854_775),
    dt.datetime(1970, 1, 1),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999_000),
    dt.datetime(2021, 3, 14, 2, 30),  # New York: does not exist
    dt.datetime(2021, 11, 7, 1, 30),  # New York: ambiguous
    dt.datetime(2021, 3, 28, 2, 30),  # Berlin: does not exist
    dt.datetime(2021, 10, 31, 2, 30),  # Berlin: ambiguous
    dt.datetime(2021, 10, 3, 2, 15),  # Lord Howe (30-minute DST): does not exist
    dt.datetime(2021, 4, 4, 1, 45),  # Lord Howe: ambiguous
    dt.datetime(2050, 7, 1, 12),
    dt.datetime(1900, 1, 1, 12),
    dt.datetime(1654, 3, 1, 8),
    dt.datetime(210, 2, 26, 3, 54, 57),
    dt.datetime(2038, 1, 19, 3, 14, 8),
    dt.datetime(1978, 7, 14, 4, 16, 26, 372_000),  # milliseconds a float computation gets wrong (x.371)
    dt.datetime(1412, 8, 14, 7, 13, 28, 872_000),
    dt.datetime(6384, 6, 18, 9, 10, 25, 865_000),
]
_NS_MIN, _NS_MAX = dt.datetime(1677, 9, 22), dt.datetime(2262, 4, 11)


def moments(unit: str) -> st.SearchStrategy[int]:
    """Nanoseconds after the epoch, truncated to ``unit``, inside what a ``datetime64[unit]`` holds."""
    low, high = (_NS_MIN, _NS_MAX) if unit == "ns" else (dt.datetime.min, dt.datetime.max)
    walls = st.one_of(st.sampled_from([a for a in _ANCHORS if low <= a <= high]), st.datetimes(low, high))
    sub_us = st.integers(0, 999) if unit == "ns" else st.just(0)
    return st.builds(lambda w, n: (to_ns(w) + n) // UNIT_NS[unit] * UNIT_NS[unit], walls, sub_us)


def datetime64_cell(ns: int, aware: bool, naive_timezone: str) -> Cell:
    """A ``datetime64`` cell: ``ns`` after the epoch, an instant (aware) or a wall-clock time (naive)."""
    if not aware:
        kind, text = naive_instant(ns, naive_timezone)
        return Cell(ns, kind, text)
    text = iso_ms(ns)
    return Cell(ns, instant_kind(text), text)


def datetime64_cells(unit: str, zone: str | None, naive_timezone: str) -> st.SearchStrategy[Cell]:
    """Cells of a ``datetime64[unit]`` (naive) or ``datetime64[unit, zone]`` column; value = ns or None."""
    cells = moments(unit).map(lambda ns: datetime64_cell(ns, zone is not None, naive_timezone))
    return st.one_of(cells, st.just(Cell(None, "null")))


@st.composite
def python_datetime_cell(draw: st.DrawFn, naive_timezone: str) -> Cell:
    """A ``datetime.datetime`` (naive, zoneinfo-aware with either fold, or a fixed offset) or a Timestamp."""
    wall = draw(st.one_of(st.sampled_from(_ANCHORS), st.datetimes()))
    how = draw(st.sampled_from(["naive", "zone", "offset", "timestamp"]))
    if how in ("naive", "timestamp"):
        kind, text = naive_instant(to_ns(wall), naive_timezone)
        value: Any = pd.Timestamp(wall) if how == "timestamp" else wall
        return Cell(value, kind, text)
    if how == "offset":
        tz: dt.tzinfo = dt.timezone(dt.timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    else:
        tz = zoneinfo.ZoneInfo(draw(st.sampled_from(AWARE_ZONES)))
    aware = wall.replace(tzinfo=tz, fold=draw(st.sampled_from([0, 1])))
    offset = aware.utcoffset() or dt.timedelta(0)
    text = iso_ms(to_ns(wall) - (offset // dt.timedelta(microseconds=1)) * 1000)
    regular = how == "offset" or wall_offset_ns(wall, str(tz)) is not None
    return Cell(aware, instant_kind(text) if regular or text is None else "datetime/aware-gap-or-fold", text)


def datetime_object_cells(naive_timezone: str) -> st.SearchStrategy[Cell]:
    return st.one_of(python_datetime_cell(naive_timezone), ANY_NULL)


def date_cells(unit: str | None, naive_timezone: str) -> st.SearchStrategy[Cell]:
    """Cells of a date-property column: ``datetime.date`` objects (unit None) or naive ``datetime64``."""
    if unit is None:
        dates = st.one_of(st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31)]), st.dates())
        return st.one_of(
            dates.map(
                lambda d: Cell(d, "date/ordinary" if 1900 <= d.year <= 2100 else "date/extreme", str(d))
            ),
            ANY_NULL,
        )

    def cell(ns: int) -> Cell:
        kind, text = naive_instant(ns, naive_timezone)
        if text is None:
            return Cell(ns, "date/not-utc-midnight" if kind.endswith("gap-or-fold") else kind)
        offset = wall_offset_ns(ns_to_wall(ns), naive_timezone) or 0
        if (ns - offset) // 10**6 * 10**6 % DAY_NS:  # digits below the millisecond are dropped
            return Cell(ns, "date/not-utc-midnight")
        ordinary = kind == "datetime/ordinary"
        return Cell(ns, "date/utc-midnight" if ordinary else "date/extreme-utc-midnight", text[:10])

    midnights = moments(unit).map(lambda ns: ns // DAY_NS * DAY_NS)
    return st.one_of(st.one_of(midnights, moments(unit)).map(cell), st.just(Cell(None, "null")))


def bool_cells(layout: str) -> st.SearchStrategy[Cell]:
    flags = st.booleans().map(lambda b: Cell(b, "bool", "true" if b else "false"))
    if layout == "bool":
        return flags
    if layout == "boolean":
        return st.one_of(flags, st.just(Cell(pd.NA, "null")))
    numpy_flags = st.booleans().map(lambda b: Cell(np.bool_(b), "bool", "true" if b else "false"))
    return st.one_of(flags, numpy_flags, ANY_NULL)


def pick_cells(layout: str) -> st.SearchStrategy[Cell]:
    options = st.sampled_from(PICK_OPTIONS).map(lambda s: Cell(s, "pick/option", s))
    others = PLAIN_TEXT.filter(lambda s: s not in PICK_OPTIONS).map(lambda s: Cell(s, "pick/not-an-option"))
    surrogate = LONE_SURROGATES.map(lambda s: Cell(s, "pick/lone-surrogate"))
    nulls = st.just(Cell(None, "null")) if layout == "category" else ANY_NULL
    return st.one_of(options, others, surrogate, nulls, st.just(Cell("", "pick/empty")))


@st.composite
def many_cell(draw: st.DrawFn) -> Cell:
    """A multi-checkbox cell: a list or tuple of options (maybe with nulls), or a broken one."""
    chosen = draw(st.lists(st.sampled_from(MANY_OPTIONS), unique=True, max_size=3))
    with_nulls = draw(st.lists(st.sampled_from([None, float("nan")]), max_size=2))
    items: list[Any] = [*chosen, *with_nulls]
    broken = draw(st.sampled_from([None, "x;y", ["x"], "not an option"]))
    if broken is not None:
        items.insert(draw(st.integers(0, len(items))), broken)
        kind, text = "many/bad-element", None
    else:
        kind, text = ("many/options", ";".join(chosen)) if chosen else ("many/empty", None)
    value = tuple(items) if draw(st.booleans()) else items
    return Cell(value, kind, text)


def many_cells(layout: str) -> st.SearchStrategy[Cell]:
    return st.one_of(many_cell(), ANY_NULL, st.just(Cell({"x": True}, "many/dict")))


CellsFor = Callable[[str], st.SearchStrategy[Cell]]

#: Layouts (dtype families) of each property's column; the datetime ones depend on naive_timezone.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "h_text": ("object", "string", "category"),
    "h_number": ("int64", "Int64", "uint64", "float64", "object"),
    "h_when": ("object", *(f"datetime64[{u}]" for u in UNIT_NS), *(f"datetime64[{u}, tz]" for u in UNIT_NS)),
    "h_day": ("object", *(f"datetime64[{u}]" for u in UNIT_NS)),
    "h_flag": ("bool", "boolean", "object"),
    "h_pick": ("object", "category"),
    "h_many": ("object",),
}


def cells_for(prop: str, layout: str, naive_timezone: str, zone: str) -> st.SearchStrategy[Cell]:
    """The cell strategy of one property column in one layout (``zone``: for tz-aware datetime64)."""
    unit = layout[len("datetime64[") :].split(",")[0].rstrip("]") if layout.startswith("datetime64") else None
    if prop == "h_when":
        if unit is None:
            return datetime_object_cells(naive_timezone)
        return datetime64_cells(unit, zone if layout.endswith("tz]") else None, naive_timezone)
    if prop == "h_day":
        return date_cells(unit, naive_timezone)
    table: dict[str, CellsFor] = {
        "h_text": text_cells,
        "h_number": number_cells,
        "h_flag": bool_cells,
        "h_pick": pick_cells,
        "h_many": many_cells,
    }
    return table[prop](layout)


def build_series(cells: list[Cell], layout: str, zone: str, extra_categories: tuple[str, ...]) -> pd.Series:
    """The pandas column for ``cells`` in ``layout`` (may raise if pandas cannot hold the values)."""
    values = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        values[i] = cell.value
    if layout.startswith("datetime64"):
        unit = layout[len("datetime64[") :].split(",")[0].rstrip("]")
        stamps = np.array(
            [
                np.datetime64("NaT", unit) if v is None else np.datetime64(v // UNIT_NS[unit], unit)
                for v in values
            ]
        )
        series = pd.Series(stamps)
        if layout.endswith("tz]"):
            series = series.dt.tz_localize("UTC").dt.tz_convert(zone)
        return series
    if layout == "category":
        present = list(dict.fromkeys(v for v in values if v is not None))
        categories = present + [c for c in extra_categories if c not in present]
        return pd.Series(pd.Categorical(values, categories=categories))
    if layout in ("object",):
        return pd.Series(values, dtype=object)
    return pd.Series(list(values), dtype=layout)
