"""Diff cost (issue #13): how much CPU a sync spends finding what changed among 1M rows known to the ledger.

Usage: python benchmarks/diff_cost.py [--rows 1000000] [--changed 0.05] [--state-dir DIR] [--json]

Setup (not timed): a frame of ``--rows`` rows with 32-character text keys and 11 mixed property columns
is converted (:func:`~hubspot_loader.core.plan.prepared_chunks`) and every row is settled ``created`` into
a SQLite ledger in a temporary directory with its digest (``content_hash``) and fingerprint record
(``sent_fingerprint``), as a sync leaves them. Then a ``--changed`` share of the rows gets one property
changed (a text, a number, a value that becomes null or one that stops being null).

Timed with ``time.process_time()`` (CPU of this process, one core), chunk by chunk as a load does it:

- conversion: ``prepared_chunks`` of the changed frame (formatting, inputs);
- fingerprints: the chunk's value hashes and digests (:mod:`hubspot_loader.core.fingerprints`, computed on
  first use);
- lookups + compare, measured together: the loader's own
  :func:`~hubspot_loader.row_choice.rows_to_create` of an upsert (every row's status, id and digest, read
  in one scan of the object type's ledger rows and matched in arrays, :mod:`hubspot_loader.state.brief_table`,
  or looked up by key for a small load; the digest comparison; then the full entries and
  ``changed_properties`` of the rows that differ), as a load runs it.

After the pass, and not part of it: SQLite's own search for every key, the same statements as the lean
lookup but counting instead of fetching (:func:`search_floor`), the least any diff that looks each row up
by key can cost; and online preflight's read of the ledger for every row (:func:`preflight_read`), which a
load with the default preflight and a unique property makes before its diff.

The target of the issue, diffing 1M rows against the ledger in at most 5 s of CPU on one core, is the
diff pass: lookups + compare (the fingerprints are reported next to it, and the sum). The figures are
printed (``--json``: also as one JSON line); nothing is asserted beyond the diff finding exactly the rows
that were changed.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.inputs import PreparedChunk
from hubspot_loader.core.model import UNCHANGED, LoadResult
from hubspot_loader.core.plan import LoadPlan, checked_keys, prepared_chunks
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.preflight_step import _ledger_rows
from hubspot_loader.row_choice import rows_to_create
from hubspot_loader.state.ledger import CREATED, Settlement, SQLiteLedger
from hubspot_loader.state.sync import LoadSync
from hubspot_loader.sync_step import SyncWrites

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling module, also when loaded by path
from load_memory import current_rss_bytes, peak_rss_bytes, release_free_memory

PORTAL = "diff-cost"
OBJECT_TYPE = "contacts"
TARGET_DIFF_CPU_S_PER_MILLION = 5.0
#: the columns a changed row has one of its values changed in, in turn, and how
CHANGES = ("email", "amount", "visits", "firstname")


def make_frame(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """A contacts-like frame: 32-hex text keys (``id``) and 11 property columns of mixed dtypes."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows)
    high = pd.util.hash_array(idx.astype(np.uint64)).tolist()
    low = pd.util.hash_array((idx + rows).astype(np.uint64)).tolist()
    keys = [f"{a:016x}{b:016x}" for a, b in zip(high, low, strict=True)]
    visits = pd.array(rng.integers(0, 500, rows), dtype="Int64")
    visits[rng.random(rows) < 0.1] = pd.NA
    score = rng.integers(0, 100, rows).astype(float)
    score[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "id": pd.Series(keys, dtype=object),
            "email": [f"user{i}@example.com" for i in range(rows)],
            "firstname": [f"Fírst{i % 1000}" for i in range(rows)],
            "lastname": pd.Series([f"Last{i % 5000}" for i in range(rows)], dtype="string"),
            "company": [f"Company {i % 20000}" for i in range(rows)],
            "lifecyclestage": pd.Categorical(rng.choice(["lead", "customer", "other"], rows)),
            "amount": (rng.random(rows) * 1000).round(2),
            "score": score,
            "visits": visits,
            "optin": rng.random(rows) > 0.5,
            "seen_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**9, rows), unit="s"),
            "birthday": pd.Series(pd.date_range("1960-01-01", periods=rows, freq="h")).dt.date,
        }
    )


