"""Shared fixtures: a fresh in-memory HubSpot sandbox per test; state stores on SQLite and PostgreSQL.

``state_url`` is parametrized over both backends: a SQLite file in the test's tmp dir, or a fresh schema in
the session's throwaway PostgreSQL (``hubspot_loader_tests/postgres.py``; started only when a PostgreSQL
test runs). ``ledgers()`` opens ledgers on it and closes them at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubspot_loader.sandbox import SandboxConfig, SandboxHandle, start_sandbox
from hubspot_loader.state.ledger import SqlLedger, open_ledger
from hubspot_loader_tests.postgres import PostgresServer, postgres_server  # noqa: F401 (a fixture)
from hubspot_loader_tests.scanning import open_scanning_ledger

BACKENDS = ("sqlite", "postgres")
#: Where a test's default sync state lives: ``$XDG_STATE_HOME`` under its tmp dir (see ``own_state_home``).
STATE_HOME = "xdg-state"


@pytest.fixture(autouse=True)
def own_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Give every test its own default state location, so no test reads or writes the user's ledger.

    The defaults (:mod:`hubspot_loader.state.location`) read ``$HUBSPOT_LOADER_STATE_URL``,
    ``$HUBSPOT_LOADER_STATE``, ``$DAGSTER_HOME`` and ``$XDG_STATE_HOME``: the first three are unset and the
    last points into the test's tmp dir (a test may set any of them again). Returns that directory.
    """
    for name in ("HUBSPOT_LOADER_STATE_URL", "HUBSPOT_LOADER_STATE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / STATE_HOME
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxHandle]]:
    """Start sandboxes with config overrides: ``sandbox_factory(rate_limit_per_10s=5)``.

    Each call starts a fresh in-memory sandbox on a free 127.0.0.1 port; all are stopped at teardown.
    A ``config=SandboxConfig(...)`` keyword replaces the base configuration.
    """
    handles: list[SandboxHandle] = []

    def factory(config: SandboxConfig | None = None, **overrides: Any) -> SandboxHandle:
        base = config or SandboxConfig()
        handle = start_sandbox(base.replace(host="127.0.0.1", port=0, **overrides))
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A fresh in-memory sandbox with default settings (``sb.base_url``, ``sb.token``)."""
    return sandbox_factory()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture
def state_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty state store of the backend: a SQLite file URL, or a PostgreSQL URL of a fresh schema."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'ledger.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_schema_url()


@pytest.fixture
def ledgers(state_url: str) -> Iterator[Callable[..., SqlLedger]]:
    """Open ledgers on the test's store (each its own connections); all are closed at teardown.

    ``scanning=True``: a ledger scanning its briefs for loads of any size (``hubspot_loader_tests.scanning``).
    """
    opened: list[SqlLedger] = []

    def build(*, scanning: bool = False) -> SqlLedger:
        ledger = open_scanning_ledger(state_url) if scanning else open_ledger(state_url)
        opened.append(ledger)
        return ledger

    yield build
    for ledger in opened:
        ledger.close()
