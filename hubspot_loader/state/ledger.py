"""Sync state (the *ledger*): which warehouse rows exist in which HubSpot portal, under which id.

The ledger makes loads incremental and crash-safe. For every (portal, object type, row key) it keeps the
HubSpot id, a hash of the payload last sent, the first and last run that sent the row, and a status:

``pending``
    the row was (or is about to be) sent and no answer has settled it: *in doubt*. Every batch is written
    ahead as pending **before** its first request leaves, so after a crash (even ``SIGKILL``) the next
    run knows exactly which rows may have been created without an answer, and reconciles them (reads
    them back by their unique property) before anything is resent.
``created``
    HubSpot holds the object; ``hubspot_id`` is its id. Incremental runs skip the row.
``failed``
    HubSpot (or the loader) rejected the row; ``error`` says why. The next run retries it.

:class:`SyncLedger` is the interface :func:`hubspot_loader.load.load_dataframe` uses; :class:`SQLiteLedger`
implements it on a local SQLite file (stdlib ``sqlite3``, WAL mode, safe to share between the client's
worker threads and between processes on one machine). A Postgres-backed store for multi-machine
deployments implements the same six methods over the same table.

Schema (``schema_version`` 1)::

    CREATE TABLE sync_rows (
        portal          TEXT NOT NULL,  -- portal identity (see default_portal); never the token
        object_type     TEXT NOT NULL,  -- as given to the load: contacts, companies, 0-3, p_vendor ...
        row_key         TEXT NOT NULL,  -- the warehouse key (the key column's formatted value)
        hubspot_id      TEXT,           -- the object's id once known
        content_hash    TEXT,           -- sha256 of the last payload sent (properties + associations)
        first_run_id    TEXT,           -- the run that first sent (or first recorded) the row
        last_run_id     TEXT,           -- the run that last sent or settled the row
        status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'failed')),
        error           TEXT,           -- why the last attempt failed (NULL after success)
        updated_at      TEXT NOT NULL,  -- ISO 8601 UTC
        partition       TEXT,           -- the Dagster partition key of the run that last sent the row
        unique_property TEXT,           -- the property the row can be looked up by (email, external id)
        unique_value    TEXT,           -- its value in the last payload sent (for reconciliation)
        PRIMARY KEY (portal, object_type, row_key)
    );
    CREATE INDEX sync_rows_status ON sync_rows (portal, object_type, status);
    CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);  -- schema_version

``unique_property``/``unique_value`` go beyond the minimum: they let a pending row be reconciled even
when it is no longer in the frame or its data changed. For contacts the value is an email address, so
the state file holds personal data: keep it where the warehouse extract would be kept.

The access token is never stored. The portal identity is a caller-given string (the HubSpot account
id is the best choice); :func:`default_portal` derives one from the API base URL and the first 12 hex
digits of the token's SHA-256, which identifies the token without revealing it. Rotating the token
changes that default identity, so set ``portal`` explicitly in production.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from hubspot_loader.core.secrets import token_fingerprint as token_fingerprint

PENDING = "pending"
"""Sent (or about to be sent) without a settling answer: the row may exist in HubSpot."""
CREATED = "created"
"""HubSpot holds the object; ``hubspot_id`` is set."""
FAILED = "failed"
"""Rejected; retried by the next run."""

SCHEMA_VERSION = "1"
_KEYS_PER_QUERY = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_rows (
    portal          TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    row_key         TEXT NOT NULL,
    hubspot_id      TEXT,
    content_hash    TEXT,
    first_run_id    TEXT,
    last_run_id     TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'failed')),
    error           TEXT,
    updated_at      TEXT NOT NULL,
    partition       TEXT,
    unique_property TEXT,
    unique_value    TEXT,
    PRIMARY KEY (portal, object_type, row_key)
);
CREATE INDEX IF NOT EXISTS sync_rows_status ON sync_rows (portal, object_type, status);
CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_COLUMNS = (
    "portal, object_type, row_key, hubspot_id, content_hash, first_run_id, last_run_id, status, error, "
    "updated_at, partition, unique_property, unique_value"
)

_COLUMN_NAMES = tuple(c.strip() for c in _COLUMNS.split(","))


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger."""

    portal: str
    object_type: str
    row_key: str
    status: str
    hubspot_id: str | None = None
    content_hash: str | None = None
    first_run_id: str | None = None
    last_run_id: str | None = None
    error: str | None = None
    updated_at: str | None = None
    partition: str | None = None
    unique_property: str | None = None
    unique_value: str | None = None


