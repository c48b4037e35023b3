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
    env = {k: v for k, v in os.environ.items() if k not in {"HUBSPOT_ACCESS_TOKEN", "HUBSPOT_LOADER_STATE"}}
    env["XDG_STATE_HOME"] = str(cwd / "xdg-state")  # the sync state stays in the test's directory
    if token is not None:
        env["HUBSPOT_ACCESS_TOKEN"] = token
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
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
    failed = pd.read_csv(contacts_csv.with_name("contacts.csv.failed.csv"), dtype=str)
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


def test_csv_text_is_sent_as_written(sandbox: SandboxHandle, tmp_path: Path) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("id,email,zip\n001,z1@example.com,02134\n002,z2@example.com,\n", encoding="utf-8")
    proc = _run(
        ["load", str(path), "--object-type", "contacts", "--key", "id", "--base-url", sandbox.base_url],
        sandbox.token,
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    stored = {o["properties"]["email"]: o["properties"] for o in sandbox.objects("contacts")}
    assert stored["z1@example.com"]["zip"] == "02134"
    assert "zip" not in stored["z2@example.com"]  # empty cell: property omitted


def test_dry_run_with_token_runs_preflight_without_writing(
    sandbox: SandboxHandle, contacts_csv: Path
) -> None:
    proc = _run(
        ["load", str(contacts_csv), "--object-type", "contacts", "--key", "id", "--property", "mail=email",
         "--property", "first=fristname", "--base-url", sandbox.base_url, "--dry-run"],
        sandbox.token,
        contacts_csv.parent,
    )  # fmt: skip
    assert proc.returncode == 2  # a property that does not exist is a configuration error
    assert (
        "property 'fristname' (column 'first') does not exist on contacts; did you mean 'firstname'?"
        in proc.stderr
    )
    assert sandbox.counters()["write_requests"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--property", "no_such_column=email"], "no_such_column"),
        (["--base-url", "http://example.com"], "http"),
    ],
)
def test_usage_errors_exit_2_with_a_message(contacts_csv: Path, args: list[str], message: str) -> None:
    proc = _run(
        ["load", str(contacts_csv), "--object-type", "contacts", "--key", "id", *args],
        "token-x",
        contacts_csv.parent,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    proc = _run(
        ["load", str(tmp_path / "nope.csv"), "--object-type", "contacts", "--key", "id"], "t", tmp_path
    )
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr
