import re

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.schemas import (
    COMPANIES_SCHEMA,
    CONTACTS_SCHEMA,
    DEALS_SCHEMA,
    ValidationEntry,
    validate_frame,
)

EMAIL_CHECK = r"str_matches('^[^@\s;,]+@[^@\s;,]+\.[^@\s;,.]+$')"


def test_valid_contacts_pass_and_keep_extra_columns() -> None:
    df = pd.DataFrame(
        {
            "email": ["a@x.io", None],
            "firstname": [None, "Zoë"],
            "lifecyclestage": ["lead", None],
            "x": [1, 2],
        },
        index=[10, 20],
    )
    report = validate_frame(df, CONTACTS_SCHEMA, None)
    assert report.ok
    assert report.message == "schema validation passed"
    assert list(report.frame.columns) == ["email", "firstname", "lifecyclestage", "x"]
    assert report.frame.index.tolist() == [10, 20]


def test_contact_failures_named_by_key_column_and_check() -> None:
    df = pd.DataFrame(
        {
            "id": [7.0, 8.0, 9.0],
            "email": ["a@x.io", "not-an-email", None],
            "lifecyclestage": ["lead", "prospect", None],
        },
        index=["r1", "r2", "r3"],
    )
    report = validate_frame(df, CONTACTS_SCHEMA, "id")
    assert not report.ok
    assert report.frame is df
    assert report.entries == [
        ValidationEntry("8", 1, "email", EMAIL_CHECK, "not-an-email"),
        ValidationEntry("8", 1, "lifecyclestage", report.entries[1].check, "prospect"),
        ValidationEntry("9", 2, None, "needs one of email, firstname, lastname", None),
    ]
    assert report.entries[1].check.startswith("isin(")
    lines = report.message.splitlines()
    assert lines[0] == "schema validation failed: 3 failure(s) in 2 row(s) (DATAFRAME_CHECK: 3)"
    assert (
        lines[1] == f"- row key '8' (position 1), column 'email', check {EMAIL_CHECK}: value 'not-an-email'"
    )
    assert lines[3] == "- row key '9' (position 2), whole row, check needs one of email, firstname, lastname"


def test_missing_required_column_and_not_nullable() -> None:
    df = pd.DataFrame({"dealname": ["A", None], "amount": ["10.5", -1]})
    report = validate_frame(df, DEALS_SCHEMA)
    assert [(e.key, e.column, e.check, e.failure_case) for e in report.entries] == [
        (None, "dealstage", "column_in_dataframe", None),
        ("1", "amount", "greater_than_or_equal_to(0)", "-1.0"),
        ("1", "dealname", "not_nullable", None),
    ]
    assert report.message.splitlines()[1] == "- frame, column 'dealstage', check column_in_dataframe"


def test_coerced_frame_is_kept() -> None:
    df = pd.DataFrame({"dealname": ["A"], "dealstage": ["closedwon"], "amount": ["1200.50"]})
    report = validate_frame(df, DEALS_SCHEMA)
    assert report.ok
    assert report.frame["amount"].tolist() == [1200.5]


def test_companies_checks() -> None:
    df = pd.DataFrame(
        {
            "name": ["Acme", None, None],
            "domain": ["acme.com", "https://x.io/path", None],
            "industry": ["COMPUTER_SOFTWARE", "Computer Software", None],
            "numberofemployees": ["12", 2.5, -3],
        }
    )
    report = validate_frame(df, COMPANIES_SCHEMA)
    found = [(e.position, e.column, e.check) for e in report.entries]
    assert (1, "domain", report.entries[0].check) in found
    assert (1, "industry", "str_matches('^[A-Z][A-Z0-9_]*$')") in found
    assert (1, "numberofemployees", "a whole number") in found
    assert (2, "numberofemployees", "greater_than_or_equal_to(0)") in found
    assert (2, None, "needs one of name, domain") in found
    assert report.failed_rows == 2


