"""SQLAlchemy engines for the ledger: one SQLite connection in WAL mode, or a PostgreSQL connection pool.

SQLite
    One connection (``StaticPool``) shared by the process's threads under the ledger's lock, as the
    stdlib ledger of version 1 did. ``sqlite3`` runs in autocommit mode (``isolation_level=None``) so
    the ledger issues ``BEGIN IMMEDIATE`` itself: a write transaction takes the database's write lock
    when it starts, and another process waits up to ``timeout`` seconds for it. Reads run outside a
    transaction (WAL: they never wait for a writer). ``journal_mode=WAL`` and ``synchronous`` (``FULL``
    by default: a committed write-ahead survives power loss) are set on the connection. SQLite answers
    the switch to WAL with "database is locked" at once, without waiting, while another process holds
    the new database's lock (two first opens at once), so it is tried again until ``timeout``.
PostgreSQL
    A pool of psycopg 3 connections (threads each take their own). A connection the server dropped
    (a restart, an idle timeout) is replaced and the transaction run again by the ledger, which is safe
    because every ledger write is idempotent; that costs no round trip on the usual path, unlike
    ``pool_pre_ping``. Transactions run at ``READ COMMITTED``; writes are row-level
    ``INSERT … ON CONFLICT`` upserts, so concurrent loads of different rows never wait on each other.

Both engines hide SQL parameters from error messages and logs (``hide_parameters``): they hold row
keys and, for contacts, emails.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import StaticPool

from hubspot_loader.state.store_url import is_sqlite

SYNCHRONOUS_SETTINGS = ("OFF", "NORMAL", "FULL", "EXTRA")
#: connections per process: the client's worker threads (4 by default) plus the load's own thread
POOL_SIZE = 6
POOL_OVERFLOW = 10
#: pause between tries of the switch to WAL while another process holds the database's lock
WAL_RETRY_PAUSE_S = 0.02


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _enter_wal(cursor: Any, timeout: float) -> None:
    """Switch the connection's database to WAL, waiting up to ``timeout`` s for another process's lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(WAL_RETRY_PAUSE_S)


def _sqlite_engine(url: URL, synchronous: str, timeout: float) -> Engine:
    engine = sa.create_engine(
        url,
        poolclass=StaticPool,
        connect_args={"timeout": timeout, "check_same_thread": False},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the ledger issues BEGIN IMMEDIATE itself
        cursor = dbapi_connection.cursor()
        try:
            _enter_wal(cursor, timeout)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    return engine


def _postgres_engine(url: URL, timeout: float) -> Engine:
    return sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=max(timeout, 1.0),
        hide_parameters=True,
        connect_args={"connect_timeout": max(1, round(timeout)), "application_name": "hubspot_loader"},
    )


def create_ledger_engine(url: URL, *, synchronous: str = "FULL", timeout: float = 30.0) -> Engine:
    """Build the engine for a parsed state URL (module docstring); ``synchronous`` applies to SQLite."""
    if is_sqlite(url):
        setting = synchronous.upper()
        if setting not in SYNCHRONOUS_SETTINGS:
            choices = ", ".join(SYNCHRONOUS_SETTINGS)
            raise ValueError(f"bad synchronous setting {synchronous!r}: one of {choices}")
        return _sqlite_engine(url, setting, timeout)
    return _postgres_engine(url, timeout)


__all__ = ["SYNCHRONOUS_SETTINGS", "create_ledger_engine"]
