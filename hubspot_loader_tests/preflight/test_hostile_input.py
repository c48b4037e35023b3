"""Issue #11: preflight gives every row a verdict, whatever its cells hold, and never raises for a cell.

Each test here failed on the code before the fix: with an exception out of preflight, a ``SCHEMA_ERROR``
that belongs to no row, a row held back that HubSpot accepts, or a false "not in the frame".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from hubspot_loader.core.formatting import format_value
from hubspot_loader.core.model import CREATED, FAILED
from hubspot_loader.core.preflight import PREFLIGHT, PreflightReport, run_preflight
from hubspot_loader.errors import DuplicateColumnsError, LoadUsageError
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader_tests.preflight.conftest import Hub


def contacts_preflight(
    hub: Hub, df: pd.DataFrame, mapping: dict[Any, str], **options: Any
) -> PreflightReport:
    spec = HubSpotLoadSpec(object_type="contacts", **options)
    return run_preflight(df, spec, definitions=hub.definitions("contacts"), mapping=mapping)


def exact_text(value: Any) -> str:
    """The exact decimal text of a number, computed without ``str(int)`` (limited to 4,300 digits)."""
    return value if isinstance(value, str) else format(Decimal(value), "f")


# --- a. numbers are checked on their exact text, whatever their size -------------------------------------

NUMBERS_UP_TO_4300_DIGITS = [
    10**401,
    -(10**401) + 7,
    10**4299,  # 4,300 digits
    Decimal("1" * 500 + "." + "5" * 500),
    "9" * 65_536,  # HubSpot's limit for a value, inclusive
    "9" * 65_537,
    "-" + "1" * 1_000 + "." + "2" * 1_000,
    "1" * 400 + "e5",
]


def test_numbers_of_any_size_get_the_sandbox_verdict_on_their_exact_text(hub: Hub) -> None:
    # Before: an object column of 401-digit ints gave SCHEMA_ERROR OverflowError('int too large to
    # convert to float') for the whole column, and no row verdict.
    df = pd.DataFrame(
        {
            "id": [f"n{i}" for i in range(len(NUMBERS_UP_TO_4300_DIGITS))],
            "firstname": "Num",
            "score": pd.Series(NUMBERS_UP_TO_4300_DIGITS, dtype=object),
        }
    )
    report = contacts_preflight(hub, df, {"firstname": "firstname", "score": "score"}, key_column="id")
    assert report.blocking == []
    predicted = {p.position: {p.code} for p in report.problems}
    for position, value in enumerate(NUMBERS_UP_TO_4300_DIGITS):
        _, codes, body = hub.send_alone("contacts", {"firstname": "Num", "score": exact_text(value)})
        assert predicted.get(position, set()) == codes, (position, body)
    # Both verdicts occur: the huge numbers are accepted, the over-long and malformed ones are not.
    assert set(predicted) == {5, 7}
    assert [p.column for p in report.problems] == ["score", "score"]


@pytest.mark.parametrize("value", [10**4300, -(10**5000), 10**70_000 + 1], ids=["4301", "-5001", "70001"])
def test_ints_beyond_4300_digits_get_a_row_verdict_not_an_exception(hub: Hub, value: int) -> None:
    # Before: format_series raised "Exceeds the limit (4300 digits)" out of preflight.
    df = pd.DataFrame(
        {"id": ["big", "small"], "firstname": "Num", "score": pd.Series([value, 5], dtype=object)}
    )
    report = contacts_preflight(hub, df, {"firstname": "firstname", "score": "score"}, key_column="id")
    assert report.blocking == []
    assert 1 not in report.bad_positions
    problems = [(p.key, p.column, p.code) for p in report.problems]
    # The verdict is the sandbox's on the exact decimal text, which the formatter sends, or refuses to
    # write when it is longer than any value HubSpot takes (the row is then rejected, with why).
    _, codes, _ = hub.send_alone("contacts", {"firstname": "Num", "score": exact_text(value)})
    assert {code for _, _, code in problems} == codes
    try:
        sent = format_value(value)
    except ValueError:
        assert codes == {"INVALID_STRING_LENGTH"}
        assert "longer than the maximum of 65,536 characters" in report.problems[0].message
    else:
        assert sent == exact_text(value)


# --- b. a cell pandas cannot hash still gives a per-row result --------------------------------------------


def surrogate_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["s-0", "s-1", "s-2"],
            "email": ["a@example.com", "b@example.com", "c@example.com"],
            "firstname": pd.Categorical(["\ud800", "Bo", "Cy"]),
            "score": [float("inf"), 1.5, 2.0],
        }
    )


def test_lone_surrogate_category_next_to_inf_is_rejected_per_row_in_quarantine(hub: Hub) -> None:
    # Before: UnicodeEncodeError from pandas hashing the categorical dtype in pandera's failure cases.
    df = surrogate_frame()
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id", preflight="quarantine")
    result = load_dataframe(df, spec, client=hub.client)
    statuses = {r.key: r.status for r in result.rows}
    assert statuses == {"s-0": FAILED, "s-1": CREATED, "s-2": CREATED}
    failed = {r.key: r.error for r in result.rows if r.error is not None}
    assert {e.category for e in failed.values()} == {PREFLIGHT}
    assert failed["s-0"].property in ("firstname", "score")
    assert "lone surrogate" in failed["s-0"].message and "infinite" in failed["s-0"].message
    assert hub.handle.counts()["contacts"] == 2


def test_user_schema_failures_on_such_cells_are_reported_per_row(hub: Hub) -> None:
    # The user's checks run in pandera; its failure cases of the categorical and the float column used to
    # be concatenated (and the categorical hashed) in one step, which raised UnicodeEncodeError.
    user = pa.DataFrameSchema(
        {
            "firstname": pa.Column(None, pa.Check(lambda s: s.astype(object).map(len) > 1, name="long_name")),
            "score": pa.Column(float, pa.Check.lt(2)),
        }
    )
    mapping = {"email": "email", "firstname": "firstname", "score": "score"}
    report = contacts_preflight(hub, surrogate_frame(), mapping, key_column="id", schema=user)
    assert report.blocking == []
    assert {(p.key, p.column, p.code) for p in report.problems} == {
        ("s-0", "firstname", "long_name"),
        ("s-0", "score", "less_than(2)"),
        ("s-2", "score", "less_than(2)"),
    }


# --- d. duplicate column names are a named usage error ---------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "repeated"),
    [
        (["id", "firstname", "firstname"], ["firstname"]),
        (["id", "firstname", "id"], ["id"]),
        (["id", 0, "0"], ["0"]),  # the same name as text
    ],
)
def test_duplicate_column_names_are_refused_naming_them(
    hub: Hub, columns: list[Any], repeated: list[str]
) -> None:
    # Before: AttributeError: 'DataFrame' object has no attribute 'dtype' (from preflight._positional).
    df = pd.DataFrame([["a", "Ann", "Bo"]], columns=columns)
    with pytest.raises(DuplicateColumnsError) as caught:
        contacts_preflight(hub, df, {"firstname": "firstname"}, key_column="id")
    assert isinstance(caught.value, LoadUsageError)
    assert caught.value.columns == repeated
    assert f"{repeated[0]!r} at column positions" in str(caught.value)


def test_names_pandas_takes_as_one_but_text_tells_apart_work(hub: Hub) -> None:
    # pandas finds both columns for df[False] (0 == False); preflight takes columns by position, and a
    # mapping names them by their text (a dict cannot hold both 0 and False as keys).
    df = pd.DataFrame([["k", "Ann", "platinum"]], columns=pd.Index(["id", 0, False], dtype=object))
    report = contacts_preflight(hub, df, {"0": "firstname", "False": "tier"}, key_column="id")
    assert [(p.key, p.column, p.code) for p in report.problems] == [("k", "False", "INVALID_OPTION")]


# --- e. non-str column names ------------------------------------------------------------------------------


def test_non_str_column_names_work_when_mapped(hub: Hub) -> None:
    # Before: COLUMN_NOT_IN_FRAME "column 0 is not in the frame" for a column that is in the frame.
    df = pd.DataFrame(
        [["k1", "Ann", "gold"], ["k2", "Bo", "platinum"]], columns=pd.Index([7, 0, 1.5], dtype=object)
    )
    for mapping in ({0: "firstname", 1.5: "tier"}, {"0": "firstname", "1.5": "tier"}):
        report = contacts_preflight(hub, df, mapping, key_column=7)
        assert report.blocking == []
        assert [(p.key, p.column, p.property, p.code) for p in report.problems] == [
            ("k2", "1.5", "tier", "INVALID_OPTION")
        ]
    missing = contacts_preflight(hub, df, {2: "firstname"}, key_column=7)
    assert [b.code for b in missing.blocking] == ["COLUMN_NOT_IN_FRAME"]
    assert "it has 7, 0, 1.5" in missing.blocking[0].message


def test_non_str_column_names_load_in_quarantine_mode(hub: Hub) -> None:
    df = pd.DataFrame({"id": ["k1", "k2"], 0: ["Ann", "Bo"], 1: ["gold", "platinum"]})
    spec = HubSpotLoadSpec(
        object_type="contacts",
        properties={0: "firstname", 1: "tier"},
        key_column="id",
        preflight="quarantine",
    )
    result = load_dataframe(df, spec, client=hub.client)
    assert [(r.key, r.status) for r in result.rows] == [("k1", CREATED), ("k2", FAILED)]
    assert result.rows[1].error is not None and result.rows[1].error.property == "1"
    assert [o["properties"]["firstname"] for o in hub.handle.objects("contacts")] == ["Ann"]


def test_hostile_cells_of_every_kind_are_each_named(hub: Hub) -> None:
    cells: list[Any] = [
        {"a": 1}, [["nested"]], "\x00nul", np.datetime64("NaT"), pd.NA, float("-inf"), b"\xff",
        10**500, "x" * 70_000, ["golf", "ten;nis"], pd.Timestamp("2026-01-01"), object(),
    ]  # fmt: skip
    df = pd.DataFrame(
        {"id": [f"h{i}" for i in range(len(cells))], "firstname": pd.Series(cells, dtype=object)}
    )
    report = contacts_preflight(hub, df, {"firstname": "firstname"}, key_column="id")
    assert report.blocking == []
    for problem in report.problems:
        assert problem.key == f"h{problem.position}" and problem.message
    named = {p.position for p in report.problems if p.column == "firstname"}
    assert named == {0, 1, 5, 6, 8, 9}  # no wire form, or longer than 65,536 characters


def test_a_cell_no_formatter_rule_expects_fails_its_row_in_an_identity_column(hub: Hub) -> None:
    # Before: a 0-d array (list() of it raises) in firstname made the contact identity rule raise
    # TypeError out of run_preflight, which blocked the whole load as PREFLIGHT_FAILED.
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "firstname": pd.Series(["Ada", np.array(5), "Cy"], dtype=object),
            "email": ["a@example.com", None, "c@example.com"],
        }
    )
    report = contacts_preflight(hub, df, {"firstname": "firstname", "email": "email"}, key_column="id")
    assert not report.blocking
    assert {(p.key, p.column) for p in report.problems} == {("b", "firstname"), ("b", None)}
    [reason] = [p.message for p in report.problems if p.column == "firstname"]
    assert "cannot be formatted (TypeError" in reason
