"""The scanned brief table decides every row exactly as the lookup by key does (issue #13's diff at 1M rows).

A large sync reads the object type's briefs in one scan and matches them in arrays
(:mod:`hubspot_loader.state.brief_table`); these tests hold it to the per-key path on every kind of ledger
row: each status, ids that are and are not canonical decimals, digests equal to the row's, of another row,
of another form or missing, rows the chunk rejects, in create and upsert modes, incremental and full
refresh. Both paths run through the real SQLite ledger; the scan itself also on PostgreSQL.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_loader.core.inputs import PreparedChunk, iter_prepared
from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.plan import LoadPlan
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.preflight_step import _ledger_rows
from hubspot_loader.row_choice import rows_to_create
from hubspot_loader.state.brief_scan import SCAN_MIN_ROWS, SCAN_RATIO
from hubspot_loader.state.brief_table import CREATED as TABLE_CREATED
from hubspot_loader.state.brief_table import EXACT, OTHER, BriefTable, digest_values
from hubspot_loader.state.ledger import CREATED, FAILED, PendingRow, Settlement, SQLiteLedger, SqlLedger
from hubspot_loader.state.sync import LoadSync
from hubspot_loader.sync_step import SyncWrites

from .conftest import PORTAL

OBJECT_TYPE = "contacts"
PLAN = LoadPlan(OBJECT_TYPE, {"email": "email", "score": "score"}, (), "key")

_IDS = st.sampled_from([None, "", "0", "123", "98765432101234567", "007", "x9", "-4", "1234567890123456789"])
_DIGESTS = st.sampled_from(["same", "other", None, "", "FP1:00000000000000ab", "fp1:ABCDEF0123456789", "sha"])
_LEDGER_ROW = st.tuples(st.sampled_from(["created", "failed", "pending", "pending-with-id"]), _IDS, _DIGESTS)


def _chunks(df: pd.DataFrame, rows: int = 3) -> list[PreparedChunk]:
    return list(iter_prepared(df, properties=PLAN.properties, key_column="key", chunk_rows=rows))


def _frame(emails: list[str], bad: list[bool]) -> pd.DataFrame:
    scores = [float("inf") if b else float(i) for i, b in enumerate(bad)]  # inf: the row is rejected
    return pd.DataFrame({"key": [f"k{i}" for i in range(len(emails))], "email": emails, "score": scores})


def _fill(ledger: SqlLedger, df: pd.DataFrame, rows: dict[str, tuple[str, str | None, str | None]]) -> None:
    """Write each ledger row: status, id, and a digest equal to its frame row's (``same``) or as given."""
    chunk = _chunks(df, len(df))[0]
    assert chunk.prints is not None
    position = {key: i for i, key in enumerate(df["key"])}
    for key, (status, hubspot_id, digest) in rows.items():
        if digest == "same":
            digest = chunk.prints.digest(position[key]) if key in position else "fp1:0000000000000001"
        elif digest == "other":
            digest = "fp1:0123456789abcdef"
        elif digest == "sha":
            digest = "ab" * 32
        if status in ("created", "pending-with-id") and not hubspot_id:
            hubspot_id = "55"  # the ledger settles no row created without an id
        if status.startswith("pending"):
            if status == "pending-with-id":
                was = Settlement(key, CREATED, hubspot_id=hubspot_id)
                ledger.settle(PORTAL, OBJECT_TYPE, [was], run_id="r0")
            ledger.mark_pending(PORTAL, OBJECT_TYPE, [PendingRow(key, digest or "")], run_id="r1")
            continue
        settled = Settlement(
            key, CREATED if status == "created" else FAILED, hubspot_id=hubspot_id, content_hash=digest
        )
        ledger.settle(PORTAL, OBJECT_TYPE, [settled], run_id="r1")


