"""The ledger's tables (SQLAlchemy Core), their schema version, and the migrations between versions.

Version 2 (this code) is version 1 plus three nullable columns, with other indexes::

    lease_owner      TEXT                   -- the run holding the row (NULL: nobody)
    lease_expires_at TIMESTAMPTZ | TEXT     -- until when; PostgreSQL: timestamp with time zone (the
                                            -- server's clock decides); SQLite: ISO 8601 UTC text
                                            -- 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (this process's clock)
    sent_fingerprint TEXT                   -- JSON: per-property fingerprints of what was sent (issue #13)
    CREATE INDEX sync_rows_pending ON sync_rows (portal, object_type, row_key) WHERE status = 'pending';
    CREATE INDEX sync_rows_lease ON sync_rows (lease_owner) WHERE lease_owner IS NOT NULL;
    -- and no more sync_rows_status (portal, object_type, status): see _migrate_1_to_2

:func:`prepare_schema` runs in one transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL under an advisory
transaction lock, so concurrent first opens do not race): it creates a fresh ledger, migrates an older one
(both databases have transactional DDL, so a migration that fails leaves the old version intact), and refuses
a newer one with :class:`~hubspot_loader.state.store_errors.LedgerSchemaError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from hubspot_loader.state.entries import STATUSES
from hubspot_loader.state.store_errors import LedgerSchemaError

SCHEMA_VERSION = 2
"""The version this code reads and writes (``ledger_meta.schema_version``)."""
_TEXT_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
#: a constant key for pg_advisory_xact_lock: serializes schema setup of concurrent first opens
_SCHEMA_LOCK_KEY = 0x68756273706F74  # "hubspot"


class UtcTimestamp(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamp with time zone`` on PostgreSQL, fixed-width ISO text on SQLite.

    The text form sorts as the instants do, so SQLite compares leases in SQL like PostgreSQL does.
    """

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        """Timestamp with time zone on PostgreSQL, text elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Aware datetimes go in as they are (PostgreSQL) or as UTC text (SQLite)."""
        if value is None or dialect.name == "postgresql":
            return value
        return value.astimezone(timezone.utc).strftime(_TEXT_TIMESTAMP)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime (or ``None``)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return datetime.strptime(str(value), _TEXT_TIMESTAMP).replace(tzinfo=timezone.utc)


metadata = sa.MetaData()

sync_rows = sa.Table(
    "sync_rows",
    metadata,
    sa.Column("portal", sa.Text, nullable=False),
    sa.Column("object_type", sa.Text, nullable=False),
    sa.Column("row_key", sa.Text, nullable=False),
    sa.Column("hubspot_id", sa.Text),
    sa.Column("content_hash", sa.Text),
    sa.Column("first_run_id", sa.Text),
    sa.Column("last_run_id", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("partition", sa.Text),
    sa.Column("unique_property", sa.Text),
    sa.Column("unique_value", sa.Text),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", UtcTimestamp()),
    sa.Column("sent_fingerprint", sa.Text),
    sa.PrimaryKeyConstraint("portal", "object_type", "row_key"),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="sync_rows_status_check"
    ),
)
IS_PENDING = sync_rows.c.status == sa.literal_column("'pending'")
"""``status = 'pending'`` with the value in the SQL text, so the planners can use the partial index (neither
SQLite nor a generic PostgreSQL plan can prove a bound parameter matches an index predicate)."""
PENDING_INDEX = sa.Index(
    "sync_rows_pending",
    sync_rows.c.portal,
    sync_rows.c.object_type,
    sync_rows.c.row_key,
    sqlite_where=IS_PENDING,
    postgresql_where=IS_PENDING,
)
LEASE_INDEX = sa.Index(
    "sync_rows_lease",
    sync_rows.c.lease_owner,
    sqlite_where=sync_rows.c.lease_owner.is_not(None),
    postgresql_where=sync_rows.c.lease_owner.is_not(None),
)

ledger_meta = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: the columns every entry has, in table order (LedgerEntry's fields)
ENTRY_COLUMNS = tuple(sync_rows.c)
PRIMARY_KEY = (sync_rows.c.portal, sync_rows.c.object_type, sync_rows.c.row_key)

_V2_COLUMNS = ("lease_owner", "lease_expires_at", "sent_fingerprint")


def _migrate_1_to_2(conn: Connection) -> None:
    """Add the lease and fingerprint columns; swap the status index for the partial pending and lease ones.

    Every existing row keeps its values. The version 1 index on ``(portal, object_type, status)`` goes:
    PostgreSQL chose it over the primary key for key lookups while a table's statistics were young, and
    every settle had to move rows in it; the pending rows it served are in ``sync_rows_pending`` now.
    """
    preparer = conn.dialect.identifier_preparer
    for name in _V2_COLUMNS:
        column = sync_rows.c[name]
        type_sql = column.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE sync_rows ADD COLUMN {preparer.quote(name)} {type_sql}"))
    conn.execute(sa.text("DROP INDEX IF EXISTS sync_rows_status"))
    PENDING_INDEX.create(conn)
    LEASE_INDEX.create(conn)


#: version → the step that brings a ledger of that version to the next one
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2}


def _stored_version(conn: Connection) -> tuple[int | None, bool]:
    """Return the version the database holds (``None``: no ledger) and whether ``ledger_meta`` says so.

    A version 1 ledger whose first open crashed before it wrote its meta row counts as version 1.
    """
    inspector = sa.inspect(conn)
    if not inspector.has_table("sync_rows"):
        return None, False
    if inspector.has_table("ledger_meta"):
        value = conn.execute(
            sa.select(ledger_meta.c.value).where(ledger_meta.c.key == "schema_version")
        ).scalar_one_or_none()
        if value is not None:
            try:
                return int(value), True
            except ValueError:
                raise LedgerSchemaError(f"ledger schema version {value!r} is not a version number") from None
    columns = {c["name"] for c in inspector.get_columns("sync_rows")}
    return (SCHEMA_VERSION if set(_V2_COLUMNS) <= columns else 1), False


def prepare_schema(conn: Connection, where: str) -> int | None:
    """Create, migrate or check the ledger inside the caller's write transaction.

    Returns the version the database held before (``None``: it had no ledger).

    Raises:
        LedgerSchemaError: the database was written by a newer loader (or holds an unknown version).

    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
    found, recorded = _stored_version(conn)
    if found is None:
        metadata.create_all(conn)
    elif found > SCHEMA_VERSION:
        raise LedgerSchemaError(
            f"{where}: ledger schema version {found} is newer than this loader's ({SCHEMA_VERSION}); "
            "upgrade hubspot-loader, or point the state URL at another database"
        )
    elif found != SCHEMA_VERSION and found not in MIGRATIONS:
        raise LedgerSchemaError(f"{where}: ledger schema version {found} is unknown to this loader")
    else:
        metadata.create_all(conn, tables=[ledger_meta])  # a v1 file may lack it (crash on first open)
        for version in range(found, SCHEMA_VERSION):
            MIGRATIONS[version](conn)
    if found != SCHEMA_VERSION or not recorded:
        _write_version(conn)
    return found


def _write_version(conn: Connection) -> None:
    updated = conn.execute(
        ledger_meta.update().where(ledger_meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
    )
    if updated.rowcount == 0:
        conn.execute(ledger_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


__all__ = [
    "ENTRY_COLUMNS",
    "IS_PENDING",
    "MIGRATIONS",
    "PRIMARY_KEY",
    "SCHEMA_VERSION",
    "UtcTimestamp",
    "ledger_meta",
    "metadata",
    "prepare_schema",
    "sync_rows",
]
