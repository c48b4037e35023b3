"""The load benchmark's memory run with text keys works end to end on a small frame (never measures speed)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from hubspot_loader.core.rows import decimal_int
from hubspot_loader_tests.benchmarks.scripts import benchmark_module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return benchmark_module("load_benchmark.py")


def test_string_keys_are_unique_text_keys_that_are_not_numbers(bench: ModuleType) -> None:
    memory = importlib.import_module("load_memory")  # the sibling module load_benchmark imports
    frame = bench.make_frame(500, tag="t")
    keyed = memory.with_string_keys(frame)
    keys = keyed["id"].tolist()
    assert len(set(keys)) == 500 and all(len(k) == 32 and decimal_int(k) is None for k in keys)
    assert keyed.drop(columns="id").equals(frame.drop(columns="id"))
    assert frame["id"].tolist() == list(range(500))  # the workload frame itself is not changed


@pytest.mark.parametrize(("keys", "install"), [("int", "base"), ("string", "full")])
def test_memory_run_loads_every_row_with_either_key_kind(bench: ModuleType, keys: str, install: str) -> None:
    rss = bench.run_load_rss(1_200, keys=keys, install=install)
    assert rss["keys"] == keys and rss["columns"] == 12 and rss["install"] == install
    # the base install's child runs without pyarrow (as without the [parquet] extra); the full one has it
    assert rss["pyarrow_imported"] is (install == "full")
    assert rss["hidden_packages"] == (["pyarrow"] if install == "base" else [])
    assert rss["rows"] == rss["created"] == rss["stored"] == 1_200
    assert rss["peak_rss_bytes"] >= rss["rss_at_start_bytes"] > 0 and rss["frame_bytes"] > 0
    verdicts = bench.verdicts({"load_rss": rss})
    assert set(verdicts) == {
        "load_peak_rss_vs_frame",
        "load_peak_above_interpreter_vs_frame",
        "load_growth_vs_frame",
    }
    assert f"{keys} keys" in bench.format_table({"load_rss": rss})
    assert f"{install} install" in bench.format_table({"load_rss": rss})


def test_hidden_packages_cannot_be_imported_in_a_fresh_process() -> None:
    import subprocess
    import sys
    from pathlib import Path

    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    code = (
        "import load_memory; load_memory.hide_packages(('pyarrow',)); import pandas, sys; "
        "print('pyarrow' in sys.modules, pandas.compat.pa_version_under10p1)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=benchmarks, capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "True"]  # pandas believes pyarrow is not installed
