"""Running one transaction of a state store: retried when the database says it may be, errors made ours.

Shared by the ledger (:class:`~hubspot_loader.state.sql_ledger.SqlLedger`) and the shared rate window
(:class:`~hubspot_loader.state.rate_budget.SharedRateWindow`). Every transaction either store runs may run
again: a deadlock or serialization failure rolled it back, and after a dropped connection (a server
restart, an idle timeout) its writes are idempotent (upserts of the same values, claims by the same
owner, stamps under a fresh slot id).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hubspot_loader.state.store_errors import LedgerError, LedgerUnavailableError

T = TypeVar("T")

TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
"""PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back; run it again."""
ATTEMPTS = 5
"""Runs of one transaction before its error is raised."""


@contextlib.contextmanager
def write_connection(engine: Engine, lock: threading.Lock | None) -> Iterator[Connection]:
    """Yield a connection in a write transaction, committed at the end, rolled back on any error.

    SQLite (one connection shared by the threads, taking turns under ``lock``) begins it ``IMMEDIATE``: the
    database's write lock is taken when it starts, so another process waits for it instead of failing
    later. PostgreSQL begins it on the first statement.
    """
    with lock or contextlib.nullcontext(), engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def run_transaction(
    connection: Callable[[], AbstractContextManager[Connection]],
    work: Callable[[Connection], T],
    where: str,
) -> T:
    """Run ``work`` in ``connection()``, again after a transient failure; raise our error otherwise.

    ``where`` names the store in errors (e.g. ``"sync state sqlite:///…"``, its URL without a password).

    Raises:
        LedgerUnavailableError: the database could not be reached (after the retries).
        LedgerError: any other database error.

    """
    attempt = 0
    while True:
        attempt += 1
        try:
            with connection() as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            transient = getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
            if (transient or exc.connection_invalidated) and attempt < ATTEMPTS:
                continue
            raise store_failure(exc, where) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise store_failure(exc, where) from exc


def store_failure(exc: sa.exc.SQLAlchemyError, where: str) -> LedgerError:
    """Return the error to raise for ``exc``: the database's first line of reason, never its parameters."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    operational = isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError))
    kind = LedgerUnavailableError if operational else LedgerError
    return kind(f"{where}: {type(cause).__name__}: {reason}")


__all__ = ["ATTEMPTS", "TRANSIENT_SQLSTATES", "run_transaction", "store_failure"]
