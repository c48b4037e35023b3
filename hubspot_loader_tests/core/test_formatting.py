import datetime as dt
import sys
import uuid
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from hubspot_loader.core.formatting import CellError, format_series, format_value


def values(series: pd.Series, **kwargs: object) -> list[str | None]:
    formatted = format_series(series, column="c", **kwargs)  # type: ignore[arg-type]
    assert formatted.errors == []
    return formatted.values


def test_nulls_are_omitted_never_spelled_out() -> None:
    cells = [None, np.nan, pd.NaT, pd.NA, "x"]
    assert values(pd.Series(cells, dtype=object)) == [None, None, None, None, "x"]
    assert values(pd.Series([np.nan, np.nan])) == [None, None]
    assert values(pd.Series([None, None], dtype=object)) == [None, None]


def test_nullable_int_stays_integer() -> None:
    assert values(pd.Series([42, None, -7], dtype="Int64")) == ["42", None, "-7"]
    assert values(pd.Series([2**63 - 1], dtype="int64")) == ["9223372036854775807"]
    assert values(pd.Series([2**64 - 1], dtype="uint64")) == ["18446744073709551615"]
    assert values(pd.Series([1, 2**70], dtype=object)) == ["1", "1180591620717411303424"]


def test_floats_whole_numbers_and_shortest_digits() -> None:
    series = pd.Series([42.0, 0.1, 12345678.9, 1e21, -0.0, 1e-7, 1.5, 1e16, -2.5, 1.2345e25])
    assert values(series) == [
        "42",
        "0.1",
        "12345678.9",
        "1000000000000000000000",
        "0",
        "0.0000001",
        "1.5",
        "10000000000000000",
        "-2.5",
        "12345000000000000000000000",
    ]


def test_float32_keeps_its_own_shortest_form() -> None:
    assert values(pd.Series([0.1, np.nan, 3.0], dtype="float32")) == ["0.1", None, "3"]
    assert values(pd.Series([0.1, None], dtype="Float64")) == ["0.1", None]


def test_float_nan_omitted_and_inf_reported() -> None:
    formatted = format_series(pd.Series([1.0, np.nan, np.inf, -np.inf]), column="score")
    assert formatted.values == ["1", None, None, None]
    assert formatted.errors == [
        CellError(2, "score", "inf is not a valid HubSpot number (infinite)"),
        CellError(3, "score", "-inf is not a valid HubSpot number (infinite)"),
    ]


def test_booleans() -> None:
    assert values(pd.Series([True, False])) == ["true", "false"]
    assert values(pd.Series([True, None, False], dtype="boolean")) == ["true", None, "false"]
    assert values(pd.Series([True, None, np.True_], dtype=object)) == ["true", None, "true"]


def test_dates_and_datetimes() -> None:
    dates = pd.Series([dt.date(2026, 11, 28), None, dt.date(2026, 11, 28)], dtype=object)
    assert values(dates) == ["2026-11-28", None, "2026-11-28"]
    naive = pd.Series(pd.to_datetime(["2026-11-28 15:16:36.123456", None]))
    assert values(naive) == ["2026-11-28T15:16:36.123Z", None]
    aware = pd.Series(pd.to_datetime(["2026-11-28T16:16:36+01:00"]))
    assert values(aware) == ["2026-11-28T15:16:36.000Z"]
    midnight = pd.Series(pd.to_datetime(["2026-11-28"]))
    assert values(midnight) == ["2026-11-28T00:00:00.000Z"]


def test_naive_datetimes_in_a_configured_zone() -> None:
    naive = pd.Series(pd.to_datetime(["2026-11-28 15:16:36", "2026-07-01 12:00:00"]))
    assert values(naive, naive_timezone="Europe/Berlin") == [
        "2026-11-28T14:16:36.000Z",
        "2026-07-01T10:00:00.000Z",
    ]
    aware = pd.Series(pd.to_datetime(["2026-11-28T15:16:36Z"]))
    assert values(aware, naive_timezone="Europe/Berlin") == ["2026-11-28T15:16:36.000Z"]
    assert format_value(dt.datetime(2026, 7, 1, 12), naive_timezone="America/New_York") == (
        "2026-07-01T16:00:00.000Z"
    )


