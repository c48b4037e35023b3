"""Hostile frames for the acceptance property test (issue #11): generated ones and the known bad ones.

A :class:`Case` is a frame plus, for every mapped column, the generated :class:`~.hostile_values.Cell`
of each row (what it must arrive as), its key column and what is wrong with it. :func:`hostile_cases`
generates them; :data:`KNOWN_CASES` are the smallest frames found (or reported in the issue) for each
class of defect, run on every test run as explicit examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import assume
from hypothesis import strategies as st

from hubspot_loader_tests.loader.hostile_values import (
    AWARE_ZONES,
    LAYOUTS,
    LONE_SURROGATES,
    NAIVE_ZONES,
    PLAIN_TEXT,
    PROPERTIES,
    UNIT_NS,
    Cell,
    build_series,
    cells_for,
    datetime64_cell,
    naive_instant,
    to_ns,
)

SENT_PROPERTIES = [p.name for p in PROPERTIES if p.name != "h_tag"]


def short(value: Any) -> str:
    """A repr of at most ~60 characters (and one that never fails)."""
    if isinstance(value, int) and value.bit_length() > 4_000:  # repr() refuses ints over 4,300 digits
        return f"<int of about {int(value.bit_length() * 0.30103)} digits>"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...<{len(text)} chars>"


@dataclass
class Column:
    """One mapped column of an example: its name in the frame, its property, layout and cells."""

    name: Hashable
    prop: str
    layout: str
    cells: list[Cell]


@dataclass
class Keys:
    """The key column of an example: values, the key text each row must be reported with, the problem."""

    values: list[Any] | None
    texts: list[str | None]
    problem: str | None = None
    bad: frozenset[int] = frozenset()
    """Positions whose key is null, unformattable or repeated (all positions of a repeated key)."""


@dataclass(repr=False)
class Case:
    """One hostile example.

    Its repr names every cell, shortened, and never shows the frame: pandas crashes printing some of
    these columns (a tz-aware ``datetime64[s]`` of 0001-01-01 in New York segfaults ``repr``).
    """

    frame: pd.DataFrame
    columns: list[Column]
    key_column: str | None
    keys: Keys
    usage_error: str | None
    named: str | None
    naive_timezone: str
    preflight: str
    batch_size: int | None

    @property
    def mapping(self) -> dict[Any, str]:
        return {c.name: c.prop for c in self.columns}

    def row_cells(self, position: int) -> list[tuple[Column, Cell]]:
        return [(c, c.cells[position]) for c in self.columns]

    def __repr__(self) -> str:
        lines = [
            f"Case(rows={len(self.frame)}, key_column={self.key_column!r}, keys={short(self.keys.values)}, "
            f"key_problem={self.keys.problem!r}, usage_error={self.usage_error!r}, "
            f"naive_timezone={self.naive_timezone!r}, preflight={self.preflight!r}, "
            f"batch_size={self.batch_size}, "
            f"frame columns={[short(c) for c in self.frame.columns]}, index={short(list(self.frame.index))}"
        ]
        for c in self.columns[1:]:
            cells = ", ".join(f"{cell.kind}:{short(cell.value)}" for cell in c.cells)
            lines.append(f"  {c.name!r} -> {c.prop} [{c.layout}]: {cells}")
        return "\n".join(lines) + ")"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis prints a falsifying example: the short repr, not field by field."""
        printer.text(repr(self))


INDEXES = {
    "range": lambda rows: pd.RangeIndex(rows),
    "reversed": lambda rows: pd.Index(range(rows, 0, -1)),
    "labels": lambda rows: pd.Index([f"r{i}" for i in range(rows)]),
    "repeated": lambda rows: pd.Index([7] * rows),
}


def assemble(
    columns: list[Column],
    keys: Keys,
    *,
    zone: str = "UTC",
    extra_categories: tuple[str, ...] = (),
    duplicate: Hashable | None = None,
    index: str = "range",
    naive_timezone: str = "UTC",
    preflight: str = "off",
    batch_size: int | None = None,
) -> Case:
    """Build the frame: a ``tag`` column (each row's identity in HubSpot), ``columns``, the key column.

    ``duplicate`` names a column to add a second time. Raises when pandas cannot hold the cells.
    """
    rows = len(keys.texts)
    tags = Column("tag", "h_tag", "object", [Cell(f"t{i}", "text", f"t{i}") for i in range(rows)])
    columns = [tags, *columns]
    series = [build_series(c.cells, c.layout, zone, extra_categories) for c in columns]
    names: list[Hashable] = [c.name for c in columns]
    if keys.values is not None:
        series.append(pd.Series(keys.values, dtype=object if None in keys.values else None))
        names.append("key")
    usage_error = named = None
    if duplicate is not None:
        series.append(series[names.index(duplicate)])
        names.append(duplicate)
        usage_error, named = "duplicate column name", str(duplicate)
    frame = pd.concat(series, axis=1, ignore_index=True)
    frame.columns = pd.Index(names, dtype=object)
    frame.index = INDEXES[index](rows)
    return Case(
        frame=frame,
        columns=columns,
        key_column="key" if keys.values is not None else None,
        keys=keys,
        usage_error=usage_error,
        named=named,
        naive_timezone=naive_timezone,
        preflight=preflight,
        batch_size=batch_size,
    )


