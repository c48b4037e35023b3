"""A throwaway PostgreSQL server for tests: ``initdb`` into a temp dir, ``postgres`` on a free 127.0.0.1 port.

Any test folder can use it: import the :func:`postgres_server` fixture into its ``conftest.py``
(``from hubspot_loader_tests.postgres import postgres_server  # noqa: F401``) and ask for
``postgres_server``; :meth:`PostgresServer.new_schema_url` gives each test its own empty schema.

- The server binaries are found on ``PATH`` or, where Debian's ``postgresql`` package puts them, in
  ``/usr/lib/postgresql/<version>/bin`` (the newest version). Without them the fixture skips with the
  reason, unless ``CI`` is set: there it fails, so CI cannot pass by skipping (``.ci/run`` installs the
  package).
- ``HUBSPOT_LOADER_TEST_POSTGRES_URL`` (``postgresql://user@host:port/db``) uses a server that is already
  running instead; each test still gets a fresh schema in it.
- The server runs as a child of the test process (not daemonized by ``pg_ctl``), with a parent-death
  signal: if the test process is killed, the server stops too, so no process outlives the session.
  As root (CI and this machine run as root, and PostgreSQL refuses to run as root) the binaries run as the
  ``postgres`` user when it exists, else ``nobody``.
- Readiness is a wait on a condition (a connection succeeds), never a fixed sleep; the deadline is only a
  hang guard for a loaded machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TEST_URL_ENV = "HUBSPOT_LOADER_TEST_POSTGRES_URL"
"""A running server to use instead of a throwaway one (a libpq URL with a superuser or schema owner)."""
DEBIAN_BIN_ROOT = Path("/usr/lib/postgresql")
DATABASE = "hubspot_loader_test"
SUPERUSER = "postgres"

#: Hang guards only: on a loaded 2-core machine initdb and the first connection are just slower.
INITDB_TIMEOUT_S = 300.0
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
START_ATTEMPTS = 4  # another process may take the free port between choosing and binding it

#: Settings of the throwaway server: durability off (tests kill clients, never the server), small memory.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "32MB",
}


def running_in_ci() -> bool:
    """``CI`` is set to something other than an explicit false value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def find_postgres_bin() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``: on ``PATH``, else Debian's newest version."""
    on_path = shutil.which("initdb")
    if on_path:
        directory = Path(on_path).resolve().parent
        if (directory / "postgres").exists():
            return directory
    if DEBIAN_BIN_ROOT.is_dir():
        versions = sorted(DEBIAN_BIN_ROOT.iterdir(), key=_version_key, reverse=True)
        for version in versions:
            if (version / "bin" / "initdb").exists() and (version / "bin" / "postgres").exists():
                return version / "bin"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when we are root (``None``: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGINT (PostgreSQL's fast shutdown) to the server when the test process dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGINT, 0, 0, 0)


@dataclass
class PostgresServer:
    """A PostgreSQL server the tests may use: its address and a database ``hubspot_loader_test``."""

    host: str
    port: int
    user: str
    database: str
    process: subprocess.Popen[bytes] | None = None
    base_dir: Path | None = None
    log_path: Path | None = None
    schemas: list[str] = field(default_factory=list)

    def url(self, driver: str = "postgresql+psycopg", database: str | None = None) -> str:
        """The SQLAlchemy URL of the test database (``driver="postgresql"`` for a plain libpq URL)."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database or self.database}"

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        """A psycopg connection (autocommit) to the test database."""
        import psycopg

        return psycopg.connect(self.url("postgresql", database), autocommit=True, **kwargs)

    def new_schema_url(self, prefix: str = "t") -> str:
        """Create an empty schema and return a URL whose ``search_path`` is that schema."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.connect() as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        self.schemas.append(name)
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown, then immediate, then SIGKILL) and remove its files."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                process.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=STOP_TIMEOUT_S)
                    break
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None


def _run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _initdb(bin_dir: Path, data_dir: Path, user: pwd.struct_passwd | None, log: Path) -> None:
    command = [
        str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust",
        "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
    ]  # fmt: skip
    with log.open("ab") as out:
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, timeout=INITDB_TIMEOUT_S, check=False,
            **_run_as(user),
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed ({done.returncode}):\n{log.read_text(errors='replace')[-4000:]}")


def _server_command(bin_dir: Path, data_dir: Path, socket_dir: Path, port: int, durable: bool) -> list[str]:
    settings = {} if durable else FAST_SETTINGS
    command = [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port), "-k", str(socket_dir),
               "-c", "listen_addresses=127.0.0.1"]  # fmt: skip
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    return command


