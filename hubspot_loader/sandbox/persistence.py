"""Optional SQLite persistence of objects, associations, id counters and request counters.

The in-memory store stays the source of truth while the server runs; every committed write is also
written here in one transaction (write-through), so the file can be inspected with ``sqlite3`` at any
time and a restarted sandbox resumes from it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    object_type_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    properties TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (object_type_id, id)
);
CREATE TABLE IF NOT EXISTS associations (
    from_type_id TEXT NOT NULL,
    from_id INTEGER NOT NULL,
    to_type_id TEXT NOT NULL,
    to_id INTEGER NOT NULL,
    association_type_id INTEGER NOT NULL,
    PRIMARY KEY (from_type_id, from_id, to_type_id, to_id, association_type_id)
);
CREATE TABLE IF NOT EXISTS id_counters (object_type_id TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

ObjectRow = tuple[str, int, dict[str, str], int, int, bool]
AssociationRow = tuple[str, int, str, int, int]


class SqlitePersistence:
    """Write-through persistence into one SQLite file (WAL mode, one connection, own lock)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def load(self) -> tuple[list[ObjectRow], list[AssociationRow], dict[str, int], dict[str, Any]]:
        """Read everything back: objects, associations, next ids per type, counters."""
        with self._lock:
            objects = [
                (t, i, json.loads(p), c, u, bool(a))
                for t, i, p, c, u, a in self._conn.execute(
                    "SELECT object_type_id, id, properties, created_ms, updated_ms, archived FROM objects "
                    "ORDER BY created_ms, id"
                )
            ]
            assocs = [
                tuple(r)
                for r in self._conn.execute(
                    "SELECT from_type_id, from_id, to_type_id, to_id, association_type_id FROM associations"
                )
            ]
            next_ids = dict(self._conn.execute("SELECT object_type_id, next_id FROM id_counters").fetchall())
            counters = {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM counters")}
        return objects, assocs, next_ids, counters

    def write(
        self,
        objects: Iterable[ObjectRow],
        associations: Iterable[AssociationRow],
        next_ids: dict[str, int],
        counters: dict[str, Any] | None = None,
        removed_associations: Iterable[AssociationRow] = (),
    ) -> None:
        """Upsert objects and associations, delete removed ones, store id counters (one transaction)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            cur.executemany(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                [(t, i, json.dumps(p), c, u, int(a)) for t, i, p, c, u, a in objects],
            )
            cur.executemany(
                "DELETE FROM associations WHERE from_type_id = ? AND from_id = ? AND to_type_id = ? "
                "AND to_id = ? AND association_type_id = ?",
                list(removed_associations),
            )
            cur.executemany("INSERT OR IGNORE INTO associations VALUES (?, ?, ?, ?, ?)", list(associations))
            cur.executemany("INSERT OR REPLACE INTO id_counters VALUES (?, ?)", list(next_ids.items()))
            if counters is not None:
                cur.executemany(
                    "INSERT OR REPLACE INTO counters VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in counters.items()],
                )
            cur.execute("COMMIT")

    def write_counters(self, counters: dict[str, Any]) -> None:
        """Store the request counters."""
        self.write((), (), {}, counters)

    def clear(self) -> None:
        """Delete all rows (sandbox reset)."""
        with self._lock:
            self._conn.executescript(
                "BEGIN; DELETE FROM objects; DELETE FROM associations; DELETE FROM id_counters; "
                "DELETE FROM counters; COMMIT;"
            )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
