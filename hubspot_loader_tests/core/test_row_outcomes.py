"""RowOutcomes: the append-only column store of row outcomes gives back exactly the rows it was given.

The store is used through a real load in ``hubspot_loader_tests/loader/test_row_store_in_a_load.py``; here
it is tested on its own, against a plain list of the same rows as the model.
"""

from __future__ import annotations

import copy
import pickle
import random
from array import array
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core import row_codes
from hubspot_loader.core.inputs import iter_prepared
from hubspot_loader.core.model import LoadResult, RowError, RowOutcome, RowOutcomes, decimal_int
from hubspot_loader.core.row_store import FRAME_COLUMNS

ERROR = RowError("VALIDATION_ERROR", "bad email", code="INVALID_EMAIL", property="email", http_status=400)


def _rows() -> list[RowOutcome]:
    return [
        RowOutcome(key="5", position=5, status="created", hubspot_id="123", trace_id="5", batch_index=0),
        RowOutcome(key="abc", position=1, status="failed", error=ERROR, trace_id="abc", batch_index=3),
        RowOutcome(key="007", position=7, status="created", hubspot_id="0123", trace_id="row-7"),
        RowOutcome(key="-4", position=2, status="skipped", hubspot_id="x-1", trace_id="other"),
        RowOutcome(key="3", position=3, status="failed", error=RowError("Y", "n"), trace_id=None),
        RowOutcome(key="\uff19", position=0, status="created", hubspot_id="9" * 20, trace_id="row-0"),
        RowOutcome(key="0", position=4, status="planned", trace_id="0", batch_index=-3),
    ]


def _records(rows: list[RowOutcome]) -> list[dict[str, object]]:
    """What ``to_frame`` must hold for ``rows``, built from the row objects (nulls as ``None``)."""
    return [
        {
            "key": r.key,
            "position": r.position,
            "status": r.status,
            "hubspot_id": r.hubspot_id,
            "category": r.error.category if r.error else None,
            "code": r.error.code if r.error else None,
            "property": r.error.property if r.error else None,
            "message": r.error.message if r.error else None,
            "http_status": r.error.http_status if r.error else None,
            "trace_id": r.trace_id,
            "batch_index": r.batch_index,
        }
        for r in rows
    ]


def _frame_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(plain.columns, values, strict=True)) for values in plain.itertuples(index=False)]


def test_items_equal_what_was_stored() -> None:
    rows = _rows()
    stored = RowOutcomes(rows)
    assert len(stored) == len(rows)
    assert list(stored) == rows
    assert stored == rows and rows == stored and stored != rows[:-1]
    assert [stored[i] for i in range(len(rows))] == rows and stored[-1] == rows[-1] and stored[-7] == rows[0]
    for out_of_range in (len(rows), -len(rows) - 1):
        with pytest.raises(IndexError):
            stored[out_of_range]
    assert repr(stored) == "RowOutcomes(7 rows: created=3, failed=2, skipped=1, planned=1)"
    assert repr(RowOutcomes()) == "RowOutcomes(0 rows)"


def test_only_the_append_only_surface_is_offered() -> None:
    stored = RowOutcomes(_rows())
    unused = ("__setitem__", "__delitem__", "insert", "pop", "remove", "reverse", "sort", "clear", "__add__")
    for name in unused:
        assert not hasattr(stored, name), name
    with pytest.raises(TypeError):
        stored[1:3]  # type: ignore[call-overload]


def test_errors_shared_and_trace_id_is_the_key_object() -> None:
    same = RowError("NOT_SENT", "not sent")
    stored = RowOutcomes(
        RowOutcome(
            key=f"k{i}", position=i, status="failed", error=RowError("NOT_SENT", "not sent"), trace_id=f"k{i}"
        )
        for i in range(3)
    )
    first, second = stored[0], stored[1]
    assert first.error == same and first.error is second.error
    assert first.trace_id is first.key


def test_counts_filters_positions_and_key_ids_match_the_rows() -> None:
    rows = _rows()
    stored = RowOutcomes(rows)
    assert stored.status_counts() == {"created": 3, "failed": 2, "skipped": 1, "planned": 1}
    assert list(stored.status_counts()) == ["created", "failed", "skipped", "planned"]  # first appearance
    assert [stored.status_count(s) for s in ("created", "failed", "reconciled")] == [3, 2, 0]
    assert stored.with_status("failed") == [rows[1], rows[4]] and stored.with_status("reconciled") == []
    assert list(stored.positions()) == [5, 1, 7, 2, 3, 0, 4]
    assert list(stored.key_ids()) == [("5", "123"), ("007", "0123"), ("-4", "x-1"), ("\uff19", "9" * 20)]
    empty = RowOutcomes()
    assert empty.status_counts() == {} and empty.status_count("created") == 0 and empty.with_status("x") == []


