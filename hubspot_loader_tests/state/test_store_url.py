"""State URLs and the default location: what is accepted, what is refused, and that passwords stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubspot_loader.state.ledger import (
    LedgerUnavailableError,
    SQLiteLedger,
    SqlLedger,
    StateUrlError,
    default_state_url,
    open_ledger,
)
from hubspot_loader.state.location import default_state_path
from hubspot_loader.state.store_url import parse_state_url
from hubspot_loader_tests.postgres import PostgresServer, free_port

from .conftest import PORTAL, pending


def test_sqlite_urls_and_plain_paths_open_a_sqlite_ledger(tmp_path: Path) -> None:
    for state in (
        f"sqlite:///{tmp_path}/a/one.sqlite",
        str(tmp_path / "b" / "two.sqlite"),
        tmp_path / "c.sqlite",
    ):
        with open_ledger(state) as ledger:
            assert isinstance(ledger, SQLiteLedger)
            ledger.mark_pending(PORTAL, "contacts", [pending("k")], run_id="r")
    assert (tmp_path / "a" / "one.sqlite").exists() and (tmp_path / "b" / "two.sqlite").exists()
    with open_ledger("sqlite://") as memory:
        assert memory.entries() == []
    assert repr(SQLiteLedger(tmp_path / "d.sqlite")) == f"SQLiteLedger({str(tmp_path / 'd.sqlite')!r})"
    assert parse_state_url("~/x.sqlite").database == str(Path.home() / "x.sqlite")


def test_postgres_spellings_mean_psycopg_3() -> None:
    for scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        url = parse_state_url(f"{scheme}://u@db.internal:5433/state?sslmode=require")
        assert url.drivername == "postgresql+psycopg"
        assert (url.host, url.port, url.database, url.query["sslmode"]) == (
            "db.internal",
            5433,
            "state",
            "require",
        )


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("", "the state URL is empty"),
        ("   ", "the state URL is empty"),
        ("mysql://u:hunter2@host/db", "state store 'mysql' is not supported"),
        ("postgresql+psycopg2://u:hunter2@host/db", "PostgreSQL state uses psycopg 3"),
        ("sqlite+pysqlcipher://u:hunter2@/x", "SQLite state uses Python's sqlite3"),
        ("::not a url:hunter2@://", "cannot read the state URL"),
    ],
)
def test_unsupported_urls_are_refused_without_repeating_them(state: str, message: str) -> None:
    with pytest.raises(StateUrlError, match=message) as caught:
        open_ledger(state)
    assert "hunter2" not in str(caught.value) and isinstance(caught.value, ValueError)


def test_the_password_never_appears_in_reprs_or_errors(postgres_server: PostgresServer) -> None:
    # trust authentication accepts any password: the ledger opens, and the password is masked
    url = postgres_server.url().replace("postgres@", "postgres:hunter2@")
    with SqlLedger(url) as ledger:
        assert "hunter2" not in repr(ledger) and "***" in repr(ledger) and "hunter2" not in ledger.where
    closed_port = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{free_port()}/x"
    with pytest.raises(LedgerUnavailableError) as caught:
        SqlLedger(closed_port, timeout=5)
    assert "hunter2" not in str(caught.value) and caught.value.retryable
    assert "postgres:***@127.0.0.1" in str(caught.value)


def test_the_default_state_url_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    home = Path.home() / ".local" / "state" / "hubspot_loader" / "state.sqlite"
    explicit = "postgresql+psycopg://loader@db/state"
    assert (
        default_state_url({"HUBSPOT_LOADER_STATE_URL": explicit, "DAGSTER_HOME": str(tmp_path)}) == explicit
    )
    assert default_state_url({"HUBSPOT_LOADER_STATE": "rel/s.sqlite", "DAGSTER_HOME": str(tmp_path)}) == (
        f"sqlite:///{Path('rel/s.sqlite').absolute()}"
    )
    dagster = {"DAGSTER_HOME": str(tmp_path), "XDG_STATE_HOME": "/xdg"}
    assert default_state_url(dagster) == f"sqlite:///{tmp_path}/hubspot_loader/state.sqlite"
    assert default_state_url(dagster, use_dagster_home=False) == "sqlite:////xdg/hubspot_loader/state.sqlite"
    assert default_state_path({"DAGSTER_HOME": "relative"}) == home  # Dagster requires an absolute path
    assert default_state_path({"XDG_STATE_HOME": "relative/dir"}) == home  # as the XDG specification says
    assert default_state_path({}) == home
    with open_ledger(default_state_url(dagster)) as ledger:
        assert (
            isinstance(ledger, SQLiteLedger)
            and Path(ledger.path) == tmp_path / "hubspot_loader" / "state.sqlite"
        )


def test_a_connection_the_server_dropped_is_replaced_and_the_write_runs_again(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_schema_url()
    with SqlLedger(url) as ledger:
        ledger.mark_pending(PORTAL, "contacts", [pending("before")], run_id="r")
        with postgres_server.connect() as admin:
            dropped = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'hubspot_loader' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert dropped >= 1  # the ledger's pooled connection is gone
        claim = ledger.mark_pending(
            PORTAL, "contacts", [pending("after")], run_id="r", lease_owner="o", lease_seconds=60
        )
        assert claim.claimed == {"after"}
        assert [e.row_key for e in ledger.in_doubt(PORTAL, "contacts")] == ["after", "before"]
