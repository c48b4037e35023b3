"""``hubspot-loader load`` against the sandbox: the installed console script, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hubspot_loader.sandbox import SandboxHandle

SCRIPT = Path(sys.executable).parent / "hubspot-loader"


def _run(args: list[str], token: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HUBSPOT_ACCESS_TOKEN"}
    if token is not None:
        env["HUBSPOT_ACCESS_TOKEN"] = token
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "mail": ["ann@example.com", "bad-email", "cy@example.com", "ann@example.com", "ed@example.com"],
            "first": ["Ann", "Bo", "Cy", "Ann again", "Éd 🚀"],
            "company": [None, None, None, None, None],
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("preflight", "reasons", "writes"),
    [
        # default: preflight holds the bad rows back; one request carries the three good ones
        ("quarantine", {"2": "PREFLIGHT INVALID_EMAIL", "4": "PREFLIGHT DUPLICATE_UNIQUE_VALUE"}, 1),
        # off: HubSpot judges (a 207 for the email, a 409 isolated by splitting for the duplicate)
        ("off", {"2": "VALIDATION_ERROR INVALID_EMAIL", "4": "CONFLICT nan"}, None),
    ],
)
def test_load_csv_with_bad_rows(
    sandbox: SandboxHandle, contacts_csv: Path, preflight: str, reasons: dict[str, str], writes: int | None
) -> None:
    proc = _run(
        [
            "load", str(contacts_csv), "--object-type", "contacts", "--key", "id",
            "--property", "mail=email", "--property", "first=firstname",
            "--base-url", sandbox.base_url, "--unique-property", "email", "--preflight", preflight,
        ],
        sandbox.token,
        contacts_csv.parent,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    summary = dict(
        line.split(None, 1) for line in proc.stdout.splitlines() if line.startswith(("created", "failed"))
    )
    assert summary == {"created": "3", "failed": "2"}
    failed = pd.read_csv(contacts_csv.with_suffix(".failed.csv"), dtype=str)
    assert sorted(failed["key"]) == ["2", "4"]
    got = {
        k: f"{c} {code}" for k, c, code in zip(failed["key"], failed["category"], failed["code"], strict=True)
    }
    assert got == reasons
    if writes is not None:
        assert sandbox.counters()["write_requests"] == writes
    stored = {o["properties"]["email"]: o["properties"].get("firstname") for o in sandbox.objects("contacts")}
    assert stored == {"ann@example.com": "Ann", "cy@example.com": "Cy", "ed@example.com": "Éd 🚀"}
    assert sandbox.token not in proc.stdout + proc.stderr


def test_dry_run_prints_payloads_and_sends_nothing(sandbox: SandboxHandle, contacts_csv: Path) -> None:
    proc = _run(
        ["load", str(contacts_csv), "--object-type", "contacts", "--key", "id", "--property", "mail=email",
         "--dry-run", "--preview", "2"],
        None,
        contacts_csv.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payloads = json.loads(proc.stdout[proc.stdout.index("[") :])
    assert payloads == [
        {"objectWriteTraceId": "1", "properties": {"email": "ann@example.com"}},
        {"objectWriteTraceId": "2", "properties": {"email": "bad-email"}},
    ]
    assert sandbox.counters()["requests"] == 0


def test_missing_token_is_a_usage_error(contacts_csv: Path) -> None:
    proc = _run(
        ["load", str(contacts_csv), "--object-type", "contacts", "--key", "id", "--base-url",
         "http://127.0.0.1:9"],
        None,
        contacts_csv.parent,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "HUBSPOT_ACCESS_TOKEN" in proc.stderr


def test_help_reads_well() -> None:
    proc = subprocess.run([str(SCRIPT), "load", "--help"], capture_output=True, text=True, check=True)
    for flag in ("--object-type", "--key", "--property", "--associate", "--dry-run", "--failed-rows"):
        assert flag in proc.stdout