def test_to_frame_holds_every_field_of_every_row_in_order() -> None:
    rows = _rows()
    frame = RowOutcomes(rows).to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS and list(frame.index) == list(range(len(rows)))
    assert _frame_records(frame) == _records(rows)
    assert frame["position"].dtype == "int64"
    assert frame["http_status"].dtype == "Int64" and frame["batch_index"].dtype == "Int64"
    assert frame["trace_id"][0] is frame["key"][0]  # a trace id that repeats the key is that key
    empty = RowOutcomes().to_frame()
    assert tuple(empty.columns) == FRAME_COLUMNS and len(empty) == 0


def test_sort_by_position_is_a_stable_sort() -> None:
    rng = random.Random(3)
    rows = [
        RowOutcome(
            key=rng.choice(["a", "7", f"x{i}"]),
            position=rng.randrange(40),
            status=rng.choice(["created", "failed"]),
            hubspot_id=rng.choice([None, "5", "q"]),
            trace_id=rng.choice([None, "t", "row-3"]),
            batch_index=rng.choice([None, 0, 9]),
        )
        for i in range(500)
    ]
    stored = RowOutcomes(rows)
    stored.sort_by_position()
    expected = sorted(rows, key=lambda r: r.position)
    assert stored == expected
    assert _frame_records(stored.to_frame()) == _records(expected)
    stored.append(rows[0])  # the columns can still grow after sorting in place
    assert stored[-1] == rows[0]


def test_many_numeric_rows_iterate_whole_blocks_and_sort_without_argsort() -> None:
    n = 10_000  # more than one iteration block, and no text column at all
    rng = random.Random(5)
    positions = list(range(100, 100 + n))
    rng.shuffle(positions)
    rows = [
        RowOutcome(
            key=str(p * 3),
            position=p,
            status="created",
            hubspot_id=str(10**11 + p),
            trace_id=str(p * 3),
            batch_index=i // 100,
        )
        for i, p in enumerate(positions)
    ]
    stored = RowOutcomes()
    stored.reserve(n)
    for start in range(0, n, 100):
        stored.extend(rows[start : start + 100])
    assert list(stored) == rows and len(list(stored)) == n
    assert dict(stored.key_ids()) == {r.key: r.hubspot_id for r in rows}
    stored.sort_by_position()
    assert stored == sorted(rows, key=lambda r: r.position)
    # with a repeated position the range shortcut does not apply: a stable argsort still orders them
    stored.append(RowOutcome(key="x", position=150, status="failed"))
    stored.append(RowOutcome(key="y", position=100, status="failed"))
    stored.sort_by_position()
    expected = sorted(
        [
            *rows,
            RowOutcome(key="x", position=150, status="failed"),
            RowOutcome(key="y", position=100, status="failed"),
        ],
        key=lambda r: r.position,
    )
    assert stored == expected
    assert stored.with_status("failed") == [r for r in expected if r.status == "failed"]
    assert stored.status_counts() == {"created": n, "failed": 2}


_KEYS = st.one_of(
    st.sampled_from(["0", "7", "007", "-4", "abc", "\uff19", "9" * 18, "9" * 19]), st.text(max_size=4)
)
_ROW = st.builds(
    RowOutcome,
    key=_KEYS,
    position=st.integers(-(2**40), 2**40) | st.integers(0, 30),
    status=st.sampled_from(["created", "failed", "skipped", "reconciled", "planned"]),
    hubspot_id=st.none() | _KEYS,
    error=st.none() | st.builds(RowError, st.sampled_from(["A", "B"]), st.sampled_from(["m", "n"])),
    trace_id=st.none() | _KEYS | st.just("row-3"),
    batch_index=st.none() | st.integers(-5, 2**33),
)


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.lists(_ROW, max_size=6), max_size=8), single=st.lists(st.booleans(), max_size=8))
def test_appends_and_extends_then_sort_behave_as_a_list_sorted_by_position(
    chunks: list[list[RowOutcome]], single: list[bool]
) -> None:
    stored, model = RowOutcomes(), []
    for i, chunk in enumerate(chunks):
        if i < len(single) and single[i]:
            for row in chunk:
                stored.append(row)
        else:
            stored.extend(chunk)
        model.extend(chunk)
    assert stored == model and len(stored) == len(model)
    assert stored.status_counts() == dict(Counter(r.status for r in model))
    assert list(stored.key_ids()) == [(r.key, r.hubspot_id) for r in model if r.hubspot_id is not None]
    stored.sort_by_position()
    model.sort(key=lambda r: r.position)
    assert list(stored) == model and list(stored.positions()) == [r.position for r in model]
    assert _frame_records(stored.to_frame()) == _records(model)
    assert stored.with_status("failed") == [r for r in model if r.status == "failed"]


