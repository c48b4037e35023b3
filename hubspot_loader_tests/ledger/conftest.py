"""Helpers for ledger tests: contact frames, fast clients, and comparisons of ledger and sandbox."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import LoadResult
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger, SqlLedger
from hubspot_loader_tests.scanning import ScanningLedger

#: Retries fast enough for tests, bounded; generous attempts so injected faults never exhaust them.
FAST_RETRY = RetryPolicy(max_attempts=10, backoff_base_s=0.01, backoff_max_s=0.05, max_elapsed_s=60)
PORTAL = "test-portal"
#: The lease of a child load that is killed: short, so its rows are free again soon after the kill.
KILLED_LEASE_SECONDS = 2.0
#: Hang guard only for waits on the ledger's state.
LEASE_WAIT_S = 120.0


def live_leases(ledger: SqlLedger, object_type: str = "contacts") -> int:
    """Rows of the object type some load holds a live lease on (by this process's clock)."""
    now = datetime.now(timezone.utc)
    return sum(
        1
        for e in ledger.entries(PORTAL, object_type)
        if e.lease_owner and e.lease_expires_at is not None and e.lease_expires_at > now
    )


def wait_for_leases_to_expire(ledger: SqlLedger, object_type: str = "contacts") -> None:
    """Poll the ledger until no row is leased any more (a killed load's leases run out; no renewal)."""
    deadline = time.monotonic() + LEASE_WAIT_S
    while live_leases(ledger, object_type):
        assert time.monotonic() < deadline, f"leases still live after {LEASE_WAIT_S}s"
        time.sleep(0.05)  # poll interval


def contacts_frame(n: int, *, start: int = 0, tag: str = "c") -> pd.DataFrame:
    """``n`` contact rows keyed ``{tag}{i}`` with unique emails ``{tag}{i}@example.com``."""
    idx = range(start, start + n)
    return pd.DataFrame(
        {
            "contact_key": [f"{tag}{i}" for i in idx],
            "email": [f"{tag}{i}@example.com" for i in idx],
            "firstname": [f"First{i}" for i in idx],
        }
    )


def key_of_email(email: str) -> str:
    return email.split("@", 1)[0]


def creates(sandbox: SandboxHandle) -> int:
    """Batch-create requests the sandbox received (whatever their answer)."""
    return int(sandbox.counters()["by_route"].get("POST batch/create", 0))


def sandbox_id_map(sandbox: SandboxHandle, object_type: str = "contacts") -> dict[str, str]:
    """Row key → id of every stored contact (key derived from the email); asserts no email repeats."""
    objects = sandbox.objects(object_type)
    emails = Counter(str(o["properties"]["email"]).lower() for o in objects)
    duplicated = {e: n for e, n in emails.items() if n > 1}
    assert not duplicated, f"{len(duplicated)} duplicated emails, e.g. {list(duplicated.items())[:3]}"
    return {key_of_email(str(o["properties"]["email"]).lower()): str(o["id"]) for o in objects}


def load_together(loads: list[Callable[[], LoadResult]]) -> list[LoadResult]:
    """Run the loads in threads released at the same moment; return their results in order."""
    results: list[LoadResult | BaseException | None] = [None] * len(loads)
    start = threading.Barrier(len(loads))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = loads[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(loads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise outcome
    return [r for r in results if isinstance(r, LoadResult)]


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ledger.sqlite"


@pytest.fixture
def open_ledger(ledger_path: Path) -> Iterator[Callable[..., SQLiteLedger]]:
    """Open ledgers on the test's file (``scanning=True``: a :class:`ScanningLedger`); closed at teardown."""
    opened: list[SQLiteLedger] = []

    def build(*, scanning: bool = False) -> SQLiteLedger:
        ledger = ScanningLedger(ledger_path) if scanning else SQLiteLedger(ledger_path)
        opened.append(ledger)
        return ledger

    yield build
    for ledger in opened:
        ledger.close()


@pytest.fixture
def client_for() -> Iterator[Callable[..., HubSpotClient]]:
    """Build clients against a sandbox with fast retries; all are closed at teardown."""
    clients: list[HubSpotClient] = []

    def build(handle: SandboxHandle, **settings: Any) -> HubSpotClient:
        settings.setdefault("retry", FAST_RETRY)
        settings.setdefault("timeout", (2.0, 10.0))
        client = HubSpotClient(handle.token, base_url=handle.base_url, settings=ClientSettings(**settings))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