def _decisions(ledger: SqlLedger, df: pd.DataFrame, write_mode: str, mode: str, rows: int) -> dict[str, Any]:
    """What one load's row choice decides for ``df``, with ``rows`` as the load's size (0: by key)."""
    spec = HubSpotLoadSpec(object_type=OBJECT_TYPE, key_column="key", write_mode=write_mode)  # type: ignore[arg-type]
    sync = LoadSync(ledger, PORTAL, OBJECT_TYPE, mode, "run", None, None, rows_expected=rows)  # type: ignore[arg-type]
    result = LoadResult(object_type=OBJECT_TYPE)
    writes = SyncWrites(spec, PLAN, sync, result, full_refresh=mode == "full_refresh")
    chosen = writes if write_mode != "create" else None
    sent = []
    # online preflight first, as a load runs it: the rows it skips as created, the entries it reads
    created, entries = _ledger_rows(sync, [*df["key"], "gone-1"], mode == "incremental")
    skipped = {*created, *(k for k, e in entries.items() if mode == "incremental" and e.status == CREATED)}
    for chunk in _chunks(df):
        sent += [item.key for item in rows_to_create(chunk, sync, result, chosen, None)]  # type: ignore[arg-type]
    return {
        "preflight": (sorted(skipped), sorted(set(entries) - skipped)),
        "table": sync.brief_table() is not None,
        "sent": sent,
        "rows": sorted((r.key, r.status, r.hubspot_id, r.trace_id, r.position) for r in result.rows),
        "changed_skipped": sync.changed_skipped,
        "known": sorted(sync.known),
        "writes": sorted((w.item.key, w.hubspot_id, tuple(sorted(w.properties))) for w in writes.writes),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    emails=st.lists(st.sampled_from(["a@x.io", "b@x.io", "ä@x.io"]), min_size=1, max_size=9),
    data=st.data(),
    write_mode=st.sampled_from(["create", "upsert"]),
    mode=st.sampled_from(["incremental", "full_refresh"]),
)
def test_the_scanned_table_decides_every_row_as_the_lookup_by_key(
    emails: list[str], data: st.DataObject, write_mode: str, mode: str
) -> None:
    bad = data.draw(st.lists(st.booleans(), min_size=len(emails), max_size=len(emails)))
    df = _frame(emails, bad)
    keys = [*df["key"], "gone-1", "gone-2"]  # two ledger rows the frame no longer has
    known = data.draw(st.lists(st.sampled_from(keys), unique=True))
    rows = {key: data.draw(_LEDGER_ROW) for key in known}
    with tempfile.TemporaryDirectory() as tmp:
        filled = SQLiteLedger(Path(tmp) / "ledger.sqlite", synchronous="OFF")
        try:
            _fill(filled, df, rows)
        finally:
            filled.close()
        shutil.copy(Path(tmp) / "ledger.sqlite", Path(tmp) / "copy.sqlite")  # a load writes (rejected rows)
        found = {}
        for name, size in (("ledger", 0), ("copy", SCAN_MIN_ROWS)):
            ledger = SQLiteLedger(Path(tmp) / f"{name}.sqlite", synchronous="OFF")
            try:
                found[size] = _decisions(ledger, df, write_mode, mode, size)
            finally:
                ledger.close()
    by_key, scanned = found[0], found[SCAN_MIN_ROWS]
    assert (by_key.pop("table"), scanned.pop("table")) == (False, True)
    assert scanned == by_key


def test_the_scan_holds_what_briefs_reads_for_every_key(ledgers: Callable[[], SqlLedger]) -> None:
    """On SQLite and PostgreSQL: created, failed, pending rows; ids numeric or not; digests or not."""
    ledger = ledgers()
    settled = [
        Settlement(
            f"k{i}",
            CREATED if i % 3 else FAILED,
            hubspot_id=str(1000 + i) if i % 5 else f"id-{i}",
            content_hash=f"fp1:{i:016x}" if i % 4 else None,
        )
        for i in range(300)
    ]
    ledger.settle(PORTAL, OBJECT_TYPE, settled, run_id="r1")
    ledger.mark_pending(PORTAL, OBJECT_TYPE, [PendingRow("p1", "fp1:00000000000000ff")], run_id="r2")
    ledger.settle(PORTAL, "companies", [Settlement("k1", CREATED, hubspot_id="9")], run_id="r1")
    keys = [f"k{i}" for i in range(300)] + ["p1", "absent"]

    table = ledger.brief_table(PORTAL, OBJECT_TYPE, SCAN_MIN_ROWS)
    assert table is not None and len(table) == 301  # the other object type is not in it
    matched = table.match(keys)
    briefs = ledger.briefs(PORTAL, OBJECT_TYPE, keys)
    for i, key in enumerate(keys):
        brief = briefs.get(key)
        kind = int(matched.kind[i])
        if brief is None:
            assert kind == 0, key
            continue
        status, hubspot_id, digest = brief
        if status != CREATED or not hubspot_id:
            assert kind == OTHER, key
        elif not hubspot_id.isdigit():
            assert kind == EXACT, key  # an id the row store keeps as text: looked up by key
        else:
            assert kind == TABLE_CREATED, key
            assert int(matched.id_codes[i]) == int(hubspot_id)
            assert bool(matched.has_digest[i]) == bool(digest)
            if digest:
                assert f"fp1:{int(matched.digests[i]):016x}" == digest


