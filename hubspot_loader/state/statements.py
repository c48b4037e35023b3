"""The ledger's writes as SQLAlchemy Core statements, the same for SQLite and PostgreSQL.

Both databases speak ``INSERT … ON CONFLICT (portal, object_type, row_key) DO UPDATE SET … WHERE …`` with
``excluded`` and ``RETURNING``; only the clock differs. On PostgreSQL "now" is the server's ``now()`` (the
transaction's start), so machines with skewed clocks agree on when a lease expires; on SQLite it is this
process's UTC clock, bound as a parameter (every writer of a SQLite file is on the same machine).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from hubspot_loader.state.entries import CREATED, FAILED, PENDING
from hubspot_loader.state.schema import ENTRY_COLUMNS, IS_PENDING, PRIMARY_KEY, UtcTimestamp, sync_rows

Upsert = postgresql.Insert | sqlite.Insert


def now_expr(dialect: Dialect) -> ColumnElement[Any]:
    """Return the time leases are compared with (see the module docstring)."""
    if dialect.name == "postgresql":
        return sa.func.now()
    return sa.literal(datetime.now(timezone.utc), UtcTimestamp())


def expiry_expr(dialect: Dialect, lease_seconds: float) -> ColumnElement[Any]:
    """``now`` plus ``lease_seconds``: when a lease taken now expires."""
    ttl = timedelta(seconds=lease_seconds)
    if dialect.name == "postgresql":
        return sa.func.now() + sa.literal(ttl, sa.Interval())
    return sa.literal(datetime.now(timezone.utc) + ttl, UtcTimestamp())


LEDGER_NOW = "ledger_now"
LEDGER_EXPIRY = "ledger_expiry"
"""The parameters a cached SQLite claiming statement takes the time from (:func:`clock_values`)."""


def clock_values(dialect: Dialect, lease_seconds: float) -> dict[str, str]:
    """Return the clock parameters of :func:`claiming_upsert` for one execution (every row of a batch).

    SQLite's "now" is this process's clock, bound as text in the statement's timestamp form; PostgreSQL's
    is the server's (``now()`` in the SQL itself), so it needs none.
    """
    if dialect.name == "postgresql":
        return {}
    now = datetime.now(timezone.utc)
    as_text = UtcTimestamp().process_bind_param
    return {
        LEDGER_NOW: as_text(now, dialect),
        LEDGER_EXPIRY: as_text(now + timedelta(seconds=lease_seconds), dialect),
    }


def _insert(dialect: Dialect | str) -> Upsert:
    name = dialect if isinstance(dialect, str) else dialect.name
    if name == "postgresql":
        return postgresql.insert(sync_rows)
    return sqlite.insert(sync_rows)


Columns = tuple[str, ...]
"""The columns a batch's parameter sets give (the keys of each, in order)."""


def batch_params(dialect: Dialect, params: list[dict[str, Any]]) -> list[dict[str, Any]] | dict[str, Any]:
    """Return a batch's parameter sets as the batch statements of this module take them.

    SQLite: the parameter sets themselves (one execution per row, in one ``executemany``). PostgreSQL: one
    array per column (``<column>_values``), for a statement that inserts ``SELECT … FROM unnest(…)``: one
    statement per batch instead of one per row, about half the time of the ``executemany``.
    """
    if dialect.name != "postgresql" or not params:
        return params
    return {f"{name}_values": [p[name] for p in params] for name in params[0]}


def _rows_insert(dialect_name: str, columns: Columns, extra: dict[str, ColumnElement[Any]]) -> Upsert:
    """Insert a batch's rows (see :func:`batch_params`), each with the ``extra`` columns' values too."""
    if dialect_name != "postgresql":
        ins = _insert(dialect_name)
        return ins.values(**extra) if extra else ins
    arrays = [sa.bindparam(f"{name}_values", type_=postgresql.ARRAY(sa.Text())) for name in columns]
    rows = sa.func.unnest(*arrays).table_valued(*columns).render_derived(name="batch_rows")
    select = sa.select(*(rows.c[name] for name in columns), *extra.values())
    return postgresql.insert(sync_rows).from_select([*columns, *extra], select)


def row_filter(portal: str, object_type: str) -> ColumnElement[bool]:
    """Select the rows of one portal and object type."""
    return sa.and_(sync_rows.c.portal == portal, sync_rows.c.object_type == object_type)


