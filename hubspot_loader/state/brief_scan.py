"""Reading many ledger rows at once: the driver's tuples, and one scan of an object type's briefs.

Part of :class:`~hubspot_loader.state.sql_ledger.SqlLedger` (its ``briefs`` and ``brief_table``): see
:mod:`hubspot_loader.state.brief_table` for when a scan is cheaper than a lookup per key, and what the
table holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubspot_loader.state import statements as st
from hubspot_loader.state.brief_table import BriefTable
from hubspot_loader.state.entries import CREATED
from hubspot_loader.state.schema import sync_rows

SCAN_PAGE_ROWS = 20_000
"""Rows fetched into Python at a time while a scan builds its table (about 7 MiB of tuples)."""

SCAN_MIN_ROWS = 10_000
"""Below this many rows a load looks its rows up by key: a scan would not save a noticeable time."""

SCAN_RATIO = 2.0
"""A load scans when the object type has at most this many ledger rows per row it loads.

A scan costs about 1.5 µs per ledger row (reading the row, hashing its key), a lookup by key about 4.5 µs
per loaded row, and the table holds 33 bytes per ledger row for the load: 2 keeps the table small
next to the frame and the scan cheaper than the lookups."""

_C = sync_rows.c
# SQLite's ``NOT INDEXED`` has no SQLAlchemy form: the statement is text, its names the schema's own
_SQLITE_TABLE_SCAN = (
    f"SELECT {_C.row_key.name}, {_C.status.name} = ?, {_C.hubspot_id.name}, {_C.content_hash.name} "
    f"FROM {sync_rows.name} NOT INDEXED WHERE {_C.portal.name} = ? AND {_C.object_type.name} = ?"
)
_SQLITE_TABLE_ROWS = f"SELECT count(*) FROM {sync_rows.name}"


def driver_rows(result: sa.CursorResult[Any]) -> list[Any]:
    """Fetch every row of ``result`` as the driver returns it (a tuple), without SQLAlchemy's ``Row``.

    For reads of ``Text`` columns only, which no result processor changes: a sync reads a brief of every
    row, and building a ``Row`` each was a fifth of that read's CPU (``benchmarks/diff_cost.py``).
    """
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def object_type_rows(conn: Connection, portal: str, object_type: str) -> int:
    """Return how many ledger rows one portal and object type has (a count over the primary key).

    Not :meth:`SqlLedger.counts`: grouping by status reads every row of the table (1.3 s for 1M rows on
    SQLite), where this count reads the primary key's index alone (0.05 s).
    """
    query = sa.select(sa.func.count()).select_from(sync_rows).where(st.row_filter(portal, object_type))
    return int(conn.execute(query).scalar_one())


def scan_briefs(conn: Connection, portal: str, object_type: str, rows: int) -> BriefTable:
    """Read the briefs of every row of one portal and object type (``rows`` of them) into a table.

    On SQLite, when the object type has at least half of the file's rows, the table is read in storage
    order without an index (one sequential pass: 0.8 s of CPU for 1M rows here, against 1.9 s through the
    primary key, which visits the rows in key order); otherwise, and on PostgreSQL (a server-side cursor),
    the primary key selects them.
    """
    if conn.dialect.name == "sqlite":
        total = int(conn.exec_driver_sql(_SQLITE_TABLE_ROWS).scalar_one())
        if rows * 2 >= total:
            return _table(conn.exec_driver_sql(_SQLITE_TABLE_SCAN, (CREATED, portal, object_type)))
    columns = (_C.row_key, _C.status == CREATED, _C.hubspot_id, _C.content_hash)
    query = sa.select(*columns).where(st.row_filter(portal, object_type))
    # a server-side cursor, read a page at a time (SQLAlchemy buffers its first rows: not the driver's cursor)
    result = conn.execution_options(yield_per=SCAN_PAGE_ROWS).execute(query)
    try:
        return BriefTable(result.partitions())
    finally:
        result.close()


def _table(result: sa.CursorResult[Any]) -> BriefTable:
    """Build the table from ``result``'s rows, read as the driver's tuples a page at a time."""
    try:
        return BriefTable(_pages(result.cursor))
    finally:
        result.close()


def _pages(cursor: Any) -> Iterator[Sequence[Any]]:
    """Yield the cursor's rows :data:`SCAN_PAGE_ROWS` at a time."""
    while True:
        page = cursor.fetchmany(SCAN_PAGE_ROWS)
        if not page:
            return
        yield page
