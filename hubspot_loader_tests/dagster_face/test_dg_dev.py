"""``dg dev`` on a fresh project with a scaffolded HubSpot load: the UI's server starts and serves the asset.

One slow test. The server is polled (``/server_info``, then a GraphQL query for the asset) until it answers,
within a hang guard; then it is stopped with SIGINT, as Ctrl-C in a terminal would, and must exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.dagster_face.test_dg_cli import TYPE, _dg, _env, _project

START_GUARD_S = 300.0  # a hang guard, not a timing target: dg dev imports Dagster and the project
STOP_GUARD_S = 60.0
ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _asset_paths(url: str) -> list[list[str]] | str:
    """The asset keys the server lists, or why it does not list them yet."""
    try:
        if requests.get(f"{url}/server_info", timeout=5).status_code != 200:
            return "no server_info yet"
        answer = requests.post(f"{url}/graphql", json={"query": ASSETS_QUERY}, timeout=30)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"
    if answer.status_code != 200:
        return f"GraphQL {answer.status_code}: {answer.text[:500]}"
    nodes = (answer.json().get("data") or {}).get("assetNodes")
    if not nodes:
        return f"no asset nodes yet: {answer.text[:500]}"
    return [node["assetKey"]["path"] for node in nodes]


def _loaded(paths: list[list[str]] | str) -> bool:
    return not isinstance(paths, str) and any(path[-1] == "companies" for path in paths)


@pytest.mark.slow
def test_dg_dev_serves_the_scaffolded_load_and_stops_on_ctrl_c(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    project = tmp_path / "trial"
    _project(project)
    env = _env(tmp_path, sandbox)
    args = ["--object-type", "companies", "--source", "account_rows", "--key-column", "account_id"]
    scaffolded = _dg(project, env, "scaffold", "defs", TYPE, "companies", *args)
    assert scaffolded.returncode == 0, scaffolded.stdout[-3000:] + scaffolded.stderr[-3000:]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "dg-dev.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_dg_cli.cli", "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGINT reaches dg and the servers it starts
    )
    try:
        paths: list[list[str]] | str = "not asked yet"
        deadline = time.monotonic() + START_GUARD_S
        while not _loaded(paths):
            output = (tmp_path / "dg-dev.log").read_text()[-3000:]
            assert server.poll() is None, output
            assert time.monotonic() < deadline, f"{paths}\n{output}"
            paths = _asset_paths(url)
            if not _loaded(paths):
                with contextlib.suppress(subprocess.TimeoutExpired):  # between polls; ends early if it exits
                    server.wait(timeout=1.0)
        assert not isinstance(paths, str) and ["account_rows"] in paths, paths
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=STOP_GUARD_S) is not None
    finally:
        with contextlib.suppress(ProcessLookupError):
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
    assert "superseded" not in (tmp_path / "dg-dev.log").read_text()
