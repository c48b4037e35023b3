"""The ledger on SQLite or PostgreSQL: one implementation over SQLAlchemy Core (see ``docs/ledger.md``).

:class:`SqlLedger` implements :class:`~hubspot_loader.state.ledger.SyncLedger` for any state URL;
:class:`SQLiteLedger` is the same ledger opened on a file path (the version 1 constructor). Engines and
transactions: :mod:`hubspot_loader.state.engines`; statements: :mod:`hubspot_loader.state.statements`;
tables and migrations: :mod:`hubspot_loader.state.schema`.

Leases (schema version 2) let several loads of one portal and object type run at once without sending a
row twice: :meth:`SqlLedger.mark_pending` with ``lease_owner`` claims rows in the transaction that writes
them pending, :meth:`SqlLedger.claim_in_doubt` takes over the rows in doubt (pending rows nobody holds a
live lease on, e.g. after a killed run) for reconciliation, :meth:`SqlLedger.settle` with ``lease_owner``
ends the lease of rows it settles, and :meth:`SqlLedger.release_leases` ends what a run still holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Row

from hubspot_loader.state import statements as st
from hubspot_loader.state.brief_scan import SCAN_MIN_ROWS, SCAN_RATIO, object_type_rows, scan_briefs
from hubspot_loader.state.brief_scan import driver_rows as _driver_rows
from hubspot_loader.state.brief_table import BriefTable
from hubspot_loader.state.engines import create_ledger_engine
from hubspot_loader.state.entries import (
    ALREADY_CREATED,
    CREATED,
    IN_FLIGHT,
    PENDING,
    STATUSES,
    UNRECONCILED,
    Brief,
    Claim,
    LedgerEntry,
    PendingRow,
    Refusal,
    Settlement,
)
from hubspot_loader.state.schema import ENTRY_COLUMNS, prepare_schema, sync_rows
from hubspot_loader.state.store_errors import LedgerError
from hubspot_loader.state.store_url import is_sqlite, parse_state_url, redact, sqlite_url
from hubspot_loader.state.transactions import run_transaction, write_connection

T = TypeVar("T")
_KEYS_PER_QUERY = 500
_ENTRY_NAMES = tuple(c.name for c in ENTRY_COLUMNS)
if set(_ENTRY_NAMES) != {f.name for f in dataclasses.fields(LedgerEntry)}:  # pragma: no cover
    raise ImportError("the ledger's columns and LedgerEntry's fields differ")
_new = object.__new__


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _entry(row: Row[Any]) -> LedgerEntry:
    """Return the entry of a row whose first columns are :data:`ENTRY_COLUMNS`, in that order.

    Built without the dataclass's ``__init__``: a frozen dataclass sets its 16 fields one
    ``object.__setattr__`` at a time (about 2 µs), and a diff of 1M rows looks 1M entries up. Every field
    is set (:data:`_ENTRY_NAMES` are exactly the fields), so the entry is the one ``__init__`` would build.
    """
    entry = _new(LedgerEntry)
    entry.__dict__.update(zip(_ENTRY_NAMES, row, strict=False))  # a row may have more columns
    return entry


def _check_lease(lease_owner: str | None, lease_seconds: float | None) -> None:
    if lease_owner is None:
        if lease_seconds is not None:
            raise ValueError("lease_seconds without lease_owner: name the run that holds the lease")
        return
    if not isinstance(lease_owner, str) or not lease_owner.strip():
        raise ValueError(f"lease_owner must be a non-empty string, not {lease_owner!r}")
    if lease_seconds is None or not lease_seconds > 0:
        raise ValueError(f"lease_seconds must be a positive number of seconds, not {lease_seconds!r}")


class SqlLedger:
    """A :class:`~hubspot_loader.state.ledger.SyncLedger` in a SQLite or PostgreSQL database.

    Args:
        state_url: ``sqlite:///PATH``, ``postgresql+psycopg://USER@HOST:PORT/DB`` or a SQLAlchemy ``URL``
            (see :mod:`hubspot_loader.state.store_url`).
        synchronous: SQLite's ``synchronous`` setting (``FULL``: write-aheads survive power loss).
        timeout: seconds to wait for SQLite's write lock, or for a PostgreSQL connection.

    Opening creates the tables, or migrates an older schema in one transaction
    (:func:`~hubspot_loader.state.schema.prepare_schema`). Safe to share between threads; several
    processes (and, on PostgreSQL, machines) may write at once.

    Raises:
        StateUrlError: the URL names no supported store.
        LedgerSchemaError: the database holds a newer (or unknown) ledger schema.
        LedgerUnavailableError: the database cannot be reached or opened.

    """

    def __init__(
        self, state_url: str | os.PathLike[str] | URL, *, synchronous: str = "FULL", timeout: float = 30.0
    ) -> None:
        self.url = parse_state_url(state_url)
        self.where = redact(self.url)
        """The store's URL with its password masked (used in reprs and errors)."""
        self._sqlite = is_sqlite(self.url)
        database = self.url.database
        if self._sqlite and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock() if self._sqlite else None
        self._closed = False
        self._engine = create_ledger_engine(self.url, synchronous=synchronous, timeout=timeout)
        try:
            self.migrated_from = self._run(lambda conn: prepare_schema(conn, self.where), write=True)
            """The schema version found on opening (``None``: a new ledger), before any migration."""
        except BaseException:
            self._engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r})"

    def __enter__(self) -> SqlLedger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        if write:
            with write_connection(self._engine, self._lock) as conn:
                yield conn
            return
        with self._lock or contextlib.nullcontext(), self._engine.connect() as conn:
            yield conn

    def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``work`` in a connection (a committed transaction when ``write``), with errors made ours.

        Run again after a transient failure (:func:`~hubspot_loader.state.transactions.run_transaction`):
        every ledger transaction is idempotent (upserts of the same values, claims by the same owner).
        """
        if self._closed:
            raise LedgerError(f"{self!r} is closed")
        return run_transaction(lambda: self._connection(write), work, f"sync state {self.where}")

    def _entries(self, query: sa.Select[Any]) -> list[LedgerEntry]:
        return self._run(lambda conn: [_entry(r) for r in conn.execute(query)], write=False)

    # ------------------------------------------------------------------ SyncLedger

    def lookup(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return the entries of ``keys`` that exist, by row key."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, LedgerEntry] = {}
        for chunk in _chunks(wanted, st.keys_per_query(self._engine.dialect)):

            def read(conn: Connection, chunk: list[str] = chunk) -> list[LedgerEntry]:
                filters = (st.row_filter(portal, object_type), st.keys_filter(conn.dialect, chunk))
                return [_entry(r) for r in conn.execute(sa.select(*ENTRY_COLUMNS).where(*filters)).all()]

            found.update((e.row_key, e) for e in self._run(read, write=False))
        return found

    def briefs(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, Brief]:
        """Return ``(status, hubspot_id, content_hash)`` of the ``keys`` that exist, by row key.

        A lean :meth:`lookup`: three columns and a tuple per row instead of a :class:`LedgerEntry`, about 2.5x
        less CPU; a sync reads these for every row and the full entries only of the rows it writes.
        """
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Brief] = {}
        columns = (sync_rows.c.row_key, sync_rows.c.status, sync_rows.c.hubspot_id, sync_rows.c.content_hash)
        for chunk in _chunks(wanted, st.keys_per_query(self._engine.dialect)):

            def read(conn: Connection, chunk: list[str] = chunk) -> Sequence[Any]:
                filters = (st.row_filter(portal, object_type), st.keys_filter(conn.dialect, chunk))
                return _driver_rows(conn.execute(sa.select(*columns).where(*filters)))

            found.update((row[0], row[1:]) for row in self._run(read, write=False))
        return found

    def brief_table(self, portal: str, object_type: str, rows: int) -> BriefTable | None:
        """Return the briefs of every row of the object type, scanned at once, for a load of ``rows`` rows.

        ``None`` when looking the load's keys up one by one (:meth:`briefs`) is cheaper: fewer than
        :data:`~hubspot_loader.state.brief_scan.SCAN_MIN_ROWS` rows, or more than
        :data:`~hubspot_loader.state.brief_scan.SCAN_RATIO` ledger rows per loaded row.
        """
        if rows < SCAN_MIN_ROWS:
            return None

        def read(conn: Connection) -> BriefTable | None:
            known = object_type_rows(conn, portal, object_type)
            return None if known > SCAN_RATIO * rows else scan_briefs(conn, portal, object_type, known)

        return self._run(read, write=False)

    def in_doubt(self, portal: str, object_type: str) -> list[LedgerEntry]:
        """Return every ``pending`` entry of the object type, ordered by row key (whoever holds it)."""
        query = (
            sa.select(*ENTRY_COLUMNS)
            .where(st.pending_filter(portal, object_type))
            .order_by(sync_rows.c.row_key)
        )
        return self._entries(query)

    def mark_pending(
        self,
        portal: str,
        object_type: str,
        rows: Sequence[PendingRow],
        *,
        run_id: str,
        partition: str | None = None,
        lease_owner: str | None = None,
        lease_seconds: float | None = None,
        resend_created: bool = False,
    ) -> Claim:
        """Write ``rows`` ahead as pending in one committed transaction; keep ``hubspot_id``/``first_run_id``.

        A row's ``fingerprint`` goes into ``sent_fingerprint`` when given (``None``: the stored one stays).

        Without ``lease_owner`` every row is written (version 1 semantics: one writer per object type) and
        leases are left as they are. With it, the rows are also leased to ``lease_owner`` for
        ``lease_seconds`` in the same transaction, and only rows the claim may take are written: new rows,
        rows the owner already holds, and, where no other owner holds a live lease, ``failed`` rows (and
        ``created`` ones with ``resend_created``, for a full refresh). The others are refused, untouched:

        - ``in_flight``: another owner holds a live lease (it is sending the row now);
        - ``created``: the row was created since the caller looked it up (skip it; the entry has its id);
        - ``in_doubt``: the row is pending and not the owner's: reconcile it first (:meth:`claim_in_doubt`),
          never resend it blindly.

        Returns:
            The :class:`~hubspot_loader.state.entries.Claim`: the keys written and the refusals by key.

        """
        _check_lease(lease_owner, lease_seconds)
        latest = {r.row_key: r for r in rows}  # a key given twice: the last one counts
        now = _now_text()
        params = [
            {
                "portal": portal, "object_type": object_type, "row_key": key,
                "content_hash": r.content_hash, "first_run_id": run_id, "last_run_id": run_id,
                "status": PENDING, "updated_at": now, "partition": partition,
                "unique_property": r.unique_property, "unique_value": r.unique_value,
                "sent_fingerprint": r.fingerprint,
            }
            for key, r in sorted(latest.items())  # one lock order for every writer (no deadlocks)
        ]  # fmt: skip
        if not params:
            return Claim(claimed=frozenset())
        if lease_owner is None:
            columns = tuple(params[0])
            self._run(
                lambda conn: conn.execute(
                    st.pending_upsert(conn.dialect, columns), st.batch_params(conn.dialect, params)
                ),
                write=True,
            )
            return Claim(claimed=frozenset(latest))
        assert lease_seconds is not None

        def claim(conn: Connection) -> Claim:
            clock = st.clock_values(conn.dialect, lease_seconds)  # read in the transaction, as before
            rows = [{**p, **clock} for p in params] if clock else params
            stmt = st.claiming_upsert(
                conn.dialect, lease_owner, lease_seconds, resend_created, tuple(params[0])
            )
            written = conn.execute(stmt, st.batch_params(conn.dialect, rows)).rowcount  # inserted or updated
            if written == len(params):
                return Claim(claimed=frozenset(latest))  # the usual case: no row was refused, nothing to read
            return self._claim_outcome(conn, portal, object_type, sorted(latest), lease_owner)

        return self._run(claim, write=True)

    @staticmethod
    def _claim_outcome(
        conn: Connection, portal: str, object_type: str, keys: list[str], lease_owner: str
    ) -> Claim:
        """Read who holds ``keys`` after a claiming upsert, in its transaction: the owner's are claimed."""
        claimed: set[str] = set()
        refusals: dict[str, Refusal] = {}
        for chunk in _chunks(keys, _KEYS_PER_QUERY):
            for row in conn.execute(st.holders_select(conn.dialect, portal, object_type, chunk)):
                entry = _entry(row)
                if entry.lease_owner == lease_owner:
                    claimed.add(entry.row_key)
                elif row._mapping["lease_live"]:
                    refusals[entry.row_key] = Refusal(IN_FLIGHT, entry)
                elif entry.status == CREATED:
                    refusals[entry.row_key] = Refusal(ALREADY_CREATED, entry)
                else:
                    refusals[entry.row_key] = Refusal(UNRECONCILED, entry)
        return Claim(frozenset(claimed), refusals)

    def settle(
        self,
        portal: str,
        object_type: str,
        settlements: Sequence[Settlement],
        *,
        run_id: str,
        partition: str | None = None,
        lease_owner: str | None = None,
    ) -> None:
        """Record the outcome of rows in one committed transaction (unknown rows are inserted).

        ``status``, ``hubspot_id`` and ``error`` are written as given; ``partition``, ``content_hash`` and
        ``sent_fingerprint`` (a settlement's ``fingerprint``) only when given (not ``None``). With
        ``lease_owner``, the owner's lease on the rows settled ``created``/``failed`` ends; rows settled
        ``pending`` (in doubt) stay held until :meth:`release_leases`. Bad settlements are refused
        (``ValueError``) before anything is written.
        """
        for s in settlements:
            if s.status not in STATUSES:
                raise ValueError(f"bad ledger status {s.status!r} for row {s.row_key!r}")
            if s.status == CREATED and not s.hubspot_id:
                raise ValueError(f"row {s.row_key!r} settled as created without a HubSpot id")
        latest = {s.row_key: s for s in settlements}
        now = _now_text()
        params = [
            {
                "portal": portal, "object_type": object_type, "row_key": key, "hubspot_id": s.hubspot_id,
                "first_run_id": run_id, "last_run_id": run_id, "status": s.status, "error": s.error,
                "updated_at": now, "partition": partition, "content_hash": s.content_hash,
                "sent_fingerprint": s.fingerprint,
            }
            for key, s in sorted(latest.items())
        ]  # fmt: skip
        if params:
            columns = tuple(params[0])
            self._run(
                lambda conn: conn.execute(
                    st.settle_upsert(conn.dialect, lease_owner, columns),
                    st.batch_params(conn.dialect, params),
                ),
                write=True,
            )

    def forget(self, portal: str, object_type: str, keys: Sequence[str]) -> int:
        """Delete the rows of ``keys`` in one committed transaction (e.g. records a mirror archived).

        Keys that are not in the ledger are ignored. Returns the number of rows deleted.
        """
        wanted = sorted(set(keys))  # one lock order for every writer (no deadlocks)
        if not wanted:
            return 0

        def delete(conn: Connection) -> int:
            return sum(
                int(conn.execute(st.forget_delete(conn.dialect, portal, object_type, chunk)).rowcount)
                for chunk in _chunks(wanted, _KEYS_PER_QUERY)
            )

        return self._run(delete, write=True)

    def id_map(self, portal: str, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Row key → HubSpot id of every created row (of one partition when ``partition`` is given)."""
        query = sa.select(sync_rows.c.row_key, sync_rows.c.hubspot_id).where(
            st.row_filter(portal, object_type), sync_rows.c.status == CREATED
        )
        if partition is not None:
            query = query.where(sync_rows.c.partition == partition)
        rows = self._run(lambda conn: conn.execute(query).all(), write=False)
        return {str(k): str(v) for k, v in rows}

    def close(self) -> None:
        """Close the connections (further calls fail; closing twice is harmless)."""
        if not self._closed:
            self._closed = True
            with self._lock or contextlib.nullcontext():
                self._engine.dispose()

    # ------------------------------------------------------------------ leases

    def claim_in_doubt(
        self, portal: str, object_type: str, *, lease_owner: str, lease_seconds: float
    ) -> list[LedgerEntry]:
        """Lease the rows in doubt to ``lease_owner`` and return them (ordered by key) for reconciliation.

        Rows in doubt are the ``pending`` rows of the object type that no other owner holds a live lease
        on: left by a killed or stopped run, or by a run whose lease expired. Rows another owner is
        sending now are left to it. Settle the returned rows (with ``lease_owner``) once looked up.
        """
        _check_lease(lease_owner, lease_seconds)
        stmt_for = st.claim_in_doubt_update

        def claim(conn: Connection) -> list[LedgerEntry]:
            stmt = stmt_for(conn.dialect, portal, object_type, lease_owner, lease_seconds)
            return sorted((_entry(r) for r in conn.execute(stmt)), key=lambda e: e.row_key)

        return self._run(claim, write=True)

    def release_leases(self, lease_owner: str) -> int:
        """End every lease ``lease_owner`` holds (at the end of a run); return how many rows it held."""
        stmt = (
            sync_rows.update()
            .where(sync_rows.c.lease_owner == lease_owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        return int(self._run(lambda conn: conn.execute(stmt).rowcount, write=True))

    def renew_leases(self, lease_owner: str, lease_seconds: float) -> int:
        """Extend every lease ``lease_owner`` holds to ``lease_seconds`` from now; return how many."""
        _check_lease(lease_owner, lease_seconds)

        def renew(conn: Connection) -> int:
            stmt = (
                sync_rows.update()
                .where(sync_rows.c.lease_owner == lease_owner)
                .values(lease_expires_at=st.expiry_expr(conn.dialect, lease_seconds))
            )
            return int(conn.execute(stmt).rowcount)

        return self._run(renew, write=True)

    # ------------------------------------------------------------------ inspection

    def entries(self, portal: str | None = None, object_type: str | None = None) -> list[LedgerEntry]:
        """Return every entry (optionally of one portal and object type), ordered by key."""
        query = sa.select(*ENTRY_COLUMNS)
        if portal is not None:
            query = query.where(sync_rows.c.portal == portal)
        if object_type is not None:
            query = query.where(sync_rows.c.object_type == object_type)
        c = sync_rows.c
        return self._entries(query.order_by(c.portal, c.object_type, c.row_key))

    def counts(self, portal: str, object_type: str) -> dict[str, int]:
        """Rows per status for one portal and object type."""
        query = (
            sa.select(sync_rows.c.status, sa.func.count().label("rows"))
            .where(st.row_filter(portal, object_type))
            .group_by(sync_rows.c.status)
        )
        rows = self._run(lambda conn: conn.execute(query).all(), write=False)
        return {str(r.status): int(r.rows) for r in rows}


class SQLiteLedger(SqlLedger):
    """The ledger in one SQLite file (WAL mode), shared by the threads of one process.

    Args:
        path: the database file; parent directories are created. ``":memory:"`` works for tests.
        synchronous: SQLite's ``synchronous`` setting. ``FULL`` (default) makes every write-ahead
            durable against power loss, not only against a killed process (``NORMAL`` suffices for that).
        timeout: seconds to wait for another process's write lock.

    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", timeout: float = 30.0) -> None:
        self.path = str(path)
        super().__init__(sqlite_url(self.path), synchronous=synchronous, timeout=timeout)

    def __repr__(self) -> str:
        return f"SQLiteLedger({self.path!r})"


def open_ledger(
    state_url: str | os.PathLike[str] | URL, *, synchronous: str = "FULL", timeout: float = 30.0
) -> SqlLedger:
    """Open the ledger a state URL names: a :class:`SQLiteLedger` for SQLite, else a :class:`SqlLedger`.

    ``state_url`` is ``sqlite:///PATH``, a plain file path, or ``postgresql+psycopg://USER@HOST:PORT/DB``
    (see :mod:`hubspot_loader.state.store_url`; :func:`~hubspot_loader.state.location.default_state_url`
    gives the default).
    """
    url = parse_state_url(state_url)
    if is_sqlite(url):
        return SQLiteLedger(url.database or ":memory:", synchronous=synchronous, timeout=timeout)
    return SqlLedger(url, synchronous=synchronous, timeout=timeout)


__all__ = ["SQLiteLedger", "SqlLedger", "open_ledger"]

