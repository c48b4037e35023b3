"""A first open of a SQLite ledger waits for another process's lock on the new database instead of failing.

SQLite answers ``PRAGMA journal_mode=WAL`` with "database is locked" at once, without its busy wait, while
another connection holds a write lock on a database still in rollback-journal mode: the moment two
processes open a fresh ledger together. CI met exactly that (``test_concurrent_first_opens_…[sqlite]``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from hubspot_loader.state.sql_ledger import SQLiteLedger
from hubspot_loader.state.store_errors import LedgerUnavailableError


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS other_tool (a)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO other_tool VALUES (1)")
    return holder


def test_sqlite_itself_refuses_the_switch_to_wal_at_once_under_a_lock(tmp_path: Path) -> None:
    holder = _hold_write_lock(tmp_path / "ledger.sqlite")
    other = sqlite3.connect(tmp_path / "ledger.sqlite", timeout=30, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("PRAGMA journal_mode=WAL")  # no busy wait: the reason the ledger retries it
    holder.rollback()


def test_an_open_waits_for_the_lock_and_then_opens_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    holder = _hold_write_lock(path)
    opened: list[SQLiteLedger] = []
    failed: list[BaseException] = []

    def open_ledger() -> None:
        try:
            opened.append(SQLiteLedger(path, timeout=60))
        except BaseException as exc:  # reported below
            failed.append(exc)

    opener = threading.Thread(target=open_ledger)
    opener.start()
    opener.join(timeout=0.5)  # however long this lasts, the opener cannot finish while the lock is held
    assert not opened and not failed, failed
    holder.execute("COMMIT")
    opener.join()
    assert not failed, failed
    with opened[0]:
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_an_open_gives_up_after_its_timeout_with_our_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    holder = _hold_write_lock(path)
    started = time.monotonic()
    with pytest.raises(LedgerUnavailableError, match="locked"):
        SQLiteLedger(path, timeout=0.3)
    assert time.monotonic() - started >= 0.3  # it waited its timeout, not failing at the first refusal
    holder.rollback()
