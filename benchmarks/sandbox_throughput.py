"""Sandbox throughput: created objects per second with zero injected latency.

Starts the sandbox in its own process, then creates contacts in batches of 100 from several client
threads over keep-alive connections and prints the rate. Run:

    .venv/bin/python benchmarks/sandbox_throughput.py [--objects 30000] [--threads 4] [--db PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlparse

from hubspot_loader.sandbox import SandboxConfig, run_sandbox


def worker(base_url: str, token: str, batches: list[bytes], statuses: list[int]) -> None:
    url = urlparse(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in batches:
        conn.request("POST", "/crm/v3/objects/contacts/batch/create", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=30_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--db", help="SQLite file (default: in memory)")
    args = parser.parse_args()

    config = SandboxConfig(rate_limit_per_10s=10**9, daily_limit=10**12, db_path=args.db)
    n_batches = args.objects // args.batch_size
    bodies = [
        json.dumps(
            {
                "inputs": [
                    {
                        "properties": {
                            "email": f"user{b}-{i}@example.com",
                            "firstname": f"First{i}",
                            "lastname": "Bench",
                            "phone": "+1 555 0100",
                            "lifecyclestage": "lead",
                        },
                        "objectWriteTraceId": f"{b}-{i}",
                    }
                    for i in range(args.batch_size)
                ]
            }
        ).encode()
        for b in range(n_batches)
    ]
    with run_sandbox(config, in_subprocess=True) as sb:
        statuses: list[int] = []
        threads = [
            threading.Thread(target=worker, args=(sb.base_url, sb.token, bodies[t :: args.threads], statuses))
            for t in range(args.threads)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        created = sb.counts()["contacts"]
    bad = [s for s in statuses if s != 201]
    print(
        f"batches: {len(statuses)} ({len(bad)} not 201), threads: {args.threads}, "
        f"storage: {args.db or 'memory'}"
    )
    print(f"created {created} objects in {elapsed:.2f} s: {created / elapsed:,.0f} created objects/second")


if __name__ == "__main__":
    main()
