"""SQLite persistence, the CLI (``python -m hubspot_loader.sandbox``) and the subprocess runner."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import requests

from hubspot_loader.sandbox import FaultConfig, SandboxConfig, run_sandbox
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


def test_sqlite_persistence_survives_restart(tmp_path: Path, sandbox_factory: Factory) -> None:
    db = str(tmp_path / "sandbox.sqlite")
    first = sandbox_factory(db_path=db)
    api = Api(first)
    company = api.create("companies", [{"properties": {"name": "Acme"}}]).json()["results"][0]["id"]
    created = api.create(
        "contacts",
        [
            {
                "properties": {"email": "a@example.com"},
                "associations": [
                    {
                        "to": {"id": company},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                    }
                ],
            }
        ],
    )
    contact_id = created.json()["results"][0]["id"]
    first.stop()

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM associations").fetchone()[0] == 2

    second = sandbox_factory(db_path=db)
    api = Api(second)
    assert second.counts()["contacts"] == 1
    assert second.counters()["created"] == {"companies": 1, "contacts": 1}
    got = api.get(f"/crm/v3/objects/contacts/{contact_id}?associations=companies").json()
    assert got["associations"]["companies"]["results"][0]["id"] == company
    # unique index and id counter are restored
    assert api.create("contacts", [contact("A@example.com")]).status_code == 409
    new_id = api.create("contacts", [contact("b@example.com")]).json()["results"][0]["id"]
    assert int(new_id) > int(contact_id)
    second.reset()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 0


def test_subprocess_mode_uses_the_same_handle_api() -> None:
    config = SandboxConfig(shuffle_results=False, faults=FaultConfig(latency_ms=1))
    with run_sandbox(config, in_subprocess=True) as sb:
        assert sb.app is None
        resp = Api(sb).create("contacts", [contact("a@example.com")])
        assert resp.status_code == 201
        assert [o["properties"]["email"] for o in sb.objects("contacts")] == ["a@example.com"]
        assert sb.counters()["write_requests"] == 1
        assert sb.faults().latency_ms == 1
        url = sb.base_url
    try:
        requests.get(url + "/__sandbox__/health", timeout=2)
        raise AssertionError("sandbox subprocess still answering after stop")
    except requests.ConnectionError:
        pass


def _stopped(proc: subprocess.Popen[str]) -> int:
    """Wait for the sandbox to exit; if it does not within a minute, fail with every thread's stack."""
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler dumps the threads' stacks to stderr, then it dies
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"the sandbox did not stop on Ctrl-C:\n{err[-6000:]}") from None


def test_cli_runs_in_foreground_until_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # SIGABRT prints every thread's stack (see _stopped)
            "-m",
            "hubspot_loader.sandbox",
            "--port",
            "0",
            "--db",
            str(db),
            "--rate-limit",
            "100",
            "--token",
            "tok-a",
            "--token",
            "tok-b:crm.objects.contacts.read",
            "--error-rate",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("HubSpot sandbox running at http://127.0.0.1:")
        base_url = first.split()[-1]
        lines = [proc.stdout.readline() for _ in range(5)]
        assert "tok-a" in lines[0] and "tok-b" in lines[1] and "crm.objects.contacts.read" in lines[1]
        assert lines[4].startswith("Press Ctrl-C to stop.")  # the last line before it waits for Ctrl-C
        ok = requests.post(
            f"{base_url}/crm/v3/objects/contacts/batch/create",
            json={"inputs": [contact("a@example.com")]},
            headers={"Authorization": "Bearer tok-a"},
            timeout=30,
        )
        assert ok.status_code == 201 and ok.headers["X-HubSpot-RateLimit-Max"] == "100"
        denied = requests.post(
            f"{base_url}/crm/v3/objects/contacts/batch/create",
            json={"inputs": [contact("b@example.com")]},
            headers={"Authorization": "Bearer tok-b"},
            timeout=30,
        )
        assert denied.status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        assert _stopped(proc) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 1
        counters = dict(conn.execute("SELECT key, value FROM counters").fetchall())
        assert counters["write_requests"] == "2"


def test_cli_help_lists_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hubspot_loader.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for flag in ("--db", "--rate-limit", "--conflicts-as-207", "--drop-after-commit-rate", "--retry-after"):
        assert flag in out