def keys_filter(dialect: Dialect, keys: list[str]) -> ColumnElement[bool]:
    """Select ``keys`` with one parameter (an array on PostgreSQL, a JSON array on SQLite).

    PostgreSQL: ``row_key = ANY(%s)``; SQLite: ``row_key IN (SELECT value FROM json_each(?))`` (before
    SQLite 3.38, which may lack the JSON functions: ``IN (?, …)``).

    An ``IN`` list is a parameter per key: psycopg parses such long statements anew every time, and on
    SQLite binding and rendering them cost more than the lookups (1M keys: seconds of CPU).
    """
    if dialect.name == "postgresql":
        return sync_rows.c.row_key == sa.any_(sa.literal(keys, postgresql.ARRAY(sa.Text())))
    if _has_json(dialect):
        listed = sa.func.json_each(sa.literal(json.dumps(keys), sa.Text()))
        return sync_rows.c.row_key.in_(sa.select(sa.column("value", sa.Text())).select_from(listed))
    return sync_rows.c.row_key.in_(keys)


def keys_per_query(dialect: Dialect) -> int:
    """Keys one :func:`keys_filter` read takes: 2,000 when they are one parameter, else 500 (``IN (?, …)``).

    A chunk of a load is 2,000 rows (``CHUNK_ROWS``): one read per chunk instead of four saved a sixth of
    the lean lookups' CPU (``benchmarks/diff_cost.py``); SQLite before 3.32 allows 999 parameters.
    """
    return 2000 if dialect.name == "postgresql" or _has_json(dialect) else 500


def _has_json(dialect: Dialect) -> bool:
    """SQLite 3.38 and later have the JSON functions built in (earlier ones may lack them)."""
    version = getattr(dialect, "server_version_info", None)
    return version is not None and tuple(version) >= (3, 38)


def pending_filter(portal: str, object_type: str) -> ColumnElement[bool]:
    """Select the pending rows of one portal and object type (through the partial pending index)."""
    return sa.and_(row_filter(portal, object_type), IS_PENDING)


def pending_upsert(dialect: Dialect, columns: Columns) -> sa.Insert:
    """Write rows ahead as pending, keeping ``hubspot_id`` and ``first_run_id`` (version 1 semantics).

    Leases are neither checked nor changed: the unleased write of a single writer per object type.
    ``columns``: the keys of each parameter set (give them through :func:`batch_params`).
    """
    return _pending_upsert(dialect.name, columns)


# The write-ahead and settle statements are built once and reused: building one (its ``excluded``
# columns above all) cost about a quarter of the ledger's CPU per batch. SQLAlchemy statements are
# immutable once built and safe to share between threads and engines.
@functools.lru_cache(maxsize=8)
def _pending_upsert(dialect_name: str, columns: Columns) -> sa.Insert:
    ins = _rows_insert(dialect_name, columns, {})
    return ins.on_conflict_do_update(index_elements=list(PRIMARY_KEY), set_=_sent_columns(ins.excluded))


_SENT_COLUMNS = (
    "content_hash",
    "last_run_id",
    "status",
    "updated_at",
    "partition",
    "unique_property",
    "unique_value",
)
"""What a write-ahead overwrites on a known row (``hubspot_id`` and ``first_run_id`` are kept;
``sent_fingerprint`` is overwritten only when one is given)."""


def _sent_columns(excluded: Any, *extra: str) -> dict[str, Any]:
    values = {name: getattr(excluded, name) for name in (*_SENT_COLUMNS, *extra)}
    values["sent_fingerprint"] = _given_or_kept(excluded, "sent_fingerprint")
    return values


def _given_or_kept(excluded: Any, name: str) -> ColumnElement[Any]:
    """Return the upserted value of column ``name`` when one was given (not ``NULL``), else the stored one."""
    return sa.func.coalesce(getattr(excluded, name), sync_rows.c[name])


def claiming_upsert(
    dialect: Dialect, lease_owner: str, lease_seconds: float, resend_created: bool, columns: Columns
) -> sa.Insert:
    """Write rows ahead as pending **and** lease them to ``lease_owner``, only where the claim is allowed.

    An existing row is claimed when the owner already holds it, or when nobody holds a live lease on it
    and it is ``failed`` (or ``created`` with ``resend_created``). Rows left out are not touched. On
    PostgreSQL the conflicting row is locked (whether updated or not) and the condition is evaluated on
    its latest committed version, so two claimers never both win, and reading the rows back in the same
    transaction (:func:`holders_select`) tells which ones this claim holds. (No ``RETURNING``: SQLAlchemy
    would render the batch as one long multi-row statement, which psycopg parses anew for every batch.)

    ``columns``: the keys of each parameter set (give them through :func:`batch_params`). On SQLite every
    parameter set must also hold :func:`clock_values` (the statement is built once per owner and reused,
    so its clock cannot be a literal).
    """
    return _claiming_upsert(dialect.name, lease_owner, float(lease_seconds), resend_created, columns)


