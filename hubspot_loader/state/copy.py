"""Copy a ledger into another store: moving a SQLite file to the PostgreSQL a deployment shares.

:func:`copy_ledger` reads every row of the source in key order, a page at a time, and inserts it into the
target in one transaction per page; a row the target already has (same portal, object type and key) is
left as the target has it. Leases are not copied: a lease belongs to a running load of the source, and
nothing should be loading while a ledger is moved. Both ledgers are opened as usual first, so the source
is migrated to the current schema and the target's tables are created. Copying again copies nothing new:
the command can be rerun after an interruption.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hubspot_loader.state.schema import sync_rows
from hubspot_loader.state.sql_ledger import SqlLedger

PAGE_ROWS = 5000
"""Rows read and written per transaction."""

_KEY = (sync_rows.c.portal, sync_rows.c.object_type, sync_rows.c.row_key)


@dataclass(frozen=True)
class CopyCount:
    """What :func:`copy_ledger` did."""

    copied: int
    """Rows inserted into the target."""
    kept: int
    """Rows the target already had, left as they were."""


def copy_ledger(source: SqlLedger, target: SqlLedger, *, page_rows: int = PAGE_ROWS) -> CopyCount:
    """Copy every row of ``source`` that ``target`` lacks into ``target`` (see the module docstring)."""
    if page_rows < 1:
        raise ValueError("page_rows must be at least 1")
    copied = kept = 0
    after: tuple[str, str, str] | None = None
    while True:
        page = source._run(partial(_page, after=after, limit=page_rows), write=False)
        if not page:
            return CopyCount(copied, kept)
        inserted = target._run(partial(_insert, rows=page), write=True)
        copied += inserted
        kept += len(page) - inserted
        last = page[-1]
        after = (last["portal"], last["object_type"], last["row_key"])


def _page(conn: Connection, after: tuple[str, str, str] | None, limit: int) -> list[dict[str, Any]]:
    query = sa.select(sync_rows).order_by(*_KEY).limit(limit)
    if after is not None:
        query = query.where(sa.tuple_(*_KEY) > sa.tuple_(*(sa.literal(v) for v in after)))
    rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["lease_owner"] = None
        row["lease_expires_at"] = None
    return rows


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    insert = postgresql.insert(sync_rows) if conn.dialect.name == "postgresql" else sqlite.insert(sync_rows)
    statement = insert.on_conflict_do_nothing(index_elements=[c.name for c in _KEY])
    if conn.dialect.insert_executemany_returning:  # PostgreSQL's batched rowcount is unknown (-1)
        return len(conn.execute(statement.returning(sync_rows.c.row_key), rows).all())
    return int(conn.execute(statement, rows).rowcount)  # SQLite before 3.35 sums it


__all__ = ["PAGE_ROWS", "CopyCount", "copy_ledger"]
