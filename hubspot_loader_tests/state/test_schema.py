"""Schema versions on both backends: a fresh store, the migration of main's version 1 ledger, refusals.

``data/ledger-v1-main-cea513f.db`` was written by main's own SQLiteLedger of schema version 1 (see
``data/make_ledger_v1.py``). On PostgreSQL the same version 1 store is rebuilt from that file: its tables
from the DDL the file holds, its rows copied as they are.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hubspot_loader.state.ledger import (
    CREATED,
    PENDING,
    LedgerError,
    LedgerSchemaError,
    SqlLedger,
    open_ledger,
)

from .conftest import PORTAL, Workers, pending

V1_FILE = Path(__file__).parent / "data" / "ledger-v1-main-cea513f.db"
V1_COLUMNS = [
    "portal", "object_type", "row_key", "hubspot_id", "content_hash", "first_run_id", "last_run_id",
    "status", "error", "updated_at", "partition", "unique_property", "unique_value",
]  # fmt: skip
V2_COLUMNS = [*V1_COLUMNS, "lease_owner", "lease_expires_at", "sent_fingerprint"]


def v1_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    """Every row of main's version 1 file, read with the standard library (from a copy: WAL mode)."""
    copy = tmp_path / "v1-read.sqlite"
    shutil.copyfile(V1_FILE, copy)
    with sqlite3.connect(copy) as raw:
        rows = raw.execute(f"SELECT {', '.join(V1_COLUMNS)} FROM sync_rows ORDER BY 1, 2, 3").fetchall()
        ddl = [
            r[0] for r in raw.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
        ]
        assert raw.execute("SELECT value FROM ledger_meta").fetchall() == [("1",)]
    assert len(rows) == 609 and len(ddl) == 3
    return rows


@pytest.fixture
def raw(state_url: str) -> Iterator[sa.Engine]:
    """A plain SQLAlchemy engine on the test's store, to look behind the ledger's back."""
    engine = sa.create_engine(state_url)
    yield engine
    engine.dispose()


def make_v1_store(state_url: str, raw: sa.Engine, tmp_path: Path) -> list[tuple[Any, ...]]:
    """Put main's version 1 ledger in the test's store; return its rows."""
    rows = v1_rows(tmp_path)
    if raw.dialect.name == "sqlite":
        target = Path(state_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(V1_FILE, target)
        return rows
    with sqlite3.connect(tmp_path / "v1-read.sqlite") as source:
        ddl = [
            r[0] for r in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
        ]
    marks = ", ".join(f":{c}" for c in V1_COLUMNS)
    with raw.begin() as conn:
        for statement in ddl:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO ledger_meta (key, value) VALUES ('schema_version', '1')")
        conn.execute(
            sa.text(f"INSERT INTO sync_rows ({', '.join(V1_COLUMNS)}) VALUES ({marks})"),
            [dict(zip(V1_COLUMNS, row, strict=True)) for row in rows],
        )
    return rows


def columns(raw: sa.Engine) -> list[str]:
    return [c["name"] for c in sa.inspect(raw).get_columns("sync_rows")]


def stored_version(raw: sa.Engine) -> str:
    with raw.connect() as conn:
        return str(
            conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'schema_version'").scalar_one()
        )


def stored_rows(raw: sa.Engine) -> list[tuple[Any, ...]]:
    with raw.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(f"SELECT {', '.join(V1_COLUMNS)} FROM sync_rows ORDER BY 1, 2, 3")
        ]


def test_a_fresh_store_gets_schema_version_2(ledgers: Callable[[], SqlLedger], raw: sa.Engine) -> None:
    ledger = ledgers()
    assert ledger.migrated_from is None
    assert columns(raw) == V2_COLUMNS
    assert stored_version(raw) == "2"
    indexes = {i["name"] for i in sa.inspect(raw).get_indexes("sync_rows")}
    assert {"sync_rows_pending", "sync_rows_lease"} <= indexes and "sync_rows_status" not in indexes
    types = {c["name"]: c["type"] for c in sa.inspect(raw).get_columns("sync_rows")}
    if raw.dialect.name == "postgresql":
        assert isinstance(types["lease_expires_at"], sa.TIMESTAMP) and types["lease_expires_at"].timezone
    else:
        with raw.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    assert ledgers().migrated_from == 2  # opening again changes nothing


