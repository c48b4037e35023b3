"""One rate budget for every process (and machine) loading with one token: a rolling window in the state DB.

HubSpot limits an app to ``N`` requests per rolling 10 seconds (reference §7.1) across everything that
uses its token. Each :class:`~hubspot_loader.http.ratelimit.RateLimiter` paces one process; several
processes loading with one token at once each think they have the whole budget. A
:class:`SharedRateWindow` keeps the window's send stamps in the state database, so that every limiter
built with ``shared=SharedRateWindow(...)`` asks it before a send and all of them together stay under
the limit. Two tables, created on first use with ``CREATE TABLE IF NOT EXISTS`` (not part of the
ledger's versioned schema: see :func:`ensure_tables`)::

    rate_budgets      (budget_key TEXT PRIMARY KEY, paused_until DOUBLE,   -- one lock row per budget
                       server_limit INTEGER, server_window_s DOUBLE)       -- HubSpot's latest statement
    rate_budget_slots (budget_key TEXT, slot_id TEXT, stamp DOUBLE,        -- one row per recent send
                       PRIMARY KEY (budget_key, slot_id))
    CREATE INDEX rate_budget_slots_stamp ON rate_budget_slots (budget_key, stamp)

:meth:`SharedRateWindow.try_acquire` is one transaction that locks the budget's row (PostgreSQL
``SELECT … FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``), drops stamps older than the window, counts the rest
and inserts a stamp when fewer than ``limit`` are left, else says how long until one ages out. A stamp
is the moment its request counts from, as in the local limiter (:mod:`hubspot_loader.http.ratelimit`):
the send while the request is in flight, then :meth:`~SharedRateWindow.complete` moves it to the moment
the limiter says (its answer less the shortest recent round trip). :meth:`~SharedRateWindow.pause`
makes everyone wait after a ten-secondly 429 seen by one process, and
:meth:`~SharedRateWindow.set_server_limit` records the ``X-HubSpot-RateLimit-Max`` and interval one process
was told: from then on every process's acquisitions are capped by it, also those of processes that have
not had an answer yet (a load starting late would otherwise use its configured budget for a while).

Clock: stamps are seconds since the epoch, from the PostgreSQL server's ``clock_timestamp()`` (machines
with skewed clocks agree) or, on SQLite (one machine), this process's wall clock. A process that dies
leaves only stamps that age out of the window: nothing to clean up or lease.

The budget key is :func:`~hubspot_loader.core.secrets.token_fingerprint` of the token, never the token.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from hubspot_loader.core.secrets import token_fingerprint
from hubspot_loader.state.engines import create_ledger_engine
from hubspot_loader.state.store_errors import LedgerError
from hubspot_loader.state.store_url import is_sqlite, parse_state_url, redact
from hubspot_loader.state.transactions import run_transaction, write_connection

T = TypeVar("T")
#: pg_advisory_xact_lock key serializing concurrent first creations of the tables ("ratebud")
_DDL_LOCK_KEY = 0x72617465627564
#: seconds since the epoch, from the server's clock (not the transaction's start: ``now()`` is that)
_PG_NOW = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"

_DDL = (
    "CREATE TABLE IF NOT EXISTS rate_budgets ("
    " budget_key TEXT PRIMARY KEY, paused_until {real} NOT NULL DEFAULT 0,"
    " server_limit INTEGER, server_window_s {real})",
    "CREATE TABLE IF NOT EXISTS rate_budget_slots ("
    " budget_key TEXT NOT NULL, slot_id TEXT NOT NULL, stamp {real} NOT NULL,"
    " PRIMARY KEY (budget_key, slot_id))",
    "CREATE INDEX IF NOT EXISTS rate_budget_slots_stamp ON rate_budget_slots (budget_key, stamp)",
)


def ensure_tables(conn: Connection) -> None:
    """Create the budget tables if they are missing, inside the caller's write transaction.

    Plain ``CREATE TABLE IF NOT EXISTS`` beside the ledger, not a schema version 3: the tables hold only
    the last few seconds' stamps (nothing to migrate, losing them costs one window's pacing), a version 2
    ledger made earlier opens unchanged, and an older loader opening a database that has them ignores
    them. On PostgreSQL an advisory lock serializes concurrent first creations (two ``IF NOT EXISTS``
    creations of one table can otherwise collide on its type's name).
    """
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_DDL_LOCK_KEY)))
    real = "DOUBLE PRECISION" if postgres else "REAL"
    for statement in _DDL:
        conn.exec_driver_sql(statement.format(real=real))


class SharedRateWindow:
    """A rolling window of send stamps in the state database, shared by every process using one token.

    It is what :class:`~hubspot_loader.http.ratelimit.RateLimiter` accepts as ``shared``::

        window = SharedRateWindow.for_state(ledger.url, token)
        client = HubSpotClient(token, rate_limiter=RateLimiter(100, learn=True, shared=window))

    Args:
        engine: a SQLAlchemy engine on the state database (SQLite engines must be
            :func:`~hubspot_loader.state.engines.create_ledger_engine`'s: autocommit, one connection).
        budget_key: names the budget (use :func:`budget_key` of the token; never the token itself).
        owns_engine: :meth:`close` disposes of the engine.
        where: how errors name the store (its URL without a password).

    Safe to share between threads. Errors are :class:`~hubspot_loader.state.store_errors.LedgerError`
    (:class:`~hubspot_loader.state.store_errors.LedgerUnavailableError` when the database is unreachable).

    """

    def __init__(
        self, engine: Engine, budget_key: str, *, owns_engine: bool = False, where: str = ""
    ) -> None:
        if not budget_key:
            raise ValueError("budget_key must be a non-empty string")
        self.engine = engine
        self.budget_key = budget_key
        self.where = where or redact(engine.url)
        self._owns_engine = owns_engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite engines have one connection (StaticPool): its threads take turns
        self._lock = threading.Lock() if self._sqlite else None
        self._closed = False
        self.transactions = 0
        """Budget transactions run (acquisitions, completions, pauses): a measure of the DB load."""
        self._run(self._prepare)

    @classmethod
    def for_state(cls, state_url: str | URL, token: str, *, timeout: float = 30.0) -> SharedRateWindow:
        """Open the budget of ``token`` in the state database at ``state_url`` (e.g. ``ledger.url``).

        The window gets its own engine (a SQLite connection, or a small PostgreSQL pool), so budget
        transactions never queue behind the ledger's lock or pool; :meth:`close` disposes of it. SQLite
        runs it with ``synchronous=NORMAL``: stamps need not survive a power loss.
        """
        return cls.open(state_url, budget_key(token), timeout=timeout)

    @classmethod
    def open(cls, state_url: str | URL, key: str, *, timeout: float = 30.0) -> SharedRateWindow:
        """Open the budget named ``key`` (:func:`budget_key`) in the state database (as :meth:`for_state`)."""
        url = parse_state_url(state_url)
        if is_sqlite(url) and url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_ledger_engine(
            url, synchronous="NORMAL" if is_sqlite(url) else "FULL", timeout=timeout
        )
        try:
            return cls(engine, key, owns_engine=True, where=redact(url))
        except BaseException:
            engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r}, budget_key={self.budget_key!r})"

    def close(self) -> None:
        """Dispose of the engine if the window owns it (stamps stay and age out)."""
        if not self._closed:
            self._closed = True
            if self._owns_engine:
                self.engine.dispose()

    def __enter__(self) -> SharedRateWindow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    def _transaction(self) -> AbstractContextManager[Connection]:
        return write_connection(self.engine, self._lock)

    def _run(self, work: Callable[[Connection], T]) -> T:
        if self._closed:
            raise LedgerError(f"{self!r} is closed")
        result = run_transaction(self._transaction, work, f"rate budget in {self.where}")
        self.transactions += 1
        return result

    def _prepare(self, conn: Connection) -> None:
        ensure_tables(conn)
        conn.execute(
            sa.text(
                "INSERT INTO rate_budgets (budget_key, paused_until) VALUES (:k, 0) "
                "ON CONFLICT (budget_key) DO NOTHING"
            ),
            {"k": self.budget_key},
        )

    def _lock_budget(self, conn: Connection) -> tuple[float, float, int | None, float | None]:
        """Lock the budget's row; return ``(now, paused_until, server_limit, server_window_s)``."""
        query = "SELECT paused_until, server_limit, server_window_s FROM rate_budgets WHERE budget_key = :k"
        if self._sqlite:  # BEGIN IMMEDIATE holds the database's write lock already
            row = conn.execute(sa.text(query), {"k": self.budget_key}).one()
            now = time.time()
        else:
            row = conn.execute(sa.text(query + " FOR UPDATE"), {"k": self.budget_key}).one()
            # the clock is read once the lock is held: a SELECT … FOR UPDATE computes its columns before
            # it waits for the lock, so a clock read beside the lock could be older than the wait
            now = conn.execute(sa.text(f"SELECT {_PG_NOW}")).scalar_one()
        limit = None if row[1] is None else int(row[1])
        window = None if row[2] is None else float(row[2])
        return float(now), float(row[0]), limit, window

    def _now_sql(self) -> str:
        return ":now" if self._sqlite else _PG_NOW

    # ------------------------------------------------------------------ the budget

    def acquire_stamped(self, limit: int, window_s: float) -> tuple[str | None, float, float]:
        """Take one slot if the window has one: ``(slot_id, 0, stamp)``, else ``(None, wait_s, now)``.

        One transaction under the budget's lock: stamps older than ``window_s`` are dropped; when fewer than
        ``limit`` are left, a stamp is inserted (the slot counts from now until :meth:`complete` moves it).
        A limit HubSpot stated (:meth:`set_server_limit`) caps ``limit`` and replaces ``window_s``.
        ``wait_s`` is how long until the oldest counted stamp ages out, or until a :meth:`pause` ends.
        ``stamp`` is the database clock.
        """
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be at least 1 and window_s positive")

        def acquire(conn: Connection) -> tuple[str | None, float, float]:
            now, paused_until, server_limit, server_window = self._lock_budget(conn)
            if paused_until > now:
                return None, paused_until - now, now
            capped = limit if server_limit is None else min(limit, server_limit)
            window = window_s if server_window is None else server_window
            return self._take(conn, now, capped, window)

        return self._run(acquire)

    def _take(
        self, conn: Connection, now: float, limit: int, window_s: float
    ) -> tuple[str | None, float, float]:
        """Count and take a slot for :meth:`acquire_stamped`, with the budget's row locked."""
        key = {"k": self.budget_key}
        conn.execute(
            sa.text("DELETE FROM rate_budget_slots WHERE budget_key = :k AND stamp <= :horizon"),
            {**key, "horizon": now - window_s},
        )
        counted: Sequence[Any] = (
            conn.execute(
                sa.text(
                    "SELECT stamp FROM rate_budget_slots WHERE budget_key = :k AND stamp > :horizon "
                    "ORDER BY stamp DESC LIMIT :limit"
                ),
                {**key, "horizon": now - window_s, "limit": limit},
            )
            .scalars()
            .all()
        )
        if len(counted) >= limit:
            return None, max(0.0, float(counted[-1]) + window_s - now), now
        slot_id = uuid.uuid4().hex
        conn.execute(
            sa.text("INSERT INTO rate_budget_slots (budget_key, slot_id, stamp) VALUES (:k, :s, :now)"),
            {**key, "s": slot_id, "now": now},
        )
        return slot_id, 0.0, now

    def try_acquire(self, limit: int, window_s: float) -> tuple[str | None, float]:
        """Take one slot: ``(slot_id, 0.0)``, or ``(None, seconds to wait)`` (see :meth:`acquire_stamped`)."""
        slot_id, wait_s, _ = self.acquire_stamped(limit, window_s)
        return slot_id, wait_s

    def complete(self, slot_id: str, age_s: float = 0.0) -> None:
        """Count a slot from ``age_s`` seconds before now: its request was answered (or failed).

        The local limiter passes how long before the answer its request counts from (the shortest recent
        round trip, see :meth:`~hubspot_loader.http.ratelimit.RateLimiter.complete`); 0 counts it from
        now. Gone slots are ignored.
        """

        def restamp(conn: Connection) -> None:
            conn.execute(
                sa.text(
                    f"UPDATE rate_budget_slots SET stamp = {self._now_sql()} - :age "
                    "WHERE budget_key = :k AND slot_id = :s"
                ),
                {"k": self.budget_key, "s": slot_id, "now": time.time(), "age": max(0.0, float(age_s))},
            )

        self._run(restamp)

    def pause(self, seconds: float) -> None:
        """Refuse every slot for ``seconds`` from now (database clock), or longer if already paused."""
        if not seconds > 0:
            return

        def pause(conn: Connection) -> None:
            until = f"{'MAX' if self._sqlite else 'GREATEST'}(paused_until, {self._now_sql()} + :s)"
            conn.execute(
                sa.text(f"UPDATE rate_budgets SET paused_until = {until} WHERE budget_key = :k"),
                {"k": self.budget_key, "s": float(seconds), "now": time.time()},
            )

        self._run(pause)

    def set_server_limit(self, limit: int, window_s: float) -> None:
        """Record the limit HubSpot stated (``X-HubSpot-RateLimit-Max`` per ``window_s``) for every process.

        The latest statement wins (a tier may go up as well as down); acquisitions are capped by it.
        """
        if limit < 1 or not window_s > 0:
            return

        def record(conn: Connection) -> None:
            conn.execute(
                sa.text(
                    "UPDATE rate_budgets SET server_limit = :limit, server_window_s = :window "
                    "WHERE budget_key = :k"
                ),
                {"k": self.budget_key, "limit": int(limit), "window": float(window_s)},
            )

        self._run(record)

    def stamps(self) -> list[float]:
        """Every stamp the budget holds now, oldest first (for inspection and tests)."""

        def read(conn: Connection) -> list[float]:
            query = "SELECT stamp FROM rate_budget_slots WHERE budget_key = :k ORDER BY stamp"
            rows: Sequence[Any] = conn.execute(sa.text(query), {"k": self.budget_key}).scalars().all()
            return [float(stamp) for stamp in rows]

        return self._run(read)

    def clock(self) -> float:
        """Return the budget's clock: the PostgreSQL server's, or this machine's (SQLite) epoch seconds."""
        if self._sqlite:
            return time.time()
        return self._run(lambda conn: float(conn.execute(sa.text(f"SELECT {_PG_NOW}")).scalar_one()))


def budget_key(token: str) -> str:
    """Return the budget key of a token: its fingerprint (a SHA-256 prefix), never the token."""
    return fingerprint_budget_key(token_fingerprint(token))


def fingerprint_budget_key(fingerprint: str) -> str:
    """Return the budget key of the token with this :func:`~hubspot_loader.core.secrets.token_fingerprint`."""
    return f"token:{fingerprint}"


__all__ = ["SharedRateWindow", "budget_key", "ensure_tables", "fingerprint_budget_key"]