def changed_copy(df: pd.DataFrame, share: float, *, seed: int = 1) -> tuple[pd.DataFrame, dict[str, str]]:
    """``df`` with one value changed in a ``share`` of its rows; returns it and key → the changed property."""
    rng = np.random.default_rng(seed)
    count = round(len(df) * share)
    positions = np.sort(rng.choice(len(df), size=count, replace=False))
    out = df.copy()
    expected: dict[str, str] = {}
    keys = df["id"].to_numpy()
    for turn, column in enumerate(CHANGES):
        rows = positions[turn :: len(CHANGES)]
        if column == "email":
            out.loc[rows, column] = [f"changed{i}@example.com" for i in rows.tolist()]
        elif column == "amount":
            out.loc[rows, column] = out.loc[rows, column] + 1.5
        elif column == "visits":  # a value that becomes null, and a null that gets a value
            was_null = out.loc[rows, column].isna().to_numpy()
            out.loc[rows[was_null], column] = 1
            out.loc[rows[~was_null], column] = pd.NA
        else:
            out.loc[rows, column] = "Changed"
        expected.update((k, column) for k in keys[rows].tolist())
    return out, expected


def plan_for(df: pd.DataFrame) -> LoadPlan:
    """Every column but the key, sent under its own name."""
    return LoadPlan(OBJECT_TYPE, {c: c for c in df.columns if c != "id"}, (), "id")


def settle_all(ledger: SQLiteLedger, df: pd.DataFrame) -> int:
    """Setup: settle every row ``created`` with its digest and record, as a sync leaves the ledger."""
    settled = 0
    for chunk in prepared_chunks(df, plan_for(df), "UTC"):
        assert chunk.prints is not None and not chunk.rejected
        prints = chunk.prints
        settlements = [
            Settlement(
                item.key, CREATED, hubspot_id=str(item.position + 1),
                content_hash=prints.digest(item.position),
                fingerprint=prints.record(item.position, item.associations),
            )
            for item in chunk.inputs
        ]  # fmt: skip
        ledger.settle(PORTAL, OBJECT_TYPE, settlements, run_id="setup")
        settled += len(settlements)
    return settled


def _timed_chunks(chunks: Iterator[PreparedChunk], clock: dict[str, float]) -> Iterator[PreparedChunk]:
    """The chunks, with the CPU time spent producing them added to ``clock["conversion"]``."""
    while True:
        start = time.process_time()
        chunk = next(chunks, None)
        clock["conversion"] += time.process_time() - start
        if chunk is None:
            return
        yield chunk