@dataclass(frozen=True)
class PendingRow:
    """A row about to be sent: written ahead as ``pending``."""

    row_key: str
    content_hash: str
    unique_property: str | None = None
    unique_value: str | None = None


@dataclass(frozen=True)
class Settlement:
    """The state a row is settled to: ``status`` with ``hubspot_id`` and ``error`` exactly as given."""

    row_key: str
    status: str
    hubspot_id: str | None = None
    error: str | None = None


@runtime_checkable
class SyncLedger(Protocol):
    """The sync-state store :func:`~hubspot_loader.load.load_dataframe` reads and writes.

    Implementations must be safe to call from several threads at once (``mark_pending`` runs in the
    client's worker threads) and must make ``mark_pending`` durable before returning: the batch is sent
    right after it.
    """

    def lookup(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return the entries of ``keys`` that exist, by row key."""
        ...

    def in_doubt(self, portal: str, object_type: str) -> list[LedgerEntry]:
        """Return every ``pending`` entry of the object type (rows an interrupted run may have created)."""
        ...

    def mark_pending(
        self,
        portal: str,
        object_type: str,
        rows: Sequence[PendingRow],
        *,
        run_id: str,
        partition: str | None = None,
    ) -> None:
        """Write ``rows`` ahead as pending (keeping a known ``hubspot_id`` and ``first_run_id``)."""
        ...

    def settle(
        self,
        portal: str,
        object_type: str,
        settlements: Sequence[Settlement],
        *,
        run_id: str,
        partition: str | None = None,
    ) -> None:
        """Record the outcome of rows (inserting rows not yet known)."""
        ...

    def id_map(self, portal: str, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Row key → HubSpot id of every created row (of one partition when ``partition`` is given)."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


def content_hash(properties: dict[str, str], associations: Sequence[dict[str, Any]] = ()) -> str:
    """SHA-256 of the canonical JSON of a payload's properties and associations (not its trace id)."""
    body = {"properties": properties, "associations": list(associations)}
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def default_portal(base_url: str, fingerprint: str) -> str:
    """Return the default portal identity ``"<base_url>#<token fingerprint>"`` (see the module docstring)."""
    return f"{base_url.rstrip('/')}#{fingerprint}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SQLiteLedger:
    """A :class:`SyncLedger` in one SQLite file (WAL mode), shared by the threads of one process.

    Args:
        path: the database file; parent directories are created. ``":memory:"`` works for tests.
        synchronous: SQLite's ``synchronous`` setting. ``FULL`` (default) makes every write-ahead
            durable against power loss, not only against a killed process (``NORMAL`` suffices for that).
        timeout: seconds to wait for another process's write lock.

    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", timeout: float = 30.0) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"bad synchronous setting {synchronous!r}")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=timeout, check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        with self._lock:
            self._conn.executescript(_SCHEMA)
        with self._transaction() as cur:
            row = cur.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            elif row[0] != SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: ledger schema version {row[0]}, this loader reads {SCHEMA_VERSION}"
                )

    def __repr__(self) -> str:
        return f"SQLiteLedger({self.path!r})"

    def __enter__(self) -> SQLiteLedger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    class _Tx:
        def __init__(self, ledger: SQLiteLedger) -> None:
            self.ledger = ledger

        def __enter__(self) -> sqlite3.Cursor:
            self.ledger._lock.acquire()
            try:
                self.cursor = self.ledger._conn.cursor()
                self.cursor.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.ledger._lock.release()
                raise
            return self.cursor

        def __exit__(
            self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
        ) -> None:
            try:
                self.cursor.execute("COMMIT" if exc_type is None else "ROLLBACK")
            finally:
                self.cursor.close()
                self.ledger._lock.release()

    def _transaction(self) -> SQLiteLedger._Tx:
        return SQLiteLedger._Tx(self)

    def _read(self, sql: str, params: Sequence[Any]) -> list[LedgerEntry]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [LedgerEntry(**dict(zip(_COLUMN_NAMES, row, strict=True))) for row in rows]

    # ------------------------------------------------------------------ SyncLedger

    def lookup(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return the entries of ``keys`` that exist, by row key."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, LedgerEntry] = {}
        for chunk in _chunks(wanted, _KEYS_PER_QUERY):
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT {_COLUMNS} FROM sync_rows WHERE portal = ? AND object_type = ? "
                f"AND row_key IN ({marks})"
            )
            for entry in self._read(sql, [portal, object_type, *chunk]):
                found[entry.row_key] = entry
        return found

    def in_doubt(self, portal: str, object_type: str) -> list[LedgerEntry]:
        """Return every ``pending`` entry of the object type, ordered by row key."""
        sql = (
            f"SELECT {_COLUMNS} FROM sync_rows WHERE portal = ? AND object_type = ? AND status = ? "
            "ORDER BY row_key"
        )
        return self._read(sql, [portal, object_type, PENDING])

    def mark_pending(
        self,
        portal: str,
        object_type: str,
        rows: Sequence[PendingRow],
        *,
        run_id: str,
        partition: str | None = None,
    ) -> None:
        """Write ``rows`` ahead as pending in one committed transaction."""
        now = _now()
        params = [
            (
                portal,
                object_type,
                r.row_key,
                r.content_hash,
                run_id,
                run_id,
                PENDING,
                now,
                partition,
                r.unique_property,
                r.unique_value,
            )
            for r in rows
        ]
        with self._transaction() as cur:
            cur.executemany(
                "INSERT INTO sync_rows (portal, object_type, row_key, content_hash, first_run_id, "
                "last_run_id, status, updated_at, partition, unique_property, unique_value) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (portal, object_type, row_key) DO UPDATE SET "
                "content_hash = excluded.content_hash, last_run_id = excluded.last_run_id, "
                "status = excluded.status, updated_at = excluded.updated_at, "
                "partition = excluded.partition, unique_property = excluded.unique_property, "
                "unique_value = excluded.unique_value",
                params,
            )

    def settle(
        self,
        portal: str,
        object_type: str,
        settlements: Sequence[Settlement],
        *,
        run_id: str,
        partition: str | None = None,
    ) -> None:
        """Record the outcome of rows in one committed transaction (unknown rows are inserted)."""
        for s in settlements:
            if s.status not in (PENDING, CREATED, FAILED):
                raise ValueError(f"bad ledger status {s.status!r} for row {s.row_key!r}")
            if s.status == CREATED and not s.hubspot_id:
                raise ValueError(f"row {s.row_key!r} settled as created without a HubSpot id")
        now = _now()
        params = [
            (portal, object_type, s.row_key, s.hubspot_id, run_id, run_id, s.status, s.error, now, partition)
            for s in settlements
        ]
        with self._transaction() as cur:
            cur.executemany(
                "INSERT INTO sync_rows (portal, object_type, row_key, hubspot_id, first_run_id, "
                "last_run_id, status, error, updated_at, partition) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (portal, object_type, row_key) DO UPDATE SET "
                "hubspot_id = excluded.hubspot_id, last_run_id = excluded.last_run_id, "
                "status = excluded.status, error = excluded.error, updated_at = excluded.updated_at, "
                "partition = COALESCE(excluded.partition, sync_rows.partition)",
                params,
            )

    def id_map(self, portal: str, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Row key → HubSpot id of every created row (of one partition when ``partition`` is given)."""
        sql = "SELECT row_key, hubspot_id FROM sync_rows WHERE portal = ? AND object_type = ? AND status = ?"
        params: list[Any] = [portal, object_type, CREATED]
        if partition is not None:
            sql += " AND partition = ?"
            params.append(partition)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return {str(k): str(v) for k, v in rows}

    def close(self) -> None:
        """Close the connection (further calls fail)."""
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ inspection

    def entries(self, portal: str | None = None, object_type: str | None = None) -> list[LedgerEntry]:
        """Return every entry (optionally of one portal and object type), ordered by key."""
        sql = f"SELECT {_COLUMNS} FROM sync_rows"
        clauses, params = [], []
        if portal is not None:
            clauses.append("portal = ?")
            params.append(portal)
        if object_type is not None:
            clauses.append("object_type = ?")
            params.append(object_type)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return self._read(sql + " ORDER BY portal, object_type, row_key", params)

    def counts(self, portal: str, object_type: str) -> dict[str, int]:
        """Rows per status for one portal and object type."""
        sql = "SELECT status, COUNT(*) FROM sync_rows WHERE portal = ? AND object_type = ? GROUP BY status"
        with self._lock:
            rows = self._conn.execute(sql, [portal, object_type]).fetchall()
        return {str(s): int(n) for s, n in rows}


__all__ = [
    "CREATED",
    "FAILED",
    "PENDING",
    "LedgerEntry",
    "PendingRow",
    "SQLiteLedger",
    "Settlement",
    "SyncLedger",
    "content_hash",
    "default_portal",
    "token_fingerprint",
]
