import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core import formatting, inputs
from hubspot_loader.core.inputs import PreparedChunk, iter_prepared
from hubspot_loader.core.model import (
    FAILED,
    INVALID_VALUE,
    UNRESOLVED_ASSOCIATION,
    PreparedInput,
    ResolvedAssociation,
    RowError,
    RowOutcome,
)

COMPANY = ResolvedAssociation("company", "companies", 279, "HUBSPOT_DEFINED")


def link(target: str, type_id: int = 279, category: str = "HUBSPOT_DEFINED") -> dict[str, object]:
    return {"to": {"id": target}, "types": [{"associationCategory": category, "associationTypeId": type_id}]}


def collect(chunks: object) -> PreparedChunk:
    out = PreparedChunk()
    for chunk in chunks:  # type: ignore[attr-defined]
        out.inputs.extend(chunk.inputs)
        out.rejected.extend(chunk.rejected)
    return out


def test_properties_mapped_and_nulls_omitted_without_key_column() -> None:
    df = pd.DataFrame({"mail": ["a@x.io", None], "n": pd.Series([42, None], dtype="Int64")})
    result = collect(iter_prepared(df, properties={"mail": "email", "n": "count"}))
    assert result.rejected == []
    assert result.inputs == [
        PreparedInput(0, "0", "row-0", {"email": "a@x.io", "count": "42"}),
        PreparedInput(1, "1", "row-1", {}),
    ]
    assert result.inputs[1].payload() == {"objectWriteTraceId": "row-1", "properties": {}}


def test_key_column_gives_key_and_trace_id() -> None:
    df = pd.DataFrame({"id": [7.0, 8.0], "email": ["a@x.io", "b@x.io"]}, index=["p", "q"])
    result = collect(iter_prepared(df, properties={"email": "email"}, key_column="id"))
    assert [(i.position, i.key, i.trace_id) for i in result.inputs] == [(0, "7", "7"), (1, "8", "8")]


def test_duplicate_and_null_keys_raise_before_anything() -> None:
    df = pd.DataFrame({"id": ["a", "b", None, "a", "b", "c"], "x": range(6)})
    with pytest.raises(ValueError) as info:
        iter_prepared(df, properties={"x": "x"}, key_column="id")
    assert str(info.value) == (
        "key column 'id' must be unique and non-null: 1 null key(s) at positions [2]; "
        "2 duplicate key(s): 'a' at positions [0, 3]; 'b' at positions [1, 4]"
    )


def test_keys_equal_after_formatting_are_duplicates() -> None:
    df = pd.DataFrame({"id": [1, "1"], "x": [1, 2]})
    with pytest.raises(ValueError, match="'1' at positions \\[0, 1\\]"):
        iter_prepared(df, properties={"x": "x"}, key_column="id")


def test_missing_column_and_property_clash() -> None:
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(KeyError, match="columns \\['zz'\\] are not in the frame"):
        iter_prepared(df, properties={"zz": "z"})
    with pytest.raises(ValueError, match="columns 'a' and 'b' both map to property 'p'"):
        iter_prepared(df, properties={"a": "p", "b": "p"})


def test_chunks_are_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = formatting.format_series

    def counting(series: pd.Series, **kwargs: object) -> formatting.FormattedColumn:
        calls.append(len(series))
        return real(series, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inputs, "format_series", counting)
    df = pd.DataFrame({"a": range(100), "b": [f"s{i}" for i in range(100)]})
    chunks = iter_prepared(df, properties={"a": "a", "b": "b"}, chunk_rows=10)
    assert calls == []
    first = next(chunks)
    assert [i.position for i in first.inputs] == list(range(10))
    assert calls == [10, 10]
    rest = list(chunks)
    assert len(rest) == 9
    assert rest[-1].inputs[-1].properties == {"a": "99", "b": "s99"}


def test_start_position_offsets_positions_and_default_keys() -> None:
    df = pd.DataFrame({"a": [1, 2, 3]})
    result = collect(iter_prepared(df, properties={"a": "a"}, chunk_rows=2, start_position=100))
    assert [(i.position, i.key, i.trace_id) for i in result.inputs] == [
        (100, "100", "row-100"),
        (101, "101", "row-101"),
        (102, "102", "row-102"),
    ]


def test_invalid_cell_rejects_the_row_with_every_reason() -> None:
    df = pd.DataFrame({"id": ["k0", "k1"], "score": [1.5, np.inf], "tags": [["a"], ["b;c"]]})
    result = collect(iter_prepared(df, properties={"score": "score", "tags": "tags"}, key_column="id"))
    assert [i.key for i in result.inputs] == ["k0"]
    assert result.rejected == [
        RowOutcome(
            key="k1",
            position=1,
            status=FAILED,
            error=RowError(
                category=INVALID_VALUE,
                message="column 'score': inf is not a valid HubSpot number (infinite); "
                "column 'tags': list element 'b;c' contains ';', the multi-checkbox separator",
                property="score",
            ),
            trace_id="k1",
        )
    ]


