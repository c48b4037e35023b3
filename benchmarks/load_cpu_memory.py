"""The load benchmark's parts that run in a process of their own: CPU only, and the load's memory.

- CPU only: validate (pandera) + convert (``iter_prepared``) + serialize (one JSON body per 100 inputs,
  as :class:`HubSpotClient` encodes it) of ``rows`` rows, fastest of 3 passes, against a naive
  ``iterrows`` conversion measured on fewer rows and extrapolated.
- Memory: a large load against an unthrottled sandbox (a third process), through ``load_memory.py``.

The CPU child is started as ``load_benchmark.py --child-cpu`` (the memory child is
``load_memory_child.py``), so that their
peak RSS is their own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from load_memory import current_rss_bytes, peak_rss_bytes, release_free_memory
from load_memory import run_load_rss as measure_load_rss
from load_workload import BATCH_SIZE, make_frame, sandbox_config

from hubspot_loader.core.inputs import iter_prepared
from hubspot_loader.core.schemas import CONTACTS_SCHEMA, validate_frame
from hubspot_loader.http.client import encode_body
from hubspot_loader.sandbox import start_sandbox_process

#: The script the children run (its ``main`` dispatches ``--child-cpu`` and ``--child-load-rss``).
CHILD_SCRIPT = Path(__file__).resolve().parent / "load_benchmark.py"

CPU_PASSES = 3
"""Validate + convert + serialize passes in the CPU-only run; the fastest is the figure (see cpu_child)."""


def iter_bodies(df: pd.DataFrame, timings: dict[str, float] | None = None) -> Iterator[bytes]:
    """Validate, convert and serialize ``df`` as a load does: one JSON body per 100 inputs.

    ``timings`` (optional) receives the wall seconds spent validating and serializing; the rest of the
    time between bodies is conversion.
    """
    timings = timings if timings is not None else {}
    timings.setdefault("validate_s", 0.0)
    timings.setdefault("serialize_s", 0.0)
    start = time.perf_counter()
    report = validate_frame(df, CONTACTS_SCHEMA, "id")
    timings["validate_s"] += time.perf_counter() - start
    if not report.ok:
        raise ValueError(report.message)
    properties = {c: c for c in df.columns if c != "id"}
    batch: list[Any] = []
    for chunk in iter_prepared(report.frame, properties=properties, key_column="id"):
        if chunk.rejected:
            raise ValueError(f"{len(chunk.rejected)} rows rejected in conversion")
        for item in chunk.inputs:
            batch.append(item)
            if len(batch) == BATCH_SIZE:
                yield _body(batch, timings)
                batch = []
    if batch:
        yield _body(batch, timings)


def _body(batch: list[Any], timings: dict[str, float]) -> bytes:
    """Return the request body the client sends for ``batch`` (as ``HubSpotClient`` encodes it)."""
    start = time.perf_counter()
    body = encode_body({"inputs": [r.payload() for r in batch]})
    timings["serialize_s"] += time.perf_counter() - start
    return body


def naive_bodies(df: pd.DataFrame) -> Iterator[bytes]:
    """Yield the baseline's bodies: ``iterrows`` and ``str()`` per cell, one JSON body per 100 rows."""
    batch: list[dict[str, Any]] = []
    for _, row in df.iterrows():
        props = {c: str(v) for c, v in row.items() if c != "id" and not pd.isna(v)}
        batch.append({"objectWriteTraceId": str(row["id"]), "properties": props})
        if len(batch) == BATCH_SIZE:
            yield json.dumps({"inputs": batch}, separators=(",", ":")).encode()
            batch = []
    if batch:
        yield json.dumps({"inputs": batch}, separators=(",", ":")).encode()