def _wait_ready(server: PostgresServer, process: subprocess.Popen[bytes]) -> bool:
    """Wait until a connection succeeds (True) or the server exits (False: e.g. the port was taken)."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while process.poll() is None:
        try:
            with psycopg.connect(server.url("postgresql", "postgres"), connect_timeout=5):
                return True
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                message = f"PostgreSQL did not accept connections within {START_TIMEOUT_S:.0f} s"
                raise RuntimeError(message) from None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)  # returns at once when the server dies
    return False


def start_postgres(bin_dir: Path, *, durable: bool = False) -> PostgresServer:
    """Start a throwaway server (``durable=True`` keeps PostgreSQL's default fsync settings)."""
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="hubspot-loader-pg-"))
    base.chmod(0o755)
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    data_dir, socket_dir, log = base / "data", base / "run", base / "server.log"
    try:
        socket_dir.mkdir()
        log.touch()
        if user is not None:
            for path in (socket_dir, log):
                os.chown(path, user.pw_uid, user.pw_gid)
        _initdb(bin_dir, data_dir, user, log)
        for _attempt in range(START_ATTEMPTS):
            port = free_port()
            server = PostgresServer("127.0.0.1", port, SUPERUSER, DATABASE, base_dir=base, log_path=log)
            with log.open("ab") as out:
                process = subprocess.Popen(
                    _server_command(bin_dir, data_dir, socket_dir, server.port, durable),
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent, **_run_as(user),
                )  # fmt: skip
            server.process = process
            try:
                ready = _wait_ready(server, process)
            except BaseException:
                server.base_dir = None  # removed below
                server.stop()
                raise
            if ready:
                with server.connect("postgres") as conn:
                    conn.execute(f"CREATE DATABASE {DATABASE}")
                return server
        raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text(errors='replace')[-4000:]}")
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


def _external_server(url: str) -> PostgresServer:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return PostgresServer(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or SUPERUSER,
        database=parts.path.lstrip("/") or DATABASE,
    )


def _unavailable(reason: str) -> None:
    if running_in_ci():
        pytest.fail(f"{reason} (CI is set: PostgreSQL tests must run; .ci/run installs Debian's postgresql)")
    pytest.skip(reason)


@contextlib.contextmanager
def postgres_session(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A server for the duration of the block: the external one, or a throwaway cluster stopped at the end."""
    external = os.environ.get(TEST_URL_ENV, "").strip()
    if external:
        server = _external_server(external)
        try:
            yield server
        finally:
            _drop_schemas(server, server.schemas)
        return
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        _unavailable("PostgreSQL's initdb and postgres are not on PATH nor in /usr/lib/postgresql/*/bin")
        raise AssertionError("unreachable")  # pragma: no cover - skip/fail raise
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'hubspot-loader[postgres]')")
    server = start_postgres(bin_dir, durable=durable)
    try:
        yield server
    finally:
        server.stop()


def _drop_schemas(server: PostgresServer, schemas: Sequence[str]) -> None:
    with contextlib.suppress(Exception), server.connect() as conn:
        for name in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (per xdist worker), stopped and removed at the end."""
    with postgres_session() as server:
        yield server
