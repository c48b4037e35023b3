"""Conversion throughput: validate + convert + JSON-serialize a 10-column frame, vs a naive iterrows loop.

Usage: python benchmarks/convert_throughput.py [rows] [baseline_rows]

Prints rows/s for the pure core (pandera validation, iter_prepared, json.dumps of 100-input batch
bodies) and peak RSS growth against the frame's own memory. The naive baseline (iterrows + str())
runs on a smaller sample and its time for the full frame is extrapolated (labelled so).
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import pandas as pd

from hubspot_loader.core.inputs import iter_prepared
from hubspot_loader.core.schemas import CONTACTS_SCHEMA, validate_frame


def make_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "email": [f"user{i}@example.com" for i in range(n)],
            "firstname": pd.Series([f"Fírst{i % 1000}" for i in range(n)], dtype="string"),
            "amount": (rng.random(n) * 1000).round(2),
            "score": rng.integers(0, 100, n).astype(float),
            "visits": pd.Series(rng.integers(0, 100, n), dtype="Int64"),
            "optin": rng.random(n) > 0.5,
            "seen_at": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="s"),
            "birthday": pd.Series(pd.date_range("1970-01-01", periods=n, freq="h")).dt.date,
            "lifecyclestage": pd.Categorical(rng.choice(["lead", "customer", "other"], n)),
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def core(df: pd.DataFrame) -> tuple[int, int]:
    report = validate_frame(df, CONTACTS_SCHEMA, "id")
    assert report.ok, report.message
    properties = {c: c for c in df.columns if c != "id"}
    sent = size = 0
    batch: list[dict[str, object]] = []
    for chunk in iter_prepared(report.frame, properties=properties, key_column="id"):
        for item in chunk.inputs:
            batch.append(item.payload())
            if len(batch) == 100:
                size += len(json.dumps({"inputs": batch}, separators=(",", ":")))
                sent += len(batch)
                batch = []
    if batch:
        size += len(json.dumps({"inputs": batch}, separators=(",", ":")))
        sent += len(batch)
    return sent, size


def naive(df: pd.DataFrame) -> int:
    size = 0
    for _, row in df.iterrows():
        props = {c: str(v) for c, v in row.items() if c != "id" and not pd.isna(v)}
        size += len(json.dumps({"objectWriteTraceId": str(row["id"]), "properties": props}))
    return size


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    baseline_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    df = make_frame(rows)
    frame_mb = df.memory_usage(deep=True).sum() / 2**20
    before = peak_rss_mb()
    start = time.perf_counter()
    sent, size = core(df)
    elapsed = time.perf_counter() - start
    print(f"frame: {rows:,} rows x {df.shape[1]} columns, {frame_mb:,.0f} MiB in memory")
    print(f"core (validate + convert + JSON): {elapsed:.2f} s, {rows / elapsed:,.0f} rows/s, {sent:,} sent")
    print(f"  JSON payload {size / 2**20:,.0f} MiB; peak RSS grew {peak_rss_mb() - before:,.0f} MiB")
    sample = df.head(baseline_rows)
    start = time.perf_counter()
    naive(sample)
    per_row = (time.perf_counter() - start) / len(sample)
    print(
        f"naive iterrows baseline on {len(sample):,} rows: {1 / per_row:,.0f} rows/s; "
        f"extrapolated to {rows:,} rows: {per_row * rows:.1f} s (speed-up {per_row * rows / elapsed:.1f}x)"
    )


if __name__ == "__main__":
    main()