def test_nonexistent_local_time_is_reported() -> None:
    gap = pd.Series(pd.to_datetime(["2026-03-29 02:30:00", "2026-03-29 04:00:00"]))
    formatted = format_series(gap, column="ts", naive_timezone="Europe/Berlin")
    assert formatted.values == [None, "2026-03-29T02:00:00.000Z"]
    assert formatted.errors == [
        CellError(
            0,
            "ts",
            "local time 2026-03-29T02:30:00 does not exist in Europe/Berlin (the clocks skip it); "
            "give it a UTC offset",
        )
    ]


def test_mixed_object_datetimes() -> None:
    series = pd.Series(
        [dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5), pd.Timestamp("2020-01-02T03:04:05+02:00")],
        dtype=object,
    )
    assert values(series) == ["2020-01-02", "2020-01-02T03:04:05.000Z", "2020-01-02T01:04:05.000Z"]


def test_lists_become_multi_checkbox() -> None:
    series = pd.Series(
        [["a", "b", "c"], [], None, ("x",), {"b", "a"}, np.array([1, 2]), ["a", None, "b"]], dtype=object
    )
    assert values(series) == ["a;b;c", None, None, "x", "a;b", "1;2", "a;b"]


def test_list_element_with_separator_is_invalid() -> None:
    formatted = format_series(pd.Series([["a;b"], ["ok"]], dtype=object), column="tags")
    assert formatted.values == [None, "ok"]
    assert formatted.errors == [
        CellError(0, "tags", "list element 'a;b' contains ';', the multi-checkbox separator")
    ]


def test_strings_kept_exactly() -> None:
    series = pd.Series(["  padded  ", "Zoë 🚀", "", "line\nbreak"], dtype=object)
    assert values(series) == ["  padded  ", "Zoë 🚀", "", "line\nbreak"]
    assert values(pd.Series(["é", None], dtype="string")) == ["é", None]


def test_string_over_limit_is_invalid() -> None:
    formatted = format_series(pd.Series(["x" * 65_536, "y" * 65_537]), column="notes")
    assert formatted.values == ["x" * 65_536, None]
    assert formatted.errors == [
        CellError(1, "notes", "string of 65,537 characters is longer than HubSpot's 65,536")
    ]


def test_decimal_plain_string() -> None:
    series = pd.Series([Decimal("1E+3"), Decimal("0.00001"), Decimal("12.50"), None], dtype=object)
    assert values(series) == ["1000", "0.00001", "12.50", None]
    formatted = format_series(pd.Series([Decimal("Infinity")], dtype=object), column="d")
    assert formatted.errors == [CellError(0, "d", "Infinity is not a valid HubSpot number")]


def test_categorical() -> None:
    series = pd.Series(pd.Categorical(["b", None, "a", "b"]))
    assert values(series) == ["b", None, "a", "b"]
    numbers = pd.Series(pd.Categorical([1.0, 2.5, None]))
    assert values(numbers) == ["1", "2.5", None]


def test_mixed_object_column_element_wise() -> None:
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    series = pd.Series([1, 2.5, "x", True, uid, b"bytes", 3.0], dtype=object)
    assert values(series) == ["1", "2.5", "x", "true", str(uid), "bytes", "3"]


def test_unsupported_values_are_reported_with_reason() -> None:
    series = pd.Series([{"a": 1}, dt.time(12, 0), dt.timedelta(days=1), "ok"], dtype=object)
    formatted = format_series(series, column="weird")
    assert formatted.values == [None, None, None, "ok"]
    assert formatted.errors == [
        CellError(0, "weird", "a dict value has no HubSpot property format"),
        CellError(1, "weird", "a time value has no HubSpot property format"),
        CellError(2, "weird", "a timedelta value has no HubSpot property format"),
    ]


def test_timedelta_dtype_is_reported() -> None:
    formatted = format_series(pd.Series(pd.to_timedelta(["1D", None])), column="age")
    assert formatted.values == [None, None]
    assert [e.position for e in formatted.errors] == [0]


def test_series_name_used_when_no_column_given() -> None:
    formatted = format_series(pd.Series([np.inf], name="amount"))
    assert formatted.errors[0].column == "amount"


def test_format_value_scalars() -> None:
    assert format_value(None) is None
    assert format_value(42.0) == "42"
    assert format_value(np.int64(7)) == "7"
    assert format_value([]) is None
    with pytest.raises(ValueError, match="inf is not a valid HubSpot number"):
        format_value(float("inf"))


def test_index_is_ignored() -> None:
    series = pd.Series([1.5, np.inf], index=["z", "y"])
    formatted = format_series(series, column="c")
    assert formatted.values == ["1.5", None]
    assert formatted.errors[0].position == 1