def _naive_figures(df: pd.DataFrame, rows: int, baseline_rows: int, elapsed: float) -> dict[str, Any]:
    """Measure the naive baseline on the first ``baseline_rows`` rows (``None`` figures when 0)."""
    sample = df.head(baseline_rows)
    if len(sample) == 0:
        return {
            "naive_rows_measured": 0,
            "naive_rows_per_s": None,
            "naive_rows_per_cpu_s": None,
            "naive_extrapolated_s": None,
            "speedup_vs_naive": None,
        }
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in naive_bodies(sample):
        pass
    naive_s, naive_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    naive_rate = len(sample) / naive_s
    return {
        "naive_rows_measured": len(sample),
        "naive_rows_per_s": round(naive_rate, 1),
        "naive_rows_per_cpu_s": round(len(sample) / naive_cpu, 1) if naive_cpu > 0 else None,
        "naive_extrapolated_s": round(rows / naive_rate, 1),
        "speedup_vs_naive": round((rows / naive_rate) / elapsed, 2),
    }


def cpu_child(rows: int, baseline_rows: int, passes: int = CPU_PASSES) -> dict[str, Any]:
    """In a fresh process: validate + convert + serialize ``rows`` rows; the naive baseline on fewer.

    The pass runs ``passes`` times over the same frame and the fastest counts, as ``timeit`` does:
    on a shared machine the slower passes measure the neighbours too (the same code has measured
    75k-120k rows/s here from one run to the next). Every pass is reported. Wall and CPU
    (``process_time``) seconds are both given. ``baseline_rows=0`` skips the naive baseline.
    """
    rss_start = peak_rss_bytes()
    df = make_frame(rows)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    release_free_memory()
    rss_frame = current_rss_bytes() or peak_rss_bytes()
    measured = []
    for _ in range(max(1, passes)):
        timings: dict[str, float] = {}
        start, cpu_start = time.perf_counter(), time.process_time()
        bodies = payload_bytes = 0
        for body in iter_bodies(df, timings):
            bodies += 1
            payload_bytes += len(body)
        measured.append((time.process_time() - cpu_start, time.perf_counter() - start, timings))
    cpu, elapsed, timings = min(measured, key=lambda m: m[0])
    peak = peak_rss_bytes()
    return {
        "rows": rows,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(rows / elapsed, 1),
        "cpu_seconds": round(cpu, 3),
        "rows_per_cpu_s": round(rows / cpu, 1),
        "passes": len(measured),
        "rows_per_cpu_s_each_pass": [round(rows / m[0], 1) for m in measured],
        "validate_s": round(timings["validate_s"], 3),
        "convert_s": round(elapsed - timings["validate_s"] - timings["serialize_s"], 3),
        "serialize_s": round(timings["serialize_s"], 3),
        "requests": bodies,
        "payload_bytes": payload_bytes,
        "frame_bytes": frame_bytes,
        "rss_at_start_bytes": rss_start,
        "rss_with_frame_bytes": rss_frame,
        "peak_rss_bytes": peak,
        "peak_rss_vs_frame": round(peak / frame_bytes, 3),
        "growth_over_frame_bytes": peak - rss_frame,
        **_naive_figures(df, rows, baseline_rows, elapsed),
    }


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``load_benchmark.py`` with ``args`` in a fresh interpreter; return the JSON of its last line."""
    cmd = [sys.executable, str(CHILD_SCRIPT), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_cpu(rows: int, baseline_rows: int, *, timeout: float = 600) -> dict[str, Any]:
    """Measure the CPU-only figures in a child process."""
    return run_child(["--child-cpu", str(rows), str(baseline_rows)], timeout)


def run_load_rss(rows: int, *, keys: str = "int", install: str = "base") -> dict[str, Any]:
    """Measure the peak RSS of a ``rows``-row load in a child process (``load_memory.run_load_rss``).

    The child is ``load_memory_child.py``, against a sandbox in a third process; ``install`` says which
    packages it may import (``base``: the loader without extras, pyarrow hidden; ``full``: the dev venv).
    """
    return measure_load_rss(
        rows,
        keys=keys,
        install=install,
        start_sandbox=lambda: start_sandbox_process(sandbox_config(latency=False, rate_limit=None)),
    )