def test_main_s_version_1_ledger_migrates_on_open_and_every_row_keeps_its_values(
    state_url: str, raw: sa.Engine, tmp_path: Path
) -> None:
    rows = make_v1_store(state_url, raw, tmp_path)
    with open_ledger(state_url) as ledger:
        assert ledger.migrated_from == 1
        assert columns(raw) == V2_COLUMNS and stored_version(raw) == "2"
        entries = ledger.entries()
        assert [tuple(getattr(e, c) for c in V1_COLUMNS) for e in entries] == rows
        assert all(
            (e.lease_owner, e.lease_expires_at, e.sent_fingerprint) == (None, None, None) for e in entries
        )
        # the migrated rows behave: in doubt, id maps, partitions, held rows
        assert [e.row_key for e in ledger.in_doubt(PORTAL, "contacts")] == ["c-held", "c-in-doubt"]
        assert ledger.in_doubt(PORTAL, "contacts")[0].error.startswith("HUBSPOT_PENDING: ")  # type: ignore[union-attr]
        assert ledger.id_map(PORTAL, "contacts")["ключ-✓ 'quoted', \"double\""] == "106"
        assert len(ledger.id_map(PORTAL, "p_vendor", partition="bulk-p")) == 300
        assert len(ledger.lookup(PORTAL, "p_vendor", [f"v{i:04d}" for i in range(600)])) == 600
        resent = ledger.lookup(PORTAL, "contacts", ["c-resent"])["c-resent"]
        assert (resent.status, resent.hubspot_id, resent.error) == (CREATED, "105", "CONFLICT: exists")
        # and take leases: the pending v1 rows are in doubt, reconciled before anything resends them
        claim = ledger.mark_pending(
            PORTAL, "contacts", [pending("c-in-doubt"), pending("c-failed")], run_id="v2", lease_owner="o",
            lease_seconds=60,
        )  # fmt: skip
        assert claim.claimed == {"c-failed"} and claim.refused_for("in_doubt") == ["c-in-doubt"]
    with open_ledger(state_url) as again:
        assert again.migrated_from == 2
        assert again.lookup(PORTAL, "contacts", ["c-failed"])["c-failed"].status == PENDING


def test_a_migration_that_fails_part_way_leaves_version_1_intact(
    state_url: str, raw: sa.Engine, tmp_path: Path
) -> None:
    rows = make_v1_store(state_url, raw, tmp_path)
    with raw.begin() as conn:  # the index the migration creates last already exists (on another table)
        conn.exec_driver_sql("CREATE INDEX sync_rows_lease ON ledger_meta (value)")
    with pytest.raises(LedgerError, match="sync_rows_lease"):
        open_ledger(state_url)
    assert columns(raw) == V1_COLUMNS  # the columns added before the failure are gone too
    assert stored_version(raw) == "1" and stored_rows(raw) == rows
    with raw.begin() as conn:
        conn.exec_driver_sql("DROP INDEX sync_rows_lease")
    with open_ledger(state_url) as ledger:
        assert ledger.migrated_from == 1 and len(ledger.entries()) == len(rows)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("99", r"ledger schema version 99 is newer than this loader's \(2\)"),
        ("two", "is not a version number"),
    ],
)
def test_a_newer_or_unreadable_schema_version_is_refused_and_left_alone(
    ledgers: Callable[[], SqlLedger], raw: sa.Engine, version: str, message: str
) -> None:
    ledgers().close()
    with raw.begin() as conn:
        conn.execute(
            sa.text("UPDATE ledger_meta SET value = :v WHERE key = 'schema_version'"), {"v": version}
        )
    with pytest.raises(LedgerSchemaError, match=message) as caught:
        ledgers()
    assert isinstance(caught.value, RuntimeError)  # what callers of the version 1 ledger caught
    assert stored_version(raw) == version


@pytest.mark.parametrize("start", ["empty", "version 1"])
def test_concurrent_first_opens_create_or_migrate_exactly_once(
    state_url: str, raw: sa.Engine, tmp_path: Path, workers: Workers, start: str
) -> None:
    if start == "version 1":
        make_v1_store(state_url, raw, tmp_path)
    opening = [workers.start("open", state_url) for _ in range(2)]
    workers.go(*opening)
    found = sorted(workers.finish(p).strip() for p in opening)
    assert found == (["2", "new"] if start == "empty" else ["1", "2"])
    assert columns(raw) == V2_COLUMNS and stored_version(raw) == "2"