_DECIDED = st.tuples(
    _KEYS,
    st.integers(-(2**40), 2**40) | st.integers(0, 30),
    st.none() | _KEYS | st.just("row-3"),
    st.none() | _KEYS,
)


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(_ROW, max_size=4),
    decided=st.lists(_DECIDED, max_size=8),
    status=st.sampled_from(["skipped", "unchanged", "created"]),
    traces_are_keys=st.booleans(),
)
def test_rows_added_column_by_column_equal_the_same_outcomes_added_as_rows(
    before: list[RowOutcome],
    decided: list[tuple[str, int, str | None, str | None]],
    status: str,
    traces_are_keys: bool,
) -> None:
    if traces_are_keys:  # a load with a key column: the trace id is the key itself
        decided = [(k, p, k, i) for k, p, _, i in decided]
    stored = RowOutcomes(before)
    keys, positions, traces, ids = (
        (list(column) for column in zip(*decided, strict=True)) if decided else ([],) * 4
    )
    stored.extend_decided(keys, positions, traces, status, ids)
    model = [*before]
    model += [
        RowOutcome(key=k, position=p, status=status, hubspot_id=i, trace_id=t) for k, p, t, i in decided
    ]
    assert stored == model and stored.status_counts() == dict(Counter(r.status for r in model))
    stored.sort_by_position()
    model.sort(key=lambda r: r.position)
    assert list(stored) == model and _frame_records(stored.to_frame()) == _records(model)


def test_many_rows_added_column_by_column_span_blocks_and_mix_codes() -> None:
    """Past one block of 4,096: numeric and text keys and ids, no id, traces of every kind."""
    keys = [str(i) if i % 3 else f"key-{i}" for i in range(9_000)]
    ids = [None if i % 7 == 0 else (str(10**17 + i) if i % 2 else f"0{i}") for i in range(9_000)]
    traces = [k if i % 5 else (f"row-{i}" if i % 2 else None) for i, k in enumerate(keys)]
    stored = RowOutcomes()
    stored.extend_decided(keys, list(range(9_000)), traces, "unchanged", ids)
    model = [
        RowOutcome(key=k, position=i, status="unchanged", hubspot_id=h, trace_id=t)
        for i, (k, h, t) in enumerate(zip(keys, ids, traces, strict=True))
    ]
    assert stored == model and _frame_records(stored.to_frame()) == _records(model)


