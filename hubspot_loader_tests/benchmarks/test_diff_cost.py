"""The diff-cost benchmark runs end to end on a small frame and finds exactly the rows it changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from hubspot_loader_tests.benchmarks.scripts import benchmark_module

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "diff_cost.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return benchmark_module("diff_cost.py")


def test_the_diff_finds_exactly_the_changed_rows_and_their_changed_properties(
    bench: ModuleType, tmp_path: Path
) -> None:
    figures = bench.run(12_000, 0.05, tmp_path)  # enough rows for the load to scan its ledger rows
    assert figures["rows"] == figures["settled"] == 12_000
    assert figures["briefs_scanned"] == 12_000
    assert (figures["preflight_created"], figures["preflight_entries_read"]) == (12_000, 0)
    assert figures["changed_expected"] == figures["changed_found"] == 600
    assert figures["unchanged_found"] == 11_400
    assert figures["changed_properties_wrong"] == 0
    for part in ("conversion", "fingerprints", "lookups", "compare"):
        assert figures[f"{part}_cpu_s"] >= 0
    parts = figures["lookups_cpu_s"] + figures["compare_cpu_s"]
    assert figures["diff_cpu_s"] == pytest.approx(parts, abs=0.002)
    assert figures["peak_rss_bytes"] >= figures["rss_at_start_bytes"] > 0
    assert list(tmp_path.iterdir()) == []  # the temporary ledger is gone
    text = bench.format_figures(figures)
    assert "diff pass: lookups" in text and "11,400 unchanged, 600 changed" in text
    assert "12,000 ledger rows scanned at once" in text


def test_the_changes_cover_every_kind_and_only_the_rows_chosen(bench: ModuleType) -> None:
    df = bench.make_frame(400)
    assert df["id"].is_unique and df["id"].str.len().eq(32).all()
    changed, expected = bench.changed_copy(df, 0.1)
    assert len(expected) == 40 and set(expected.values()) == set(bench.CHANGES)
    found: dict[str, set[str]] = {}
    for column in df.columns.drop("id"):
        pairs = zip(df["id"], df[column].astype(object), changed[column].astype(object), strict=True)
        for key, was, now in pairs:
            if pd.isna(was) != pd.isna(now) or (not pd.isna(was) and was != now):
                found.setdefault(key, set()).add(column)
    assert found == {k: {c} for k, c in expected.items()}


def test_the_command_takes_rows_and_prints_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "2000", "--state-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert (figures["rows"], figures["changed_found"], figures["unchanged_found"]) == (2000, 100, 1900)
    assert figures["briefs_scanned"] is None  # a small load looks its keys up one by one
