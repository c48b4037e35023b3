"""Running ``hubspot-loader`` in tests: in process through ``main([...])``, or as a subprocess.

Every run gets its own sync-state directory (``XDG_STATE_HOME`` under the test's ``tmp_path``, and no
``HUBSPOT_LOADER_STATE``), so no test writes to the real home directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubspot_loader.cli import main

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
STATE_ENV = "HUBSPOT_LOADER_STATE"


@dataclass(frozen=True)
class CliRun:
    """What one run of the command returned and printed."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The ``error:`` lines of stderr."""
        return [line for line in self.err.splitlines() if line.startswith("error:")]

    def summary(self) -> dict[str, str]:
        """The summary table (``name  value`` lines of stdout) as a dict."""
        rows = {}
        for line in self.out.splitlines():
            name, sep, value = line.rpartition("  ")
            if sep and name.strip():
                rows[name.strip()] = value.strip()
        return rows


def state_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess run: the test's own state directory, no token."""
    env = {k: v for k, v in os.environ.items() if k not in {TOKEN_ENV, STATE_ENV}}
    env["XDG_STATE_HOME"] = str(tmp_path / "xdg-state")
    return env


def run_subprocess(
    args: list[str], *, token: str | None, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m hubspot_loader.cli ARGS`` with captured (non-terminal) stdout and stderr."""
    environment = dict(env) if env is not None else state_env(cwd)
    if token is not None:
        environment[TOKEN_ENV] = token
    return subprocess.run(
        [sys.executable, "-m", "hubspot_loader.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., CliRun]]:
    """Run ``main([...])`` in this process from ``tmp_path``: ``cli(args, token=...)`` → :class:`CliRun`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv(STATE_ENV, raising=False)

    def run(args: list[str], *, token: str | None = None) -> CliRun:
        if token is None:
            monkeypatch.delenv(TOKEN_ENV, raising=False)
        else:
            monkeypatch.setenv(TOKEN_ENV, token)
        capsys.readouterr()
        code = main(args)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    yield run


def default_state_file(tmp_path: Path) -> Path:
    """Where the command keeps its state in these tests (``$XDG_STATE_HOME/hubspot_loader/state.sqlite``)."""
    return tmp_path / "xdg-state" / "hubspot_loader" / "state.sqlite"


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
