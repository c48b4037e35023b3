"""Fixtures for the browser tests: Chromium, a sandbox on 127.0.0.1 and ``dagster dev`` on a free port.

Chromium is Debian's ``chromium`` package, driven by Playwright with ``executable_path`` (Playwright's own
browser downloads are not used). Without Chromium the tests skip, unless ``CI`` is set: there they fail,
so CI cannot pass by silently skipping them (``.ci/run`` installs the package).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource
from hubspot_loader.sandbox import SandboxHandle, start_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "browser"
"""Where screenshots are kept after the run (gitignored); each is also saved under the test's tmp_path."""

#: Hang guards only: on a loaded 2-core machine ``dagster dev`` and its queries are just slower.
SERVER_START_TIMEOUT_S = 300.0
QUERY_TIMEOUT_S = 120.0
SHUTDOWN_GRACE_S = 15.0


def running_in_ci() -> bool:
    """``CI`` is set to something other than an explicit false value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def find_chromium() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``), else a ``chromium`` on ``PATH``; ``None`` when absent."""
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """The Chromium to drive; without it (or Playwright) the test skips, or fails when ``CI`` is set."""
    problem = None
    if importlib.util.find_spec("playwright") is None:
        problem = "the playwright Python package is not installed (pip install -e '.[dev]')"
    chromium = find_chromium()
    if chromium is None:
        problem = problem or "no Chromium at /usr/bin/chromium or on PATH (apt-get install chromium)"
    if problem is None and chromium is not None:
        return chromium
    if running_in_ci():
        pytest.fail(f"{problem}; CI is set, so this is a failure, not a skip (.ci/run installs Chromium)")
    pytest.skip(f"{problem}; CI is not set, so the browser test is skipped")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The path of Debian's Chromium (see :func:`require_chromium`)."""
    return require_chromium()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def example_custom_properties() -> dict[str, dict[str, str]]:
    """``CUSTOM_PROPERTIES`` of ``dbt_examples/hubspot_example/target.py``: what the example loads need.

    Read without importing the module (importing it loads dbt and Dagster definitions in this worker).
    """
    tree = ast.parse((REPO_ROOT / "dbt_examples" / "hubspot_example" / "target.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CUSTOM_PROPERTIES" for t in node.targets
        ):
            value: dict[str, dict[str, str]] = ast.literal_eval(node.value)
            return value
    raise AssertionError("dbt_examples/hubspot_example/target.py has no literal CUSTOM_PROPERTIES")


@pytest.fixture
def ui_sandbox() -> Iterator[SandboxHandle]:
    """A sandbox on 127.0.0.1 set up like the example's: ``requestedAt`` on, its custom contact properties.

    In memory, in a thread of this worker; stopped at teardown.
    """
    resource = SandboxHubSpotResource(extra_properties=example_custom_properties(), include_requested_at=True)
    handle = start_sandbox(resource.sandbox_config())
    try:
        yield handle
    finally:
        handle.stop()


@dataclass(frozen=True)
class DagsterDev:
    """A running ``dagster dev``: its URL, process, home and log file."""

    base_url: str
    process: subprocess.Popen[bytes]
    dagster_home: Path
    log_path: Path

    def log_tail(self, chars: int = 6000) -> str:
        """The end of ``dagster dev``'s combined output."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query against the webserver's GraphQL API; returns ``data`` (raises on errors)."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=QUERY_TIMEOUT_S) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        data: dict[str, Any] = payload["data"]
        return data


INSTANCE_YAML = """\
# Written by hubspot_loader_tests/browser: a throwaway instance for one test.
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""

LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _dagster_env(sandbox_url: str, dagster_home: Path, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HUBSPOT_ACCESS_TOKEN", "HUBSPOT_BASE_URL"}}
    env.update(
        DAGSTER_HOME=str(dagster_home),
        HUBSPOT_SANDBOX_URL=sandbox_url,
        HUBSPOT_LOADER_DEMO_DIR=str(work / "demo"),
        HUBSPOT_LOADER_DUCKDB=str(work / "warehouse" / "warehouse.duckdb"),
        DBT_TARGET_PATH=str(work / "dbt_target"),  # dagster-dbt's per-run target dirs, out of the repo
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _wait_until_ready(dev: DagsterDev, deadline: float) -> None:
    """Wait for ``/server_info`` and for the example's code location to load (fail fast if it cannot)."""
    last = "no answer yet"
    while time.monotonic() < deadline:
        if dev.process.poll() is not None:
            raise AssertionError(
                f"dagster dev exited with {dev.process.returncode} before serving:\n{dev.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{dev.base_url}/server_info", timeout=QUERY_TIMEOUT_S) as response:
                response.read()
            entries = dev.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            last = json.dumps(entries)
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
                if errors:
                    raise AssertionError(f"the code location failed to load: {errors}\n{dev.log_tail()}")
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = repr(exc)
        time.sleep(0.5)  # poll interval
    raise AssertionError(
        f"dagster dev not ready after {SERVER_START_TIMEOUT_S:.0f}s ({last}):\n{dev.log_tail()}"
    )


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group started for ``process``, then SIGKILL whatever is left of it."""
    pgid = process.pid  # started with start_new_session=True: the group is ours alone
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)  # children (webserver, daemon, code servers, run workers)
    process.wait(timeout=30)


@pytest.fixture
def dagster_dev(ui_sandbox: SandboxHandle, tmp_path: Path) -> Iterator[DagsterDev]:
    """``dagster dev -w workspace.yaml`` from the repo root, against ``ui_sandbox``, on a free port.

    ``DAGSTER_HOME``, the demo directory, the DuckDB warehouse and dbt's target paths are under
    ``tmp_path``; ``HUBSPOT_ACCESS_TOKEN`` is removed. The whole process group is killed at teardown.
    """
    work = tmp_path / "dagster"
    dagster_home = work / "home"
    dagster_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    (work / "warehouse").mkdir()
    port = free_port()
    log_path = work / "dagster_dev.log"
    command = [str(VENV_BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=_dagster_env(ui_sandbox.base_url, dagster_home, work),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = DagsterDev(f"http://127.0.0.1:{port}", process, dagster_home, log_path)
    try:
        _wait_until_ready(dev, time.monotonic() + SERVER_START_TIMEOUT_S)
        yield dev
    finally:
        stop_process_group(process)