def test_no_table_for_a_small_load_or_one_much_smaller_than_the_ledger(
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    assert ledger.brief_table(PORTAL, OBJECT_TYPE, SCAN_MIN_ROWS - 1) is None
    empty = ledger.brief_table(PORTAL, OBJECT_TYPE, SCAN_MIN_ROWS)  # nothing known: an empty table
    assert empty is not None and len(empty) == 0 and int(empty.match(["a"]).kind[0]) == 0
    many = int(SCAN_RATIO * SCAN_MIN_ROWS) + 1
    created = [Settlement(f"k{i}", CREATED, hubspot_id=str(i + 1)) for i in range(many)]
    ledger.settle(PORTAL, OBJECT_TYPE, created, run_id="r")
    assert ledger.brief_table(PORTAL, OBJECT_TYPE, SCAN_MIN_ROWS) is None  # more than 2 ledger rows per row
    assert ledger.brief_table(PORTAL, OBJECT_TYPE, many) is not None


def test_keys_whose_first_hash_collides_are_looked_up_by_key() -> None:
    """Two ledger rows sharing the first hash, and a frame key matching only it, are answered EXACT."""

    class Colliding(str):
        def __hash__(self) -> int:
            return 7

    rows = [
        (Colliding("a"), 1, "11", "fp1:0000000000000001"),
        (Colliding("b"), 1, "12", None),
        ("c", 1, "13", None),
    ]
    table = BriefTable([rows])
    matched = table.match([Colliding("a"), Colliding("z"), "c", "d"])
    assert matched.kind.tolist() == [EXACT, EXACT, TABLE_CREATED, 0]
    lone = BriefTable([[(Colliding("a"), 1, "11", None)]]).match([Colliding("z")])
    assert lone.kind.tolist() == [EXACT]  # the first hash alone agrees: not taken for the ledger row


def test_digests_are_read_only_in_the_form_the_loader_writes() -> None:
    texts = [
        "fp1:0123456789abcdef", "fp1:ffffffffffffffff", None, "", "FP1:0123456789abcdef",
        "fp1:0123456789ABCDEF", "fp1:0123456789abcde", "fp2:0123456789abcdef", "fp1:0123456789abcdeg",
        "fp1:0123456789abcdé", "ab" * 32,
    ]  # fmt: skip
    values, readable, present = digest_values(texts)
    assert readable.tolist() == [True, True] + [False] * 9
    assert present.tolist() == [True, True, False, False] + [True] * 7
    assert values[:2].tolist() == [0x0123456789ABCDEF, 2**64 - 1]
    assert not values[2:].any()
    all_valid = [f"fp1:{n:016x}" for n in (0, 1, 2**63, 2**64 - 2)]
    assert digest_values(all_valid)[0].tolist() == [0, 1, 2**63, 2**64 - 2]
    assert np.array_equal(digest_values([])[1], np.zeros(0, dtype=bool))


@pytest.mark.parametrize("rows", [0, 5])
def test_a_ledger_without_the_scan_is_looked_up_by_key(rows: int) -> None:
    """A custom ledger (the protocol has no ``brief_table``) keeps the lookup by key."""

    class Plain:
        def briefs(self, portal: str, object_type: str, keys: list[str]) -> dict[str, Any]:
            return {}

    sync = LoadSync(Plain(), PORTAL, OBJECT_TYPE, "incremental", "run", None, None, rows_expected=rows)  # type: ignore[arg-type]
    assert sync.brief_table() is None
