"""Concurrent requests keep uniqueness; the benchmark script runs and reports a rate."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.sandbox.helpers import Api, contact

ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_batches_never_create_duplicate_emails(sandbox: SandboxHandle) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        api = Api(sandbox)
        for b in range(5):
            # every worker sends the same 5 batches: exactly one copy of each may succeed
            resp = api.create("contacts", [contact(f"b{b}-u{i}@example.com") for i in range(20)])
            with lock:
                statuses.append(resp.status_code)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(set(statuses)) == [201, 409]
    assert statuses.count(201) == 5
    emails = [o["properties"]["email"] for o in sandbox.objects("contacts")]
    assert len(emails) == len(set(emails)) == 100
    assert sandbox.counters()["write_requests"] == 40


def test_benchmark_script_reports_created_objects_per_second() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "sandbox_throughput.py"),
            "--objects",
            "2000",
            "--threads",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "(0 not 201)" in out
    assert "created 2000 objects" in out and "created objects/second" in out