@st.composite
def key_columns(draw: st.DrawFn, rows: int) -> Keys:
    """Distinct str or int keys (or none), with a null, duplicate or unformattable key planted at times."""
    layout = draw(st.sampled_from(["str", "int", "none"]))
    if layout == "none":
        return Keys(None, [str(i) for i in range(rows)])
    strategy = PLAIN_TEXT if layout == "str" else st.integers(-(2**63), 2**63 - 1)
    values: list[Any] = draw(st.lists(strategy, min_size=rows, max_size=rows, unique=True))
    texts: list[str | None] = [str(k) for k in values]
    problems = [None, None, None, "null key", *(["duplicate key"] if rows > 1 else [])]
    problem = draw(st.sampled_from([*problems, *(["unformattable key"] if layout == "str" else [])]))
    if problem is None:
        return Keys(values, texts)
    at = draw(st.integers(0, rows - 1))
    if problem == "duplicate key":
        other = (at + 1) % rows
        values[at], texts[at] = values[other], texts[other]
        return Keys(values, texts, problem, frozenset({at, other}))
    values[at] = None if problem == "null key" else draw(LONE_SURROGATES)
    texts[at] = None  # any key text will do, the position says which row it is
    return Keys(values, texts, problem, frozenset({at}))


@st.composite
def hostile_cases(draw: st.DrawFn) -> Case:
    """1-6 rows, 1-4 hostile columns (each in a drawn layout), a key column, options."""
    rows = draw(st.integers(1, 6))
    naive_timezone, zone = draw(st.sampled_from(NAIVE_ZONES)), draw(st.sampled_from(AWARE_ZONES))
    non_str_names = draw(st.booleans())
    columns = []
    for j, prop in enumerate(
        draw(st.lists(st.sampled_from(SENT_PROPERTIES), min_size=1, max_size=4, unique=True))
    ):
        layout = draw(st.sampled_from(LAYOUTS[prop]))
        cells = draw(st.lists(cells_for(prop, layout, naive_timezone, zone), min_size=rows, max_size=rows))
        name: Hashable = j if non_str_names and draw(st.booleans()) else prop.removeprefix("h_")
        columns.append(Column(name, prop, layout, cells))
    keys = draw(key_columns(rows))
    names = ["tag", *(c.name for c in columns), *(["key"] if keys.values is not None else [])]
    duplicate = draw(st.sampled_from([None, None, None, *names])) if keys.problem is None else None
    try:
        return assemble(
            columns,
            keys,
            zone=zone,
            extra_categories=tuple(
                draw(st.lists(st.one_of(LONE_SURROGATES, PLAIN_TEXT), max_size=2, unique=True))
            ),
            duplicate=duplicate,
            index=draw(st.sampled_from(sorted(INDEXES))),
            naive_timezone=naive_timezone,
            preflight=draw(st.sampled_from(["off", "quarantine", "block"])),
            batch_size=draw(st.sampled_from([None, 1, 2, 3])),
        )
    except (ValueError, OverflowError, TypeError, pd.errors.OutOfBoundsDatetime):
        assume(False)  # pandas itself cannot hold these values in this layout: draw another example
        raise  # not reached


# --- the known defects, as explicit examples ----------------------------------------------------------


def _instant(wall: dt.datetime, unit: str, aware: bool, naive_timezone: str = "UTC") -> Cell:
    ns = to_ns(wall) // UNIT_NS[unit] * UNIT_NS[unit]
    return datetime64_cell(ns, aware, naive_timezone)


def _when(layout: str, *cells: Cell) -> Column:
    return Column("when", "h_when", layout, list(cells))


def _keys(rows: int) -> Keys:
    return Keys([f"k{i}" for i in range(rows)], [f"k{i}" for i in range(rows)])


