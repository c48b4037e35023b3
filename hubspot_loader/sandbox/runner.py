"""Starting and stopping a sandbox from Python: in a background thread or in a subprocess.

Both modes return a :class:`SandboxHandle`, which talks to the sandbox through its HTTP inspection
API (so the two modes behave identically).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hubspot_loader.sandbox.config import FaultConfig, SandboxConfig
from hubspot_loader.sandbox.handlers import SandboxApp
from hubspot_loader.sandbox.server import SandboxHTTPServer


class SandboxHandle:
    """A running sandbox: ``base_url``, ``token`` and inspection helpers.

    ``app`` is the in-process :class:`SandboxApp` (``None`` when the sandbox runs in a subprocess).
    """

    def __init__(self, base_url: str, config: SandboxConfig, app: SandboxApp | None = None) -> None:
        self.base_url = base_url
        self.config = config
        self.token = config.default_token
        self.app = app
        self._stop_fn: Any = None

    def __repr__(self) -> str:
        return f"SandboxHandle({self.base_url!r})"

    @property
    def tokens(self) -> list[str]:
        """Every accepted access token."""
        return [t.token for t in self.config.tokens]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def objects(
        self, object_type: str, *, archived: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Return stored objects of a type (oldest first) with properties and associations."""
        query = f"?archived={'true' if archived else 'false'}" + (f"&limit={limit}" if limit else "")
        return list(self._call("GET", f"/__sandbox__/objects/{object_type}{query}")["results"])

    def get_object(self, object_type: str, object_id: str | int) -> dict[str, Any] | None:
        """One stored object, or ``None``."""
        try:
            return dict(self._call("GET", f"/__sandbox__/objects/{object_type}/{object_id}"))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def counts(self) -> dict[str, int]:
        """Live objects per object type name."""
        return dict(self._call("GET", "/__sandbox__/counts"))

    def counters(self) -> dict[str, Any]:
        """Return request counters: ``requests``, ``write_requests``, ``by_status``, ``created``..."""
        return dict(self._call("GET", "/__sandbox__/counters"))

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault settings (takes effect for the next request)."""
        self._call("PUT", "/__sandbox__/faults", faults.to_dict())

    def faults(self) -> FaultConfig:
        """Return the current fault settings."""
        return FaultConfig.from_dict(self._call("GET", "/__sandbox__/faults"))

    def reset(self) -> None:
        """Delete all objects, zero counters and rate limits, restore the configured faults."""
        self._call("POST", "/__sandbox__/reset", {})

    def stop(self) -> None:
        """Stop the sandbox (idempotent)."""
        if self._stop_fn is not None:
            fn, self._stop_fn = self._stop_fn, None
            fn()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(config: SandboxConfig | None = None) -> SandboxHandle:
    """Start a sandbox in a background thread of this process; call ``stop()`` when done."""
    config = config or SandboxConfig()
    app = SandboxApp(config)
    server = SandboxHTTPServer((config.host, config.port), app)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hubspot-sandbox", daemon=True
    )
    thread.start()
    handle = SandboxHandle(server.base_url, config, app)

    def stop() -> None:
        app.shutdown_event.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
        app.close()

    handle._stop_fn = stop
    return handle


def start_sandbox_process(
    config: SandboxConfig | None = None, *, startup_timeout: float = 30.0
) -> SandboxHandle:
    """Start a sandbox in its own Python process (``python -m hubspot_loader.sandbox``)."""
    config = config or SandboxConfig()
    cmd = [sys.executable, "-m", "hubspot_loader.sandbox", "--config-json", json.dumps(config.to_dict())]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    assert proc.stdout is not None
    base_url: list[str] = []
    ready = threading.Event()

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not base_url and "http://" in line:
                base_url.append(line.strip().split()[-1])
                ready.set()
        ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    if not ready.wait(startup_timeout) or not base_url:
        proc.kill()
        raise RuntimeError("sandbox subprocess did not start")
    handle = SandboxHandle(base_url[0], config)

    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    handle._stop_fn = stop
    return handle


@contextmanager
def run_sandbox(
    config: SandboxConfig | None = None, *, in_subprocess: bool = False
) -> Iterator[SandboxHandle]:
    """Run a sandbox for the duration of a ``with`` block (thread by default, or a subprocess).

    >>> with run_sandbox(SandboxConfig(shuffle_results=False)) as sb:  # doctest: +SKIP
    ...     requests.post(f"{sb.base_url}/crm/v3/objects/contacts/batch/create", ...)
    """
    handle = start_sandbox_process(config) if in_subprocess else start_sandbox(config)
    try:
        yield handle
    finally:
        handle.stop()
