"""Per-property fingerprints of converted chunks (hubspot_loader.core.fingerprints), by property tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.fingerprints import (
    DIGEST_PREFIX,
    NULL_HASH,
    ChunkPrints,
    hash_texts,
    parse_association,
)
from hubspot_loader.core.inputs import iter_prepared
from hubspot_loader.core.model import ResolvedAssociation

REPO_ROOT = Path(__file__).resolve().parents[2]
PROPS = ("email", "firstname", "phone")

#: cells that are easily equal by chance (so both branches of "equal iff" are exercised), and any text
cells = st.one_of(st.none(), st.sampled_from(["", "a", "None", "nan", "null", " a"]), st.text(max_size=12))
rows_of = st.lists(cells, min_size=len(PROPS), max_size=len(PROPS))


@st.composite
def row_pairs(draw: st.DrawFn) -> tuple[list[str | None], list[str | None]]:
    """A row and another that equals it, or differs from it in some cells (often none, one or all)."""
    a = draw(rows_of)
    replaced = draw(st.lists(st.booleans(), min_size=len(PROPS), max_size=len(PROPS)))
    b = [draw(cells) if r else x for x, r in zip(a, replaced, strict=True)]
    return a, b


def link(target: str, type_id: int = 279, category: str = "HUBSPOT_DEFINED") -> dict[str, object]:
    return {"to": {"id": target}, "types": [{"associationCategory": category, "associationTypeId": type_id}]}


def prints_of(
    *rows: list[str | None], props: tuple[str, ...] = PROPS, base: int = 0, links: dict | None = None
) -> ChunkPrints:
    columns = [[row[j] for row in rows] for j in range(len(props))]
    return ChunkPrints(base, len(rows), props, columns, links)


@settings(max_examples=300)
@given(row_pairs())
def test_digests_are_equal_exactly_when_every_value_is(pair: tuple[list[str | None], ...]) -> None:
    a, b = pair
    prints = prints_of(a, b)
    assert (prints.digest(0) == prints.digest(1)) == (a == b)
    assert prints.digest(0).startswith(DIGEST_PREFIX) and len(prints.digest(0)) == len(DIGEST_PREFIX) + 16


@settings(max_examples=300)
@given(row_pairs())
def test_changed_properties_are_exactly_the_columns_that_differ(pair: tuple[list[str | None], ...]) -> None:
    a, b = pair
    prints = prints_of(a, b)
    stored = prints.record(0, [])
    assert prints.changed_properties(1, stored) == {p for p, x, y in zip(PROPS, a, b, strict=True) if x != y}
    assert prints.changed_properties(0, stored) == frozenset()  # the round trip: nothing changed


@settings(max_examples=200)
@given(rows_of)
def test_a_record_read_back_by_a_later_chunk_finds_nothing_changed(row: list[str | None]) -> None:
    first = prints_of(row, base=0)
    later = prints_of(["x", "y", "z"], row, base=5000)  # another chunk, another position
    stored = first.record(0, [link("1")])
    assert later.changed_properties(5001, stored) == frozenset()
    assert later.association_changes(5001, [link("1")], stored) == ([], [])
    assert later.digest(5001) == first.digest(0)
    json.loads(stored)  # valid JSON, whatever the values


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.sampled_from(["HUBSPOT_DEFINED", "USER_DEFINED"]), st.integers(1, 500),
                       st.text(min_size=1, max_size=8)), max_size=6),
    st.randoms(use_true_random=False),
)  # fmt: skip
def test_association_order_and_repeats_do_not_matter(targets: list[tuple[str, int, str]], rnd) -> None:
    links = [link(to, type_id, category) for category, type_id, to in targets]
    shuffled = links + links[:1]  # one repeated
    rnd.shuffle(shuffled)
    row = ["a@x.io", None, ""]
    prints = prints_of(row, row, links={0: links, 1: shuffled})
    assert prints.digest(0) == prints.digest(1)
    assert prints.record(0, links) == prints.record(1, shuffled)
    record = json.loads(prints.record(0, links))
    stored = {f"{c}/{t}/{to}" for c, t, to in targets}
    assert set(record.get("a", [])) == stored and record.get("a", []) == sorted(record.get("a", []))
    assert sorted(parse_association(s) for s in stored) == sorted(set(targets))


def test_associations_change_the_digest_and_their_changes_are_found() -> None:
    row = ["a@x.io", "Ann", None]
    prints = prints_of(row, row, row, links={1: [link("101")], 2: [link("101"), link("102")]})
    assert len({prints.digest(0), prints.digest(1), prints.digest(2)}) == 3
    stored = prints.record(1, [link("101")])
    assert prints.changed_properties(2, stored) == frozenset()  # only the associations changed
    assert prints.association_changes(2, [link("101"), link("102")], stored) == ([link("102")], [])
    assert prints.association_changes(0, [], stored) == ([], [("HUBSPOT_DEFINED", 279, "101")])
    # the target id keeps any text after the second slash
    odd = prints.record(0, [link("a/b", 5, "USER_DEFINED")])
    assert prints.association_changes(0, [], odd) == ([], [("USER_DEFINED", 5, "a/b")])


def test_without_a_readable_record_every_property_and_association_counts_as_new() -> None:
    prints = prints_of(["a", None, ""])
    sha256 = hashlib.sha256(b"{}").hexdigest()  # what an older loader stored in content_hash
    assert prints.digest(0) != sha256
    for stored in (None, "", sha256, "{not json", "[1]", '{"v":2,"p":{}}', '{"v":1,"p":[]}', '{"v":1}'):
        assert prints.changed_properties(0, stored) is None, stored
        assert prints.association_changes(0, [link("7")], stored) == ([link("7")], []), stored


def test_null_differs_from_empty_text_and_from_the_text_none() -> None:
    hashed = hash_texts([None, "", "None", "nan", None])
    assert hashed[0] == hashed[4] == NULL_HASH
    assert len(set(hashed[:4].tolist())) == 4
    prints = prints_of([None, "x", "y"], ["", "x", "y"], ["None", "x", "y"])
    assert len({prints.digest(0), prints.digest(1), prints.digest(2)}) == 3
    assert json.loads(prints.record(0, []))["p"] == {
        "email": None,
        "firstname": prints.value_hashes(0)["firstname"],
        "phone": prints.value_hashes(0)["phone"],
    }
    assert prints.changed_properties(1, prints.record(0, [])) == {"email"}


def test_a_property_new_to_the_record_counts_as_changed_and_one_no_longer_sent_does_not() -> None:
    prints = prints_of(["a", "b", "c"])
    stored = json.loads(prints.record(0, []))
    del stored["p"]["phone"]
    stored["p"]["retired"] = "0123456789abcdef"
    assert prints.changed_properties(0, json.dumps(stored)) == {"phone"}


def test_values_swapped_between_properties_and_reordered_properties() -> None:
    swapped = prints_of(["a", "b", None], ["b", "a", None])
    assert swapped.digest(0) != swapped.digest(1)
    reordered = prints_of(["b", "a", None], props=("firstname", "email", "phone"))
    assert reordered.digest(0) == swapped.digest(0)  # the mapping's order changes nothing
    assert reordered.changed_properties(0, swapped.record(0, [])) == frozenset()


def test_text_without_a_utf8_form_is_hashed_too() -> None:
    hashed = hash_texts(["\ud800", "\udc00", "a"])
    assert len(set(hashed.tolist())) == 3


def test_digests_are_the_same_in_every_process_whatever_its_hash_seed() -> None:
    code = (
        "from hubspot_loader.core.fingerprints import ChunkPrints as P\n"
        "p = P(0, 1, ['email', 'n'], [['a@x.io'], [None]], {0: [{'to': {'id': '9'}, 'types': "
        "[{'associationCategory': 'HUBSPOT_DEFINED', 'associationTypeId': 279}]}]})\n"
        "print(p.digest(0), p.record(0, []))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO_ROOT)}
        command = [sys.executable, "-c", code]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        outputs.add(done.stdout.strip())
    here = prints_of(["a@x.io", None], props=("email", "n"), links={0: [link("9")]})
    assert outputs == {f"{here.digest(0)} {here.record(0, [])}"}
    # pinned: a change of the scheme (or of pandas' SipHash) must be a deliberate, versioned one
    assert here.digest(0) == "fp1:1a4e285ed246fbed"
    assert here.record(0, []) == '{"v":1,"p":{"email":"22d21fb62a473bbb","n":null}}'


def test_chunks_of_a_conversion_carry_prints_by_position_rejected_rows_included() -> None:
    company = ResolvedAssociation("company", "companies", 279, "HUBSPOT_DEFINED")
    df = pd.DataFrame(
        {
            "id": ["k0", "k1", "k2", "k3", "k4"],
            "email": ["a@x.io", "b@x.io", "bad", "a@x.io", None],
            "when": [pd.Timestamp("2026-01-01")] * 2 + [{"not": "a date"}] + [pd.Timestamp("2026-01-01")] * 2,
            "company": [None, "101", "5", None, ["7", "6"]],
        }
    )
    chunks = list(
        iter_prepared(
            df, properties={"email": "email", "when": "when"}, associations=[company], key_column="id",
            chunk_rows=3,
        )
    )  # fmt: skip
    assert all(c.prints is not None for c in chunks)
    first, second = chunks
    assert first.prints is not None and second.prints is not None
    assert [r.position for r in first.rejected] == [2]
    assert (first.prints.base, len(first.prints), second.prints.base, len(second.prints)) == (0, 3, 3, 2)
    assert first.prints.digest(0) == second.prints.digest(3)  # same values, no associations
    assert first.prints.digest(1) != second.prints.digest(4)
    assert first.prints.digests()[2] == first.prints.digest(2)  # the rejected row has one too
    item = second.inputs[1]
    assert json.loads(second.prints.record(item.position, item.associations))["a"] == [
        "HUBSPOT_DEFINED/279/6",
        "HUBSPOT_DEFINED/279/7",
    ]
    with pytest.raises(IndexError):
        first.prints.digest(3)
    plain = list(iter_prepared(df[["email"]].iloc[:2], properties={"email": "email"}))
    assert plain[0].prints is not None and plain[0].prints.changed_properties(
        1, plain[0].prints.record(0, [])
    ) == {"email"}


def test_columns_that_do_not_match_the_properties_are_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        ChunkPrints(0, 2, ("a",), [["x"]])
    with pytest.raises(ValueError, match="repeat"):
        ChunkPrints(0, 1, ("a", "a"), [["x"], ["y"]])
    empty = ChunkPrints(10, 2, (), [])
    assert empty.digest(10) == empty.digest(11) and empty.record(10, []) == '{"v":1,"p":{}}'


def test_property_names_of_any_text_survive_the_record() -> None:
    names = ('quo"te', "é", "back\\slash", "😀", "new\nline")
    prints = prints_of(["1", None, "3", "", "x"], props=names)
    stored = prints.record(0, [])
    assert list(json.loads(stored)["p"]) == list(names) and stored.isascii()
    assert prints.changed_properties(0, stored) == frozenset()
