"""Property-based: hostile frames through ``run_preflight``, with the sandbox as the judge (issue #11).

For every generated frame (mixed dtypes and layouts, nulls of every kind, inf, huge ints, long strings,
lone surrogates, NUL, categoricals, nested lists, bytes, dicts, repeated unique values, bad keys,
non-str and duplicate column names):

- the only exception is the documented one, ``DuplicateColumnsError``, exactly when two columns share
  a name (as text);
- nothing blocks the load as a whole (the configuration is valid): every problem belongs to a row;
- every problem names the row's key, a column (or the whole row, for the contact identity rule) and a
  reason; every rejected row has one failed outcome naming the same;
- a cell the loader cannot format rejects its row, naming that column;
- every other row gets the sandbox's verdict: sent alone in frame order, a row preflight passes is
  created, and a row it rejects is rejected with the codes preflight predicted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_loader.core.formatting import format_series, format_value
from hubspot_loader.core.model import FAILED
from hubspot_loader.core.preflight import PREFLIGHT, PreflightReport, run_preflight
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import DuplicateColumnsError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox import start_sandbox
from hubspot_loader_tests.preflight.conftest import Hub, preflight_config

HOSTILE_SCALARS: list[Any] = [
    None, np.nan, pd.NA, pd.NaT, float("inf"), float("-inf"), 0, -1, 1.5, 1e-7, 1e21, 2**63, 10**401,
    10**4400, True, False, "", " ", "\x00", "a\x00b", "\ud800", "a\udfffb", "x" * 65_537, "é" * 65_536,
    "gold", "platinum", "Gold", "golf;chess", "golf;;chess", ["golf", "chess"], ["golf", None],
    [["nested"]], ["ten;nis"], [], ("chess",), {"a": 1}, b"\xff", b"bytes", Decimal("1E+3"),
    Decimal("NaN"), dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 10, 30), dt.datetime(2026, 3, 8, 2, 30),
    pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-01-01", tz="Europe/Berlin"),
    np.datetime64("2026-05-01", "s"), dt.time(1, 2), dt.timedelta(days=1), "2026-01-01", "2026-02-30",
    "2026-01-01T10:00:00Z", "1430438400000", "1e5", " 7 ", "-0.5", "yes", "true", "FALSE", "🙂",
]  # fmt: skip
EMAILS = ["a@example.com", "A@Example.com", "b@example.com", "not-an-email", "a b@c.com", "", None]
EXTERNAL_IDS = ["X-1", "x-1", "X-2", "", None, "\ud800", 7]
TEXTS = ["Ann", "Bo", "", "\ud800", "a\x00b", "x" * 65_537, "gold", "platinum", "golf"]
PROPERTIES = ["firstname", "score", "renewal_date", "signed_up_at", "is_vip", "tier", "interests"]
UNIQUE = "external_id"


def object_column(rows: int) -> st.SearchStrategy[pd.Series]:
    return st.lists(st.sampled_from(HOSTILE_SCALARS), min_size=rows, max_size=rows).map(
        lambda cells: pd.Series(cells, dtype=object)
    )


def typed_column(rows: int) -> st.SearchStrategy[pd.Series]:
    """A column with a dtype of its own: float, Int64, categorical, string, datetime64 of any unit."""
    floats = st.sampled_from([np.nan, float("inf"), -float("inf"), 0.0, 1.5, 1e-7, 1e300, -2.0])
    ints = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
    stamps = st.one_of(
        st.none(), st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)).map(np.datetime64)
    )
    unit = st.sampled_from(["s", "ms", "us", "ns"])
    zone = st.sampled_from([None, "UTC", "America/New_York"])

    def datetimes(args: tuple[list[Any], str, str | None]) -> pd.Series:
        values, unit_, zone_ = args
        array = np.array([np.datetime64("NaT") if v is None else v for v in values], dtype=f"M8[{unit_}]")
        series = pd.Series(array)
        if zone_ is None:
            return series
        return series.dt.tz_localize(zone_, ambiguous="NaT", nonexistent="NaT")

    return st.one_of(
        st.lists(floats, min_size=rows, max_size=rows).map(lambda v: pd.Series(v, dtype="float64")),
        st.lists(ints, min_size=rows, max_size=rows).map(lambda v: pd.Series(v, dtype="Int64")),
        st.lists(st.sampled_from([*TEXTS, None]), min_size=rows, max_size=rows).map(
            lambda v: pd.Series(pd.Categorical(v))
        ),
        st.lists(st.sampled_from([*TEXTS, None]), min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="string")
        ),
        st.tuples(st.lists(stamps, min_size=rows, max_size=rows), unit, zone).map(datetimes),
    )


@st.composite
def hostile_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[Any, str], Any, bool]:
    """A frame, its column → property mapping, its key column, and whether two column names collide."""
    rows = draw(st.integers(1, 6))
    columns: dict[Any, pd.Series] = {}
    keys = st.one_of(st.sampled_from(["k1", "k2", None, 3, 3.0, "\ud800", ["k"]]), st.text(max_size=3))
    columns["id"] = draw(st.one_of(
        st.just(pd.Series([f"row-{i}" for i in range(rows)], dtype=object)),
        st.lists(keys, min_size=rows, max_size=rows).map(lambda v: pd.Series(v, dtype=object)),
    ))  # fmt: skip
    mapping: dict[Any, str] = {}
    for prop in draw(st.lists(st.sampled_from(PROPERTIES), min_size=1, max_size=5, unique=True)):
        label: Any = draw(st.sampled_from([prop, prop, len(mapping)]))  # sometimes an int label
        columns[label] = draw(st.one_of(object_column(rows), typed_column(rows)))
        mapping[label] = prop
    if draw(st.booleans()):
        emails = st.lists(st.sampled_from(EMAILS), min_size=rows, max_size=rows).map(pd.Series)
        columns["email"] = draw(st.one_of(emails, object_column(rows)))
        mapping["email"] = "email"
    if draw(st.booleans()):
        ids = draw(st.lists(st.sampled_from(EXTERNAL_IDS), min_size=rows, max_size=rows))
        columns[UNIQUE] = pd.Series(ids, dtype=object)
        mapping[UNIQUE] = UNIQUE
    labels = list(columns)
    collide = draw(st.integers(0, 9)) == 0 and len(labels) > 2
    if collide:  # the same name as text: 0 and "0", or a name repeated
        labels[-1] = str(labels[1]) if draw(st.booleans()) else labels[1]
    df = pd.concat([s.reset_index(drop=True) for s in columns.values()], axis=1)
    df.columns = pd.Index(labels, dtype=object)
    index = draw(st.sampled_from([None, "reversed", "strings"]))
    if index == "reversed":
        df.index = pd.RangeIndex(rows, 0, -1)
    elif index == "strings":
        df.index = pd.Index([f"i{i}" for i in range(rows)])
    return df, mapping, "id", collide


@pytest.fixture(scope="module")
def judge() -> Iterator[Hub]:
    handle = start_sandbox(preflight_config().replace(host="127.0.0.1", port=0))
    client = HubSpotClient(handle.token, base_url=handle.base_url)
    yield Hub(handle, client)
    client.close()
    handle.stop()


@pytest.fixture(scope="module")
def definitions(judge: Hub) -> list[dict[str, Any]]:
    return judge.definitions("contacts")


def wire_texts(series: pd.Series, zone: str) -> list[str | ValueError | None]:
    """What the loader sends for each cell of a column: its text, ``None`` (omitted) or why it cannot."""
    try:
        formatted = format_series(series.reset_index(drop=True), naive_timezone=zone)
    except ValueError:  # the column cannot be formatted as a whole: cell by cell
        out: list[str | ValueError | None] = []
        for value in series.tolist():
            try:
                out.append(format_value(value, naive_timezone=zone))
            except ValueError as exc:
                out.append(exc)
        return out
    texts: list[str | ValueError | None] = list(formatted.values)
    for error in formatted.errors:
        texts[error.position] = ValueError(error.reason)
    return texts


def wire_rows(df: pd.DataFrame, mapping: dict[Any, str], zone: str) -> list[dict[str, str] | None]:
    """The properties the loader sends for each row; ``None`` for a row with a cell it cannot format."""
    rows: list[dict[str, str] | None] = [{} for _ in range(len(df))]
    for column, prop in mapping.items():
        for position, text in enumerate(wire_texts(df[column], zone)):
            row = rows[position]
            if isinstance(text, ValueError) or row is None:
                rows[position] = None
            elif text is not None:
                row[prop] = text
    return rows


def check_names(report: PreflightReport, df: pd.DataFrame, mapping: dict[Any, str], zone: str) -> None:
    """Every problem names a key, a column of the load (or the whole row) and a reason."""
    allowed = {str(c) for c in mapping} | {"id"}
    keys = wire_texts(df["id"], zone)
    assert report.blocking == []
    for problem in report.problems:
        assert problem.code and problem.message
        assert problem.column is None or problem.column in allowed
        assert problem.column is not None or problem.code == "REQUIRED_PROPERTY"
        key = keys[problem.position]
        assert problem.key == (key if isinstance(key, str) else str(problem.position))
    by_row = {r.position: r for r in report.rows}
    assert set(by_row) == {p.position for p in report.problems}
    for problem in report.problems:
        outcome = by_row[problem.position]
        assert outcome.status == FAILED and outcome.key == problem.key and outcome.error is not None
        assert outcome.error.category == PREFLIGHT and problem.code in outcome.error.message
        if problem.column is not None:
            assert f"column {problem.column!r}" in outcome.error.message


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(frame=hostile_frames(), zone=st.sampled_from(["UTC", "America/New_York"]))
def test_hostile_frames_get_a_named_verdict_per_row_that_the_sandbox_confirms(
    judge: Hub,
    definitions: list[dict[str, Any]],
    frame: tuple[pd.DataFrame, dict[Any, str], Any, bool],
    zone: str,
) -> None:
    df, mapping, key_column, collide = frame
    spec = HubSpotLoadSpec(object_type="contacts", key_column=key_column, naive_timezone=zone)
    if collide:
        with pytest.raises(DuplicateColumnsError):
            run_preflight(df, spec, definitions=definitions, mapping=mapping)
        return
    report = run_preflight(df, spec, definitions=definitions, mapping=mapping)
    check_names(report, df, mapping, zone)

    predicted: dict[int, set[str]] = {}
    for problem in report.problems:
        predicted.setdefault(problem.position, set()).add(problem.code)
    judge.handle.reset()
    for position, properties in enumerate(wire_rows(df, mapping, zone)):
        codes = predicted.get(position, set())
        if properties is None:  # no wire form: the row is rejected, naming a column (the judge cannot see it)
            assert codes & {"INVALID_VALUE", "INVALID_STRING_LENGTH"}
            continue
        if "INVALID_KEY" in codes:  # the key is not sent: only preflight judges it
            continue
        status, answered, body = judge.send_alone("contacts", properties)
        expected = {"CONFLICT" if c == "DUPLICATE_UNIQUE_VALUE" else c for c in codes}
        # The sandbox, like HubSpot, checks the contact identity rule only when nothing else is wrong.
        expected = expected - {"REQUIRED_PROPERTY"} or expected
        assert answered == expected, (position, properties, body)
        assert (status == 201) == (not codes), body