def _digits(head: int, zeros: int, tail: int) -> Cell:
    """An int written ``{head}{zeros x 0}{tail}``: its text is known without ``str()`` (4,300-digit limit)."""
    assert 1 <= head <= 9 and 0 <= tail <= 9
    return Cell(head * 10 ** (zeros + 1) + tail, "number/wide-int", f"{head}{'0' * zeros}{tail}")


_NEW_YORK_210 = dt.datetime(210, 2, 26, 3, 54, 57)
_END_OF_TIME = dt.datetime(9999, 12, 31, 23, 59, 59, 999_999)

#: (defect, case): the smallest frames found for each defect class (on the tree before issue #11's fixes).
KNOWN_CASES: list[tuple[str, Case]] = [
    (
        "datetime64[us] 9999-12-31 wraps to 1816",
        assemble([_when("datetime64[us]", _instant(_END_OF_TIME, "us", False))], _keys(1)),
    ),
    (
        "datetime64[s] 0001-01-01 wraps to 1754",
        assemble([_when("datetime64[s]", _instant(dt.datetime(1, 1, 1), "s", False))], _keys(1)),
    ),
    (
        "tz-aware datetime64[ms] of 1654 wraps to 2239",
        assemble(
            [_when("datetime64[ms, tz]", _instant(dt.datetime(1654, 3, 1, 8), "ms", True))],
            _keys(1),
            zone="America/New_York",
        ),
    ),
    (
        "object datetime(210, 2, 26, 3, 54, 57) in New York stops the load",
        assemble(
            [_when("object", Cell(_NEW_YORK_210, *naive_instant(to_ns(_NEW_YORK_210), "America/New_York")))],
            _keys(1),
            naive_timezone="America/New_York",
        ),
    ),
    (
        "naive 2050-07-01 12:00 in Berlin is sent an hour off (pytz has no rules after 2037)",
        assemble(
            [_when("datetime64[us]", _instant(dt.datetime(2050, 7, 1, 12), "us", False, "Europe/Berlin"))],
            _keys(1),
            naive_timezone="Europe/Berlin",
        ),
    ),
    (
        "naive datetime64[ns] 2262-04-11 23:00 in New York is past 2262 in UTC and wraps",
        assemble(
            [
                _when(
                    "datetime64[ns]", _instant(dt.datetime(2262, 4, 11, 23), "ns", False, "America/New_York")
                )
            ],
            _keys(1),
            naive_timezone="America/New_York",
        ),
    ),
    (
        "the sandbox stores year 1 as '1-01-01T...' (strftime's %Y does not pad)",
        assemble(
            [_when("object", Cell(dt.datetime(1, 1, 1), "datetime/extreme", "0001-01-01T00:00:00.000Z"))],
            _keys(1),
        ),
    ),
    (
        "the sandbox stores 1978-07-14T04:16:26.372Z as .371Z (float milliseconds)",
        assemble(
            [_when("datetime64[ms]", _instant(dt.datetime(1978, 7, 14, 4, 16, 26, 372_000), "ms", False))],
            _keys(1),
        ),
    ),
    (
        "an int of 4,301 digits stops the load",
        assemble([Column("number", "h_number", "object", [_digits(1, 4299, 7)])], _keys(1)),
    ),
    (
        "a 401-digit int with preflight raises PreflightError (OverflowError)",
        assemble(
            [Column("number", "h_number", "object", [_digits(1, 399, 1)])], _keys(1), preflight="quarantine"
        ),
    ),
    ("the key column twice raises AttributeError", assemble([], _keys(2), duplicate="key")),
    ("the key column twice, with preflight", assemble([], _keys(2), duplicate="key", preflight="quarantine")),
    (
        "a lone-surrogate category next to inf, with preflight, raises UnicodeEncodeError",
        assemble(
            [
                Column(
                    "text",
                    "h_text",
                    "category",
                    [Cell("\ud800", "text/lone-surrogate"), Cell("a", "text", "a")],
                ),
                Column(
                    "number",
                    "h_number",
                    "float64",
                    [Cell(float("inf"), "number/infinite"), Cell(1.5, "number/float", "1.5")],
                ),
            ],
            _keys(2),
            preflight="quarantine",
        ),
    ),
    (
        "a non-str column name, mapped, raises a false KeyError",
        assemble([Column(0, "h_text", "object", [Cell("x", "text", "x")])], _keys(1)),
    ),
    ("a null key stops the load", assemble([], Keys(["k0", None], ["k0", None], "null key", frozenset({1})))),
    (
        "a repeated key stops the load",
        assemble([], Keys(["k0", "k0"], ["k0", "k0"], "duplicate key", frozenset({0, 1}))),
    ),
]