@functools.lru_cache(maxsize=32)
def _claiming_upsert(
    dialect_name: str, lease_owner: str, lease_seconds: float, resend_created: bool, columns: Columns
) -> sa.Insert:
    now: ColumnElement[Any]
    expiry: ColumnElement[Any]
    if dialect_name == "postgresql":
        now = sa.func.now()
        expiry = sa.func.now() + sa.literal(timedelta(seconds=lease_seconds), sa.Interval())
    else:  # already text in the column's form: no conversion per row
        now = sa.bindparam(LEDGER_NOW, type_=sa.Text())
        expiry = sa.bindparam(LEDGER_EXPIRY, type_=sa.Text())
    owner = sa.literal(lease_owner, sa.Text())
    ins = _rows_insert(dialect_name, columns, {"lease_owner": owner, "lease_expires_at": expiry})
    x = ins.excluded
    held = sync_rows.c
    reusable = held.status == FAILED  # no IN (…): expanding parameters do not work with executemany
    if resend_created:
        reusable = sa.or_(reusable, held.status == CREATED)
    allowed = sa.or_(
        held.lease_owner == x.lease_owner,
        sa.and_(sa.or_(held.lease_owner.is_(None), held.lease_expires_at <= now), reusable),
    )
    return ins.on_conflict_do_update(
        index_elements=list(PRIMARY_KEY),
        set_=_sent_columns(x, "lease_owner", "lease_expires_at"),
        where=allowed,
    ).execution_options(preserve_rowcount=True)  # SQLAlchemy keeps INSERT rowcounts only when asked


def settle_upsert(dialect: Dialect, lease_owner: str | None, columns: Columns) -> sa.Insert:
    """Record outcomes exactly as given; keep the stored values of the optional columns when none is given.

    The optional columns are ``partition``, ``content_hash`` and ``sent_fingerprint`` (``NULL``: not given).

    With ``lease_owner``, that owner's lease on rows settled ``created`` or ``failed`` ends with the
    settlement (rows settled ``pending`` stay held until :meth:`release_leases`); other owners' leases
    are kept.
    """
    return _settle_upsert(dialect.name, lease_owner, columns)


@functools.lru_cache(maxsize=32)
def _settle_upsert(dialect_name: str, lease_owner: str | None, columns: Columns) -> sa.Insert:
    ins = _rows_insert(dialect_name, columns, {})
    x = ins.excluded
    values: dict[str, Any] = {
        "hubspot_id": x.hubspot_id,
        "last_run_id": x.last_run_id,
        "status": x.status,
        "error": x.error,
        "updated_at": x.updated_at,
        "partition": _given_or_kept(x, "partition"),
        "content_hash": _given_or_kept(x, "content_hash"),
        "sent_fingerprint": _given_or_kept(x, "sent_fingerprint"),
    }
    if lease_owner is not None:
        ends = sa.and_(sync_rows.c.lease_owner == sa.literal(lease_owner, sa.Text()), x.status != PENDING)
        values["lease_owner"] = sa.case((ends, sa.null()), else_=sync_rows.c.lease_owner)
        values["lease_expires_at"] = sa.case((ends, sa.null()), else_=sync_rows.c.lease_expires_at)
    return ins.on_conflict_do_update(index_elements=list(PRIMARY_KEY), set_=values)


def claim_in_doubt_update(
    dialect: Dialect, portal: str, object_type: str, lease_owner: str, lease_seconds: float
) -> sa.Update:
    """Lease every pending row of the object type that no other owner holds a live lease on."""
    held = sync_rows.c
    free = sa.or_(
        held.lease_owner.is_(None),
        held.lease_owner == lease_owner,
        held.lease_expires_at <= now_expr(dialect),
    )
    return (
        sync_rows.update()
        .where(pending_filter(portal, object_type), free)
        .values(lease_owner=lease_owner, lease_expires_at=expiry_expr(dialect, lease_seconds))
        .returning(*ENTRY_COLUMNS)
    )


def forget_delete(dialect: Dialect, portal: str, object_type: str, keys: list[str]) -> sa.Delete:
    """Delete the rows of ``keys`` (of one portal and object type)."""
    return sync_rows.delete().where(row_filter(portal, object_type), keys_filter(dialect, keys))


def holders_select(dialect: Dialect, portal: str, object_type: str, keys: list[str]) -> sa.Select[Any]:
    """Select the entries of ``keys`` with whether their lease is live (``lease_live``)."""
    live = sa.and_(sync_rows.c.lease_owner.is_not(None), sync_rows.c.lease_expires_at > now_expr(dialect))
    return sa.select(*ENTRY_COLUMNS, live.label("lease_live")).where(
        row_filter(portal, object_type), keys_filter(dialect, keys)
    )


__all__ = [
    "LEDGER_EXPIRY",
    "LEDGER_NOW",
    "Columns",
    "batch_params",
    "claim_in_doubt_update",
    "claiming_upsert",
    "clock_values",
    "expiry_expr",
    "forget_delete",
    "holders_select",
    "keys_filter",
    "now_expr",
    "pending_filter",
    "pending_upsert",
    "row_filter",
    "settle_upsert",
]
