"""RowOutcomes: the column-wise list of row outcomes behaves like a list of RowOutcome."""

from __future__ import annotations

import copy
import pickle
import random
from array import array

import pandas as pd
import pytest

from hubspot_loader.core.inputs import iter_prepared
from hubspot_loader.core.model import LoadResult, RowError, RowOutcome, RowOutcomes, decimal_int

ERROR = RowError("VALIDATION_ERROR", "bad email", code="INVALID_EMAIL", property="email", http_status=400)


def _rows() -> list[RowOutcome]:
    return [
        RowOutcome(key="5", position=5, status="created", hubspot_id="123", trace_id="5", batch_index=0),
        RowOutcome(key="abc", position=1, status="failed", error=ERROR, trace_id="abc", batch_index=3),
        RowOutcome(key="007", position=7, status="created", hubspot_id="0123", trace_id="row-7"),
        RowOutcome(key="-4", position=2, status="skipped", hubspot_id="x-1", trace_id="other"),
        RowOutcome(key="3", position=3, status="failed", error=RowError("Y", "n"), trace_id=None),
        RowOutcome(key="\uff19", position=0, status="created", hubspot_id="9" * 20, trace_id="row-0"),
        RowOutcome(key="0", position=4, status="planned", trace_id="0"),
    ]


def test_items_equal_what_was_stored() -> None:
    rows = _rows()
    stored = RowOutcomes(rows)
    assert len(stored) == len(rows)
    assert list(stored) == rows
    assert stored == rows and rows == stored
    assert stored[-1] == rows[-1] and stored[1:4] == rows[1:4]
    assert repr(stored) == repr(rows)
    assert rows[2] in stored and stored.index(rows[3]) == 3 and stored.count(rows[0]) == 1
    with pytest.raises(IndexError):
        stored[len(rows)]


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


def test_mutations_match_a_list() -> None:
    rows = _rows()
    for change in (
        lambda x: x.__delitem__(1),
        lambda x: x.__delitem__(slice(1, 4)),
        lambda x: x.insert(2, rows[0]),
        lambda x: x.__setitem__(3, rows[1]),
        lambda x: x.__setitem__(slice(1, 3), rows[4:]),
        lambda x: x.pop(),
        lambda x: x.reverse(),
        lambda x: x.sort(key=lambda r: r.position),
        lambda x: x.sort(key=lambda r: r.status, reverse=True),
        lambda x: x.extend(rows[:2]),
        lambda x: x.clear(),
    ):
        expected, stored = list(rows), RowOutcomes(rows)
        change(expected)
        change(stored)
        assert stored == expected
    assert RowOutcomes(rows) + rows[:2] == rows + rows[:2]
    assert rows[:2] + RowOutcomes(rows) == rows[:2] + rows


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
    assert stored == sorted(rows, key=lambda r: r.position)
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


def test_copies_and_pickles() -> None:
    stored = RowOutcomes(_rows())
    assert pickle.loads(pickle.dumps(stored)) == _rows()
    assert copy.deepcopy(stored) == _rows()
    assert stored.copy() == _rows()


def test_load_result_figures_match_a_plain_list() -> None:
    compact = LoadResult("contacts", rows=RowOutcomes(_rows()))
    plain = LoadResult("contacts", rows=_rows())
    assert compact.id_map == plain.id_map
    assert compact.rows_created == plain.rows_created == 3
    assert compact.rows_failed == plain.rows_failed == 2
    assert compact.failed_rows == plain.failed_rows
    assert LoadResult("contacts").rows == [] and LoadResult("contacts").rows_created == 0


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
        stored = RowOutcomes(rows)
        stored.insert(at, row)
        rows.insert(at, row)
        assert stored == rows and stored[at].batch_index == row.batch_index
        stored.append(RowOutcome(key="z", position=9, status="planned"))
        assert stored[-1].batch_index is None and stored[at] == row
        stored[1] = row
        rows.append(RowOutcome(key="z", position=9, status="planned"))
        rows[1] = row
        assert stored == rows
        stored.sort_by_position()
        rows.sort(key=lambda r: r.position)
        assert stored == rows and pickle.loads(pickle.dumps(stored)) == rows


def test_changes_during_iteration_are_seen_as_with_a_list() -> None:
    def row(p: int) -> RowOutcome:
        return RowOutcome(key=str(p), position=p, status="created", hubspot_id=str(p + 10), trace_id=str(p))

    for change in (
        lambda x, i: x.__setitem__(1, row(99)) if i == 0 else None,
        lambda x, i: x.__delitem__(2) if i == 1 else None,
        lambda x, i: x.append(row(7)) if i == 5 else None,
        lambda x, i: x.insert(0, row(50)) if i == 2 else None,
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


def test_extend_keeps_the_rows_before_a_bad_one_and_copies_are_independent() -> None:
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
    shallow = copy.copy(stored)
    shallow.append(rows[4])
    assert len(shallow) == len(stored) + 1
    none_key = RowOutcomes([RowOutcome(key=None, position=0, status="created", hubspot_id="5")])  # type: ignore[arg-type]
    assert list(none_key.key_ids()) == [(None, "5")]
