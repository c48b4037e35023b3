"""The sync benchmark runs end to end on a tiny workload (correctness only, never speed)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType

import pytest

from hubspot_loader_tests.benchmarks.scripts import benchmark_module

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "sync_benchmark.py"




@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return benchmark_module("sync_benchmark.py")


def test_tiny_run_sends_one_update_per_100_changed_rows_and_nothing_else(
    bench: ModuleType, tmp_path: Path
) -> None:
    out = tmp_path / "results" / "sync.json"
    settings = bench.Settings(rows=2_000, changed_share=0.1, throughput_rows=700, latency=False, out=out)
    report = bench.run(settings, log=lambda _m: None)

    saved = json.loads(out.read_text())
    assert saved["request_count"] == report["request_count"]
    sections = ("machine", "settings", "sandbox", "ceiling_rows_per_s", "request_count", "throughput")
    for key in (*sections, "targets"):
        assert key in saved, key
    assert saved["ceiling_rows_per_s"] == 1900

    count = saved["request_count"]
    changed = count["changed_rows"]
    assert changed == 200
    assert count["setup"]["rows"]["created"] == 2_000
    assert count["routes"] == {"POST batch/update": math.ceil(changed / 100)}  # no reads, creates, archives
    assert count["update_requests"] == count["expected_update_requests"] == 2
    assert count["other_requests"] == 0
    rows = count["rows_second_sync"]
    assert (rows["updated"], rows["unchanged"], rows["created"], rows["failed"]) == (changed, 1_800, 0, 0)
    assert count["rows_accounted"] == 2_000
    assert count["records_updated_by_sandbox"] == changed
    assert count["records_created_by_sandbox"] == count["records_archived_by_sandbox"] == 0
    assert count["stored_contacts"] == 2_000
    assert count["exact"] is True
    assert saved["targets"]["updates_equal_ceil_changed_over_100"]["met"] is True

    throughput = saved["throughput"]
    assert throughput["setup"]["rows"]["created"] == 700
    runs = {r["name"]: r for r in throughput["runs"]}
    assert set(runs) == {"default", "tuned"}
    assert runs["tuned"]["max_in_flight"] == 16 and runs["tuned"]["requests_per_10s"] == 190
    for name, run in runs.items():
        assert run["records_after_restart"] == 700, name  # the restarted sandbox reloaded its file
        assert run["routes"] == {"POST batch/update": math.ceil(700 / 100)}, name  # every row, by id
        assert run["rows_result"]["updated"] == run["records_updated_by_sandbox"] == 700, name
        assert run["rows_result"]["failed"] == run["rows_result"]["created"] == 0, name
        assert run["batches"] == 7, name
        assert run["sustained_ceiling_fraction"] is None, name  # too few batches for the steady state