class GcClock:
    """CPU seconds the cyclic garbage collector spends while it is installed (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self.full_seconds = 0.0
        self.full_collections = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
            return
        spent = time.process_time() - self._start
        self.seconds += spent
        self.collections += 1
        if info.get("generation") == 2:
            self.full_seconds += spent
            self.full_collections += 1

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def diff_pass(ledger: SQLiteLedger, df: pd.DataFrame) -> dict[str, Any]:
    """The timed pass: convert, fingerprint, look up and compare every row; the CPU of each part."""
    tracked = len(gc.get_objects()) + gc.get_freeze_count()
    with GcClock() as collector:
        found = _diff_pass(ledger, df)
    found["clock"]["gc_during_pass"] = collector.seconds
    found["gc"] = {
        "collections": collector.collections,
        "full_collections": collector.full_collections,
        "full_cpu_s": round(collector.full_seconds, 3),
        "tracked_objects_at_start": tracked,
    }
    return found


def _diff_pass(ledger: SQLiteLedger, df: pd.DataFrame) -> dict[str, Any]:
    """The loader's own diff: :func:`~hubspot_loader.row_choice.rows_to_create` of an upsert, chunk by chunk.

    ``lookups`` + ``compare`` are measured together (the ledger's brief lookups of every row, the digest
    comparison, the full lookups and ``changed_properties`` of the changed rows), as the load runs them.
    """
    clock = {"conversion": 0.0, "fingerprints": 0.0, "lookups": 0.0, "compare": 0.0}
    spec = HubSpotLoadSpec(object_type=OBJECT_TYPE, key_column="id", write_mode="upsert")
    plan = plan_for(df)
    sync = LoadSync(ledger, PORTAL, OBJECT_TYPE, "incremental", "diff", None, None, rows_expected=len(df))
    result = LoadResult(object_type=OBJECT_TYPE)
    writes = SyncWrites(spec, plan, sync, result, full_refresh=False)
    start = time.process_time()
    keys = checked_keys(df, "id", "UTC")
    chunks = iter(prepared_chunks(df, plan, "UTC", keys))
    clock["conversion"] += time.process_time() - start
    for chunk in _timed_chunks(chunks, clock):
        prints = chunk.prints
        assert prints is not None
        start = time.process_time()
        prints.digest_values()  # the value hashes, computed once per chunk
        mark = time.process_time()
        clock["fingerprints"] += mark - start
        created = rows_to_create(chunk, sync, result, writes, None)  # type: ignore[arg-type]  # no reads
        assert not created
        clock["lookups"] += time.process_time() - mark
    changed = {w.item.key: frozenset(w.properties) for w in writes.writes}
    table = sync.brief_table()  # read during the pass (timed in the lookups), or None: looked up by key
    scanned = None if table is None else len(table)
    return {"clock": clock, "unchanged": result.count(UNCHANGED), "changed": changed, "scanned": scanned}


SEARCH_ONLY = (
    "SELECT count(*) FROM sync_rows WHERE portal = ? AND object_type = ? "
    "AND row_key IN (SELECT value FROM json_each(?))"
)


def search_floor(ledger: SQLiteLedger, keys: list[str]) -> float:
    """CPU seconds SQLite alone spends finding ``keys``, 2,000 a statement, fetching nothing (a count).

    The lean lookup's own search, without a row read into Python: a diff that looks every row up by key
    costs at least this, whatever the loader does with the answers.
    """

    def count(conn: Any) -> float:
        start = time.process_time()
        for offset in range(0, len(keys), 2_000):
            part = json.dumps(keys[offset : offset + 2_000])
            conn.exec_driver_sql(SEARCH_ONLY, (PORTAL, OBJECT_TYPE, part)).scalar()
        return time.process_time() - start

    return float(ledger._run(count, write=False))


def preflight_read(ledger: SQLiteLedger, keys: list[str]) -> dict[str, Any]:
    """Online preflight's read of the ledger for ``keys`` (every row sends an email), as a new load does it.

    :func:`~hubspot_loader.preflight_step._ledger_rows` with a fresh sync: its own scan, the created rows
    taken from it, the full entries of the others read by key. Returns the CPU, how many rows were taken
    as created and how many entries were read.
    """
    rows = len(keys)
    sync = LoadSync(ledger, PORTAL, OBJECT_TYPE, "incremental", "preflight", None, None, rows_expected=rows)
    start = time.process_time()
    created, entries = _ledger_rows(sync, keys, incremental=True)
    return {"cpu_s": time.process_time() - start, "created": len(created), "entries": len(entries)}


def run(
    rows: int,
    share: float = 0.05,
    state_dir: Path | None = None,
    pragmas: tuple[str, ...] = (),
    gc_freeze: bool = False,
) -> dict[str, Any]:
    """Build, settle, change and diff ``rows`` rows; return the figures and what the diff found.

    What-ifs, which the loader itself does not do: ``pragmas`` (e.g. ``mmap_size=1073741824``) are run on
    the ledger's SQLite connection before the timed pass; ``gc_freeze`` calls :func:`gc.freeze` before it
    (the objects alive then are never traversed by the pass's collections).
    """
    with tempfile.TemporaryDirectory(prefix="diff-cost-", dir=state_dir) as tmp:
        rss_start = peak_rss_bytes()
        setup_start = time.perf_counter()
        df = make_frame(rows)
        frame_bytes = int(df.memory_usage(deep=True).sum())
        ledger = SQLiteLedger(Path(tmp) / "ledger.sqlite", synchronous="OFF")
        try:
            settled = settle_all(ledger, df)
            changed_df, expected = changed_copy(df, share)
            del df
            release_free_memory()
            setup_s = time.perf_counter() - setup_start
            for pragma in pragmas:
                ledger._run(lambda conn, p=pragma: conn.exec_driver_sql(f"PRAGMA {p}"), write=False)
            rss_before = current_rss_bytes() or peak_rss_bytes()
            if gc_freeze:
                gc.freeze()
            wall = time.perf_counter()
            found = diff_pass(ledger, changed_df)
            wall = time.perf_counter() - wall
            search_s = search_floor(ledger, changed_df["id"].tolist())
            preflight = preflight_read(ledger, changed_df["id"].tolist())
        finally:
            gc.unfreeze()
            ledger.close()
    clock = found["clock"]
    diff_cpu = clock["lookups"] + clock["compare"]
    wrong = {
        key: props for key, props in found["changed"].items() if props != frozenset({expected.get(key)})
    }
    return {
        "rows": rows,
        "pragmas": list(pragmas),
        "gc_freeze": gc_freeze,
        "settled": settled,
        "changed_expected": len(expected),
        "changed_found": len(found["changed"]),
        "unchanged_found": found["unchanged"],
        "changed_properties_wrong": len(wrong) + len(set(expected) - set(found["changed"])),
        "briefs_scanned": found["scanned"],
        "setup_wall_s": round(setup_s, 2),
        "conversion_cpu_s": round(clock["conversion"], 3),
        "fingerprints_cpu_s": round(clock["fingerprints"], 3),
        "lookups_cpu_s": round(clock["lookups"], 3),
        "compare_cpu_s": round(clock["compare"], 3),
        "diff_cpu_s": round(diff_cpu, 3),
        "diff_with_fingerprints_cpu_s": round(diff_cpu + clock["fingerprints"], 3),
        "sqlite_search_cpu_s": round(search_s, 3),
        "preflight_read_cpu_s": round(preflight["cpu_s"], 3),
        "preflight_created": preflight["created"],
        "preflight_entries_read": preflight["entries"],
        "diff_target_cpu_s": round(TARGET_DIFF_CPU_S_PER_MILLION * rows / 1_000_000, 3),
        "pass_wall_s": round(wall, 3),
        "gc_cpu_s": round(clock["gc_during_pass"], 3),
        **{f"gc_{name}": value for name, value in found["gc"].items()},
        "frame_bytes": frame_bytes,
        "rss_at_start_bytes": rss_start,
        "rss_before_pass_bytes": rss_before,
        "peak_rss_bytes": peak_rss_bytes(),
    }


def format_figures(f: dict[str, Any]) -> str:
    """The figures as a few readable lines."""

    def mib(n: float) -> str:
        return f"{n / 2**20:,.0f} MiB"

    met = "met" if f["diff_cpu_s"] <= f["diff_target_cpu_s"] else "NOT met"
    return "\n".join(
        [
            f"rows: {f['rows']:,} settled in the ledger (setup {f['setup_wall_s']:.1f} s wall, not timed); "
            f"{f['changed_expected']:,} changed",
            f"found: {f['unchanged_found']:,} unchanged, {f['changed_found']:,} changed, "
            f"{f['changed_properties_wrong']:,} with the wrong changed properties",
            "briefs: "
            + (
                f"the object type's {f['briefs_scanned']:,} ledger rows scanned at once and matched in arrays"
                if f["briefs_scanned"] is not None
                else "looked up by key"
            ),
            f"conversion (prepared_chunks): {f['conversion_cpu_s']:.2f} s CPU",
            f"fingerprints (value hashes + digests): {f['fingerprints_cpu_s']:.2f} s CPU",
            f"diff pass: lookups {f['lookups_cpu_s']:.2f} s + compare {f['compare_cpu_s']:.2f} s = "
            f"{f['diff_cpu_s']:.2f} s CPU (target <= {f['diff_target_cpu_s']:g} s: {met}); with the "
            f"fingerprints {f['diff_with_fingerprints_cpu_s']:.2f} s; the pass {f['pass_wall_s']:.1f} s wall",
            f"of which the garbage collector (all parts): {f['gc_cpu_s']:.2f} s CPU in "
            f"{f['gc_collections']:,} collections ({f['gc_full_collections']:,} full ones: "
            f"{f['gc_full_cpu_s']:.2f} s; {f['gc_tracked_objects_at_start']:,} objects tracked at the start)",
            f"SQLite's own search for every key (a count, nothing fetched; not part of the pass): "
            f"{f['sqlite_search_cpu_s']:.2f} s CPU",
            f"online preflight's read of the ledger (a new load, before its diff; not part of the pass): "
            f"{f['preflight_read_cpu_s']:.2f} s CPU, {f['preflight_created']:,} rows taken as created, "
            f"{f['preflight_entries_read']:,} full entries read",
            f"memory: frame {mib(f['frame_bytes'])}; RSS before the pass {mib(f['rss_before_pass_bytes'])}, "
            f"peak RSS {mib(f['peak_rss_bytes'])} (interpreter + imports {mib(f['rss_at_start_bytes'])})",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the frame and the ledger")
    parser.add_argument("--changed", type=float, default=0.05, help="share of the rows changed (0-1)")
    parser.add_argument("--state-dir", type=Path, default=None, help="where the temporary ledger goes")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument(
        "--sqlite-pragma", action="append", default=[], metavar="NAME=VALUE",
        help="what-if: run PRAGMA NAME=VALUE on the ledger's connection before the pass (repeatable)",
    )  # fmt: skip
    parser.add_argument("--gc-freeze", action="store_true", help="what-if: gc.freeze() before the pass")
    args = parser.parse_args(argv)
    figures = run(args.rows, args.changed, args.state_dir, tuple(args.sqlite_pragma), args.gc_freeze)
    print(format_figures(figures))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