def test_rows_added_column_by_column_need_columns_of_one_length() -> None:
    with pytest.raises(ValueError, match="same length"):
        RowOutcomes().extend_decided(["a", "b"], [0], ["a", "b"], "skipped", ["1", "2"])


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 300),
    lo=st.sampled_from([0, 1, -128, -(2**31), 2**31 - 5, 2**40]),
    seed=st.integers(0, 10_000),
    text=st.booleans(),
)
def test_rows_of_a_position_range_move_straight_to_their_slots(
    n: int, lo: int, seed: int, text: bool
) -> None:
    """A load's positions are a range: the sort moves each row to its slot (narrow and wide columns)."""
    rng = random.Random(seed)
    positions = list(range(lo, lo + n))
    rng.shuffle(positions)
    rows = [
        RowOutcome(
            key=f"k{p}" if text and i % 3 else str(abs(p)),
            position=p,
            status=rng.choice(["created", "failed"]),
            hubspot_id=rng.choice([None, str(10**12 + i), f"id-{i}"]),
            trace_id=rng.choice([None, f"row-{p}", "t"]),
            batch_index=rng.choice([None, i // 7, 2**35]),
        )
        for i, p in enumerate(positions)
    ]
    stored = RowOutcomes(rows)
    stored.sort_by_position()
    expected = sorted(rows, key=lambda r: r.position)
    assert list(stored) == expected and list(stored.positions()) == list(range(lo, lo + n))
    assert _frame_records(stored.to_frame()) == _records(expected)


def test_copies_and_pickles_are_independent() -> None:
    stored = RowOutcomes(_rows())
    assert pickle.loads(pickle.dumps(stored)) == _rows()
    assert copy.deepcopy(stored) == _rows()
    shallow = copy.copy(stored)
    shallow.append(RowOutcome(key="new text key", position=9, status="created", hubspot_id="x"))
    assert stored == _rows() and len(shallow) == len(stored) + 1 and shallow[-1].key == "new text key"


def test_load_result_figures_come_from_the_store_and_a_list_given_or_assigned_is_stored_as_one() -> None:
    rows = _rows()
    result = LoadResult("contacts", rows=rows)  # type: ignore[arg-type]
    assert isinstance(result.rows, RowOutcomes) and result.rows == rows
    assert result.id_map == {r.key: r.hubspot_id for r in rows if r.hubspot_id is not None}
    assert result.rows_created == 3 and result.count("created") == 3
    assert result.rows_failed == 2 and result.rows_skipped == 1 and result.rows_total == 7
    assert result.failed_rows == sorted((r for r in rows if r.status == "failed"), key=lambda r: r.position)
    assert LoadResult("contacts").rows == [] and LoadResult("contacts").rows_created == 0
    assert LoadResult("contacts").rows is not LoadResult("contacts").rows
    result.rows = sorted(rows, key=lambda r: r.position)  # type: ignore[assignment]
    assert isinstance(result.rows, RowOutcomes) and [r.position for r in result.rows] == [0, 1, 2, 3, 4, 5, 7]
    assert result.rows_failed == 2 and result.id_map == {r.key: r.hubspot_id for r in rows if r.hubspot_id}


def test_decimal_int_only_takes_strings_it_can_give_back() -> None:
    assert decimal_int("0") == 0 and decimal_int("42") == 42 and decimal_int("9" * 18) == int("9" * 18)
    for text in ("", "007", "-4", "+4", " 4", "\uff14", "9" * 19, "1e3", 42, None):
        assert decimal_int(text) is None


@pytest.mark.parametrize(
    "keys",
    [
        [3, 10, 0, 7],
        ["3", "10", "0", "7"],
        ["03", "10", "0", "7"],
        ["a", "10", "0", "7"],
        [3.0, 10.0, 0.0, 7.0],
    ],
)
def test_chunk_keys_are_the_formatted_keys(keys: list[object]) -> None:
    df = pd.DataFrame({"id": keys, "name": ["a", "b", "c", "d"]})
    chunks = list(iter_prepared(df, properties={"name": "name"}, key_column="id", chunk_rows=3))
    inputs = [item for chunk in chunks for item in chunk.inputs]
    expected = [str(k) if not isinstance(k, float) else str(int(k)) for k in keys]
    assert [item.key for item in inputs] == expected
    assert all(item.trace_id is item.key for item in inputs)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([3, 10, 0, 7]),
        pd.Series([0, 1, 2, 3]),
        pd.Series([5, 7, 999_999_999_999_999_999, 1], dtype="Int64"),
        pd.Series([5, 7, 9, 1], dtype="uint32"),
        pd.Series([-1, 7, 9, 1]),
        pd.Series([10**18, 7, 9, 1]),
        pd.Series([2**63 + 5, 7, 9, 1], dtype="uint64"),
    ],
)
def test_integer_key_column_gives_the_same_keys_as_the_general_path(column: pd.Series) -> None:
    from hubspot_loader.core import inputs

    df = pd.DataFrame({"id": column})
    fast = inputs._integer_keys(df["id"])
    general = inputs._compact(inputs._keys(df, "id", "UTC", 0))
    assert (fast is None) == (not isinstance(general, array))
    if fast is not None:
        assert fast == general
    chunks = list(iter_prepared(df, properties={}, key_column="id", chunk_rows=3))
    assert [i.key for c in chunks for i in c.inputs] == [str(v) for v in column.tolist()]