def test_non_ascii_cells_are_sent_as_new_equal_strings_so_encoding_leaves_the_frame_as_it_was() -> None:
    from hubspot_loader.core.inputs import iter_prepared
    from hubspot_loader.http.client import encode_body

    names = ["".join(["Zoë", str(i)]) for i in range(50)] + ["plain", None, "日本"]
    df = pd.DataFrame({"name": names, "city": pd.Series(["Köln"] * 53, dtype="string")})
    sizes = [sys.getsizeof(s) for s in df["name"]] + [sys.getsizeof(s) for s in df["city"]]
    chunks = list(iter_prepared(df, properties={"name": "firstname", "city": "city"}, chunk_rows=20))
    inputs = [i for c in chunks for i in c.inputs]
    assert [i.properties.get("firstname") for i in inputs] == names
    assert inputs[0].properties["firstname"] is not names[0]  # an equal copy
    body = encode_body({"inputs": [i.payload() for i in inputs]})
    assert "Zoë7".encode() in body and "日本".encode() in body
    assert [sys.getsizeof(s) for s in df["name"]] + [sys.getsizeof(s) for s in df["city"]] == sizes


def test_lone_surrogates_are_invalid_cells_not_a_failed_request() -> None:
    series = pd.Series(["ok", "bad\ud800", None, "fine é"])
    formatted = format_series(series, column="note")
    assert formatted.values == ["ok", None, None, "fine é"]
    assert [(e.position, e.column) for e in formatted.errors] == [(1, "note")]
    assert "lone surrogate" in formatted.errors[0].reason
    pair = format_series(pd.Series(["smile \ud83d\ude00", "x"]), column="emoji")  # a UTF-16 pair: one emoji
    assert pair.values == ["smile 😀", "x"] and pair.errors == []
    nul = format_series(pd.Series(["a\x00é", "b\ud800", "ok"]), column="nul")  # the cell-by-cell path
    assert nul.values == ["a\x00é", None, "ok"] and [e.position for e in nul.errors] == [1]
    mixed = format_series(pd.Series(["x\udfff", 3]), column="mixed")
    assert mixed.values == [None, "3"] and "lone surrogate" in mixed.errors[0].reason


def test_text_columns_are_checked_a_slice_at_a_time_with_positions_kept(monkeypatch) -> None:
    """The joined-text check runs a slice at a time; each invalid cell keeps its own position."""
    from hubspot_loader.core import text_cells

    monkeypatch.setattr(text_cells, "TEXT_SLICE_CELLS", 3)
    cells = ["a", "b\ud800", None, "ascii", "x" * 70_000, "é1", "", "ü\ud801", "z", "\ud83d\ude00"]
    formatted = format_series(pd.Series(cells, dtype=object), column="t")
    assert formatted.values == ["a", None, None, "ascii", None, "é1", "", None, "z", "😀"]
    assert [e.position for e in formatted.errors] == [1, 7, 4]  # surrogates slice by slice, then the long one
    assert formatted.values[5] is not cells[5]  # non-ASCII text is an equal new str in every slice


def test_response_bodies_parse_from_bytes_with_fallbacks() -> None:
    from hubspot_loader.errors import parse_body

    assert parse_body(b'{"results": [{"id": "1", "name": "Zo\xc3\xab"}]}') == {
        "results": [{"id": "1", "name": "Zoë"}]
    }
    assert parse_body(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    assert parse_body(b"<html>Bad Gateway</html>") == "<html>Bad Gateway</html>"
    assert parse_body(b"") is None and parse_body('{"a": 1}') == {"a": 1}


def test_a_value_without_a_json_form_fails_only_its_row() -> None:
    from hubspot_loader.core.model import BatchRecord, PreparedInput
    from hubspot_loader.http.batch_state import BatchState, drop_unencodable

    good = PreparedInput(0, "a", "a", {"name": "x"})
    bad = PreparedInput(
        1, "b", "b", {"name": "y"}, [{"to": {"id": "1"}, "types": [{"associationTypeId": 2**70}]}]
    )
    batch = BatchState(index=0, record=BatchRecord(index=0, rows=2))
    assert drop_unencodable(batch, [good, bad]) == [good]
    outcome = batch.outcomes["b"]
    assert (
        outcome.status == "failed" and outcome.error is not None and "no JSON form" in outcome.error.message
    )
