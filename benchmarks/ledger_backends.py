"""Ledger overhead per backend: write-ahead + settle of N rows in batches, SQLite vs PostgreSQL (issue #14).

For each backend, every batch is written ahead (``mark_pending``) and then settled created, as a load
does around each request: unleased (version 1 semantics) and leased (claim in the write-ahead, lease
ended by the settle). SQLite runs with ``synchronous=FULL`` (the default); PostgreSQL is a throwaway local
cluster with its default durability (fsync and synchronous_commit on), or the server given by ``--url``.
``--threads`` spreads the batches over threads, as the client's worker threads do. Prints rows/s. Run:

    .venv/bin/python benchmarks/ledger_backends.py [--rows 100000] [--batch 100] [--threads 1] [--url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubspot_loader.state.ledger import CREATED, PendingRow, Settlement, SqlLedger, content_hash, open_ledger
from hubspot_loader_tests.postgres import find_postgres_bin, start_postgres


def run(ledger: SqlLedger, rows: int, batch: int, threads: int, leased: bool, tag: str) -> float:
    keys = [f"{tag}-{i:07d}" for i in range(rows)]
    batches = [keys[i : i + batch] for i in range(0, rows, batch)]
    owner = f"bench-{tag}" if leased else None

    def one(chunk: list[str]) -> None:
        pending = [PendingRow(k, content_hash({"email": f"{k}@x.io"}), "email", f"{k}@x.io") for k in chunk]
        claim = ledger.mark_pending(
            "bench", "contacts", pending, run_id=tag, lease_owner=owner, lease_seconds=600 if leased else None
        )
        assert claim.complete
        settled = [Settlement(k, CREATED, hubspot_id=k) for k in chunk]
        ledger.settle("bench", "contacts", settled, run_id=tag, lease_owner=owner)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, batches))
    return rows / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--url", help="a PostgreSQL state URL to measure instead of a throwaway cluster")
    args = parser.parse_args()
    server = None
    pg_url = args.url
    if pg_url is None:
        bin_dir = find_postgres_bin()
        if bin_dir is None:
            print("PostgreSQL binaries not found; give --url", file=sys.stderr)
            return 2
        server = start_postgres(bin_dir, durable=True)
        pg_url = server.url()
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, url in (("sqlite", f"sqlite:///{tmp}/bench.sqlite"), ("postgres", pg_url)):
                with open_ledger(url) as ledger:
                    results[name] = {}
                    for mode in ("unleased", "leased"):
                        leased, tag = mode == "leased", f"{name}-{mode}"
                        results[name][mode] = run(ledger, args.rows, args.batch, args.threads, leased, tag)
    finally:
        if server is not None:
            server.stop()
    print(f"{args.rows:,} rows, batches of {args.batch}, {args.threads} thread(s): write-ahead + settle")
    for name, by_mode in results.items():
        print(f"  {name:8s} " + "  ".join(f"{mode}: {rate:9,.0f} rows/s" for mode, rate in by_mode.items()))
    for mode in ("unleased", "leased"):
        ratio = results["postgres"][mode] / results["sqlite"][mode]
        print(f"  postgres/sqlite ({mode}): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