@pytest.mark.parametrize(
    "column",
    [pd.Series([1, 2, 1]), pd.Series([1, None, 2], dtype="Int64")],
)
def test_integer_key_column_with_duplicates_or_nulls_still_raises(column: pd.Series) -> None:
    df = pd.DataFrame({"id": column, "name": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="must be unique and non-null"):
        iter_prepared(df, properties={"name": "name"}, key_column="id")


@pytest.mark.parametrize("at", [0, 2])
def test_positions_and_batch_indexes_widen_past_32_bits(at: int) -> None:
    big = [
        RowOutcome(key="k", position=2**31, status="created", batch_index=-(2**31)),
        RowOutcome(key="m", position=-(2**31) - 1, status="failed", batch_index=2**40),
        RowOutcome(key="n", position=-(2**31), status="failed", batch_index=2**31 - 1),
    ]
    for row in big:
        rows = _rows()
        rows.insert(at, row)  # the wide row arrives first, or after narrow ones have been stored
        stored = RowOutcomes(rows[:at])
        stored.append(row)
        stored.extend(rows[at + 1 :])
        assert stored == rows and stored[at].batch_index == row.batch_index
        stored.append(RowOutcome(key="z", position=9, status="planned"))
        rows.append(RowOutcome(key="z", position=9, status="planned"))
        assert stored[-1].batch_index is None and stored[at] == row and stored == rows
        stored.sort_by_position()
        rows.sort(key=lambda r: r.position)
        assert stored == rows and pickle.loads(pickle.dumps(stored)) == rows
        assert _frame_records(stored.to_frame()) == _records(rows)
    with pytest.raises(OverflowError):
        RowOutcomes().append(RowOutcome(key="k", position=2**63, status="created"))


def test_rows_appended_or_a_sort_during_iteration_are_seen_as_with_a_list() -> None:
    def row(p: int) -> RowOutcome:
        return RowOutcome(key=str(p), position=p, status="created", hubspot_id=str(p + 10), trace_id=str(p))

    for change in (
        lambda x, i: x.append(row(7)) if i == 5 else None,
        lambda x, i: x.extend([row(8), row(9)]) if i == 0 else None,
    ):
        expected, stored = [row(p) for p in range(6)], RowOutcomes(row(p) for p in range(6))
        seen_list = []
        for i, item in enumerate(expected):
            seen_list.append(item.position)
            change(expected, i)
        seen = []
        for i, item in enumerate(stored):
            seen.append(item.position)
            change(stored, i)
        assert seen == seen_list and stored == expected
    shuffled = [row(p) for p in (3, 0, 5, 1, 4, 2)]
    expected, stored = list(shuffled), RowOutcomes(shuffled)
    sorts = ((expected, lambda: expected.sort(key=lambda r: r.position)), (stored, stored.sort_by_position))
    for target, sort in sorts:
        seen = []
        for i, item in enumerate(target):
            seen.append(item.position)
            if i == 1:
                sort()
        assert seen == [3, 0, 2, 3, 4, 5]


def test_extend_keeps_the_rows_before_a_bad_one() -> None:
    rows = _rows()
    stored = RowOutcomes()
    with pytest.raises(TypeError):  # a list would take it; the rows before it are kept either way
        stored.extend([*rows[:3], "not a row"])  # type: ignore[list-item]
    assert stored == rows[:3]

    def broken():  # type: ignore[no-untyped-def]
        yield rows[0]
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        stored.extend(broken())
    assert stored == [*rows[:3], rows[0]]
    stored.extend(stored)  # its own rows, once
    assert stored == [*rows[:3], rows[0]] * 2
    none_key = RowOutcomes([RowOutcome(key=None, position=0, status="created", hubspot_id="5")])  # type: ignore[arg-type]
    assert list(none_key.key_ids()) == [(None, "5")]


_DIGIT_TEXTS = st.text(alphabet="0123456789", max_size=20) | st.sampled_from(["00", "-1", "1a", "٣", " 1"])


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_DIGIT_TEXTS, max_size=12))
def test_codes_of_many_texts_equal_the_code_of_each(texts: list[str]) -> None:
    """Column by column (with its fast path for all canonical decimals) as one text at a time."""
    codes, kept = row_codes.text_codes(texts)
    one_by_one = [row_codes.text_code(text) for text in texts]
    assert codes.tolist() == [code for code, _ in one_by_one]
    assert (kept or [None] * len(texts)) == [text for _, text in one_by_one]


def test_ids_given_as_codes_are_stored_as_the_same_ids_given_as_text() -> None:
    as_text, as_codes = RowOutcomes(), RowOutcomes()
    ids = ["12", None, "0", "987654321098765432"]
    as_text.extend_decided(["a", "b", "c", "d"], [0, 1, 2, 3], ["a", "b", "c", "d"], "unchanged", ids)
    codes = np.array([12, row_codes.ID_NONE, 0, 987654321098765432], dtype=np.int64)
    as_codes.extend_decided(["a", "b", "c", "d"], [0, 1, 2, 3], ["a", "b", "c", "d"], "unchanged", codes)
    assert as_codes == as_text
    with pytest.raises(ValueError, match="ID_NONE"):
        RowOutcomes().extend_decided(["a"], [0], ["a"], "unchanged", np.array([row_codes.ID_TEXT]))