def test_closedate_accepts_dates_and_rejects_strings() -> None:
    df = pd.DataFrame(
        {"dealname": ["a", "b"], "dealstage": ["s", "s"], "closedate": [pd.Timestamp("2026-01-01"), "soon"]}
    )
    report = validate_frame(df, DEALS_SCHEMA)
    assert [(e.position, e.column, e.check, e.failure_case) for e in report.entries] == [
        (1, "closedate", "a date or datetime value", "soon")
    ]


def test_message_is_bounded() -> None:
    df = pd.DataFrame({"email": [f"bad{i}" for i in range(120)]})
    report = validate_frame(df, CONTACTS_SCHEMA)
    lines = report.message.splitlines()
    assert len(lines) == 52
    assert lines[-1] == "... and 70 more"
    markdown = report.table_markdown(limit=2).splitlines()
    assert markdown[0] == "| key | position | column | check | failure_case |"
    assert markdown[2] == "| 0 | 0 | email | " + EMAIL_CHECK.replace("|", "\\|") + " | bad0 |"
    assert markdown[-1] == "118 more failure(s) not shown."
    assert list(report.to_frame().columns) == ["key", "position", "column", "check", "failure_case"]


def test_schema_extension_by_add_columns_and_models_work() -> None:
    schema = CONTACTS_SCHEMA.add_columns({"external_id": pa.Column(str, unique=True)})
    df = pd.DataFrame({"email": ["a@x.io", "b@x.io"], "external_id": ["e1", "e1"]})
    report = validate_frame(df, schema, "email")
    assert [(e.key, e.column, e.check) for e in report.entries] == [
        ("a@x.io", "external_id", "field_uniqueness"),
        ("b@x.io", "external_id", "field_uniqueness"),
    ]

    class Model(pa.DataFrameModel):
        n: int = pa.Field(ge=0)

    bad = validate_frame(pd.DataFrame({"n": [1, -1]}), Model)
    assert [(e.position, e.column, e.failure_case) for e in bad.entries] == [(1, "n", "-1")]


def test_validation_in_place_leaves_the_input_frame_unchanged() -> None:
    schema = pa.DataFrameSchema({"a": pa.Column(float, coerce=True), "b": pa.Column(str, coerce=True)})
    df = pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3], "c": ["x", "y", "z"]}, index=[10, 11, 12])
    before = df.copy(deep=True)
    report = validate_frame(df, schema, "c")
    assert report.ok
    assert report.frame["a"].dtype == "float64" and report.frame.index.tolist() == [10, 11, 12]
    pd.testing.assert_frame_equal(df, before)


def test_one_of_check_gives_the_same_report_as_pandera_ignore_na() -> None:
    """The frame-wide "one of" check passes an all-null row itself, as pandera's ``ignore_na`` did."""
    df = pd.DataFrame(
        {
            "email": [None, "a@b.co", None, None, None],
            "firstname": pd.Series([None, None, "F", None, None], dtype="string"),
            "lastname": [None, None, None, None, "L"],
            "phone": [None, None, None, "555", None],
        },
        index=[10, 11, 12, 13, 14],
    )

    def previous(f: pd.DataFrame) -> pd.Series:  # the check as it was, with pandera's ignore_na
        present = [c for c in ("email", "firstname", "lastname") if c in f.columns]
        return f[present].notna().any(axis=1) if present else pd.Series(False, index=f.index)

    old = pa.Check(
        previous,
        name="one_of_email_firstname_lastname",
        error="needs one of email, firstname, lastname",
    )
    before = pa.DataFrameSchema(CONTACTS_SCHEMA.columns, checks=[old], strict=False)
    frames = [
        df,
        df.drop(columns=["firstname", "lastname"]),
        df[["email", "phone"]].iloc[[0, 3]],
        df.iloc[:0],
    ]
    for frame in frames:
        report = validate_frame(frame, CONTACTS_SCHEMA)
        expected = validate_frame(frame, before)
        assert report.entries == expected.entries and report.error_counts == expected.error_counts
    entries = validate_frame(df, CONTACTS_SCHEMA).entries
    assert [(e.position, e.column) for e in entries] == [(3, None)]  # the all-null row 0 passes