def test_associations_scalar_list_null_and_dedup() -> None:
    df = pd.DataFrame({"company": [101, None, [5, 6, 5], []], "x": ["a", "b", "c", "d"]})
    assoc = ResolvedAssociation("company", "companies", 279, "HUBSPOT_DEFINED")
    result = collect(iter_prepared(df, properties={"x": "x"}, associations=[assoc]))
    assert [i.associations for i in result.inputs] == [[link("101")], [], [link("5"), link("6")], []]
    assert "associations" not in result.inputs[1].payload()


def test_float_id_column_sent_as_integer_strings() -> None:
    df = pd.DataFrame({"company": [101.0, np.nan], "x": ["a", "b"]})
    result = collect(iter_prepared(df, properties={"x": "x"}, associations=[COMPANY]))
    assert [i.associations for i in result.inputs] == [[link("101")], []]


def test_id_map_translates_and_unresolved_rejects_whole_row() -> None:
    id_map = {"c1": "9001", "c2": "9002"}
    assoc = ResolvedAssociation("company_key", "companies", 279, "HUBSPOT_DEFINED", id_map)
    df = pd.DataFrame(
        {"id": ["a", "b", "c"], "company_key": ["c1", ["c2", "c404"], ["c1", "c2"]], "x": [1, 2, 3]}
    )
    result = collect(iter_prepared(df, properties={"x": "x"}, associations=[assoc], key_column="id"))
    assert [(i.key, i.associations) for i in result.inputs] == [
        ("a", [link("9001")]),
        ("c", [link("9001"), link("9002")]),
    ]
    assert result.rejected == [
        RowOutcome(
            key="b",
            position=1,
            status=FAILED,
            error=RowError(
                category=UNRESOLVED_ASSOCIATION,
                message="column 'company_key': no companies record with warehouse key 'c404' in the id "
                "map (not loaded, or it failed)",
                property="company_key",
            ),
            trace_id="b",
        )
    ]


def test_two_association_columns_merge_and_dedupe() -> None:
    primary = ResolvedAssociation("primary", "companies", 1, "HUBSPOT_DEFINED")
    df = pd.DataFrame({"company": [5, 5], "primary": [5, None], "x": [1, 2]})
    result = collect(iter_prepared(df, properties={"x": "x"}, associations=[COMPANY, primary, COMPANY]))
    assert result.inputs[0].associations == [link("5"), link("5", type_id=1)]
    assert result.inputs[1].associations == [link("5")]


def test_every_row_accounted_for_and_json_serializable() -> None:
    rng = np.random.default_rng(1)
    n = 2_345
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "v": np.where(rng.random(n) < 0.1, np.inf, rng.random(n)),
            "s": pd.Series([f"é{i}" for i in range(n)], dtype="string"),
            "t": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
        }
    )
    result = collect(
        iter_prepared(df, properties={"v": "v", "s": "s", "t": "t"}, key_column="id", chunk_rows=500)
    )
    positions = sorted([i.position for i in result.inputs] + [r.position for r in result.rejected])
    assert positions == list(range(n))
    assert len(result.rejected) == int(np.isinf(df["v"]).sum())
    body = json.dumps({"inputs": [i.payload() for i in result.inputs[:3]]}, ensure_ascii=False)
    assert '"t": "2026-01-01T00:00:00.000Z"' in body
    assert all(isinstance(v, str) for i in result.inputs for v in i.properties.values())


def test_chunk_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_rows must be at least 1, got 0"):
        iter_prepared(pd.DataFrame({"a": [1]}), properties={"a": "a"}, chunk_rows=0)


def test_empty_frame_yields_nothing() -> None:
    assert list(iter_prepared(pd.DataFrame({"a": []}), properties={"a": "a"})) == []


def test_row_dicts_keep_any_property_name_exactly() -> None:
    """Property names are data, not code: quotes, backslashes, braces and non-ASCII arrive as given."""
    names = ["a'b", 'c"d', "e\\f", "}{", "ü", "x\ny", "__import__('os')", "v0"]
    df = pd.DataFrame({f"col{i}": [f"value {i}", None] for i in range(len(names))})
    properties = {f"col{i}": name for i, name in enumerate(names)}
    chunk = next(iter_prepared(df, properties=properties))
    first, second = (item.properties for item in chunk.inputs)
    assert first == {name: f"value {i}" for i, name in enumerate(names)}
    assert list(first) == names and second == {}


class _Colliding(str):
    """A text whose hash is always 7: every key collides, so only the exact comparison can tell."""

    __slots__ = ()

    def __hash__(self) -> int:
        return 7


def test_repeated_keys_are_found_exactly_when_hashes_collide() -> None:
    distinct = [_Colliding(t) for t in ("a", "b", "c", "d")]
    assert inputs._has_repeats(distinct) is False
    assert inputs._has_repeats([*distinct, _Colliding("c")]) is True
    assert inputs._has_repeats(["x"]) is False and inputs._has_repeats([]) is False


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=3), max_size=40))
def test_repeated_keys_check_agrees_with_a_set(keys: list[str]) -> None:
    assert inputs._has_repeats(keys) is (len(set(keys)) < len(keys))
