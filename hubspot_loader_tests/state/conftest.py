"""Fixtures of the ledger suite: every test runs on SQLite and on a real PostgreSQL server.

``state_url`` (from ``hubspot_loader_tests/conftest.py``) is parametrized over both backends: a SQLite file
in the test's tmp dir, or a fresh schema in the session's throwaway PostgreSQL
(``hubspot_loader_tests/postgres.py``; started only when a PostgreSQL test runs). ``ledgers()`` opens ledgers
on it and closes them at teardown; ``workers`` runs ``ledger_worker`` commands in child processes and kills
any left at teardown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubspot_loader.state.ledger import PendingRow, content_hash

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTAL = "test-portal"
#: Hang guard only: a child on a loaded 2-core machine is just slower.
CHILD_TIMEOUT_S = 180.0


def pending(key: str, value: str | None = None) -> PendingRow:
    """A write-ahead record, with ``email`` as unique property when ``value`` is given."""
    return PendingRow(key, content_hash({"email": value or key}), "email" if value else None, value)


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = 60.0) -> object:
    """Poll ``condition`` until it returns something truthy (a bounded wait on a state, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)


class Workers:
    """Start worker commands (``module``: ``ledger_worker`` by default) in child processes."""

    def __init__(self, module: str = "hubspot_loader_tests.state.ledger_worker") -> None:
        self.module = module
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start one worker (stdin, stdout and stderr are pipes; text mode)."""
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", self.module, *args],
            cwd=REPO_ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.started.append(process)
        return process

    @staticmethod
    def go(*processes: subprocess.Popen[str]) -> None:
        """Release workers waiting for ``go`` (as close together as two writes can be)."""
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()

    @staticmethod
    def finish(process: subprocess.Popen[str]) -> str:
        """Wait for a worker to exit 0 and return its stdout."""
        out, err = process.communicate(timeout=CHILD_TIMEOUT_S)
        assert process.returncode == 0, f"worker failed ({process.returncode}):\n{err[-4000:]}"
        return out

    def stop_all(self) -> None:
        """Kill the workers still running."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=CHILD_TIMEOUT_S)


@pytest.fixture
def workers() -> Iterator[Workers]:
    """Child processes running ledger commands; killed at teardown if still running."""
    pool = Workers()
    yield pool
    pool.stop_all()