def test_sliced_str_matches_gives_pandera_builtin_results_across_slices(monkeypatch) -> None:
    from hubspot_loader.core import schemas

    monkeypatch.setattr(schemas, "MATCH_SLICE_ROWS", 7)
    values = ["a@x.io", "bad", None, "b@y.org", "c d@x.io", pd.NA, "z@q.co"] * 5 + ["last@x.io", "x"]
    for series in (pd.Series(values, dtype=object), pd.Series(values, dtype="string")):
        frame = pd.DataFrame({"email": series})
        ours = pa.DataFrameSchema(
            {"email": pa.Column(None, schemas.str_matches(schemas.EMAIL_PATTERN), nullable=True)}
        )
        builtin = pa.DataFrameSchema(
            {"email": pa.Column(None, pa.Check.str_matches(schemas.EMAIL_PATTERN), nullable=True)}
        )
        got, want = validate_frame(frame, ours), validate_frame(frame, builtin)
        assert got.entries == want.entries and len(got.entries) == 11
        assert got.error_counts == want.error_counts


def test_sliced_str_matches_with_a_slice_of_numbers_only_reports_rows_like_the_builtin(monkeypatch) -> None:
    from hubspot_loader.core import schemas

    monkeypatch.setattr(schemas, "MATCH_SLICE_ROWS", 4)
    frame = pd.DataFrame({"email": pd.Series([12345, 7, 1.5, True, "a@x.io", "bad", None, 3], dtype=object)})
    ours = pa.DataFrameSchema(
        {"email": pa.Column(None, schemas.str_matches(schemas.EMAIL_PATTERN), nullable=True)}
    )
    builtin = pa.DataFrameSchema(
        {"email": pa.Column(None, pa.Check.str_matches(schemas.EMAIL_PATTERN), nullable=True)}
    )
    got, want = validate_frame(frame, ours), validate_frame(frame, builtin)
    assert got.entries == want.entries and [e.position for e in got.entries] == [0, 1, 2, 3, 5, 7]
    numbers = pd.DataFrame({"email": [1, 2, 3]})
    assert validate_frame(numbers, ours).error_counts == validate_frame(numbers, builtin).error_counts


_ONE_LINE_PATTERNS = ("EMAIL_PATTERN", "DOMAIN_PATTERN")
_SAMPLES = ["a@b.co", "x.io", "http://x.io", "a@b.co\n", "A_1", None]
_TRICKY_TEXT = st.text(alphabet=st.sampled_from(list("ab.@ ;,\n\r\t-Z9_/:é")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(
        st.one_of(_TRICKY_TEXT, st.sampled_from(_SAMPLES), st.integers()),
        max_size=30,
    ),
    slice_rows=st.integers(1, 8),
    which=st.sampled_from([*_ONE_LINE_PATTERNS, r"^[A-Z][A-Z0-9_]*$"]),
)
def test_one_line_str_matches_agrees_with_the_cell_by_cell_match(cells, slice_rows, which) -> None:
    """Matching a slice as one joined text passes exactly the rows pandas' per-cell ``str.match`` passes.

    Line breaks inside cells (also a trailing one, which ``$`` lets through), nulls and non-strings all
    take the per-cell path; the result is pandera's built-in check's, row for row.
    """
    from hubspot_loader.core import schemas

    pattern = getattr(schemas, which, which)
    series = pd.Series(cells, dtype=object)
    try:
        series.str  # noqa: B018 -- pandas refuses a column without text ...
    except AttributeError:
        with pytest.raises(AttributeError):  # ... and so does the check, as pandera's built-in one
            schemas.str_matches(pattern, one_line=True)._check_fn(series)
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schemas, "MATCH_SLICE_ROWS", slice_rows)
        got = schemas.str_matches(pattern, one_line=True)._check_fn(series)
    want = series.map(lambda v: isinstance(v, str) and re.match(pattern, v) is not None)
    assert got.tolist() == want.tolist()


def test_one_line_str_matches_refuses_a_pattern_that_is_not_anchored() -> None:
    from hubspot_loader.core import schemas

    with pytest.raises(ValueError, match="one-line pattern"):
        schemas.str_matches(r"[a-z]+", one_line=True)
