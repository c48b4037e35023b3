"""``hubspot-loader sandbox`` and the command group, as click commands.

The sandbox's options are defined once, by its own (standard-library) parser; the click command is built
from it, so both must give the same :class:`SandboxConfig` for the same command line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from hubspot_loader._version import __version__
from hubspot_loader.cli.sandbox_command import sandbox_command, sandbox_config
from hubspot_loader.sandbox.cli import build_parser, config_from_args

SCRIPT = Path(sys.executable).parent / "hubspot-loader"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--port", "0", "--db", "x.sqlite", "--rate-limit", "100", "--keep-order", "--seed", "7"],
        ["--token", "tok-a", "--token", "tok-b:crm.objects.contacts.read,crm.schemas.contacts.read"],
        ["--error-rate", "0.5", "--reset-rate", "0.1", "--faults-on-reads", "--fault-seed", "3",
         "--status-sequence", "pending,CANCELED", "--processing-rate", "0.05", "--omit-completed-at"],
        ["--config-json", json.dumps({"portal_id": 42, "rate_limit_per_10s": 7}), "--no-trace-echo",
         "--conflicts-as-207", "--invalid-associations-as-207", "--no-requested-at", "--verbose"],
    ],
)  # fmt: skip
def test_the_click_command_gives_the_config_the_sandbox_parser_gives(argv: list[str]) -> None:
    with sandbox_command.make_context("sandbox", list(argv)) as ctx:
        from_click = sandbox_config(ctx.params)
    assert from_click == config_from_args(build_parser().parse_args(argv))


def test_every_sandbox_option_is_a_click_option() -> None:
    parser_flags = {s for a in build_parser()._actions for s in a.option_strings} - {"-h", "--help"}
    click_flags = {opt for param in sandbox_command.params for opt in param.opts}
    assert parser_flags == click_flags


def test_sandbox_runs_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite"
    args = [str(SCRIPT), "sandbox", "--port", "0", "--db", str(db), "--token", "tok-a", "--rate-limit", "50"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("HubSpot sandbox running at http://127.0.0.1:"), first
            base_url = first.split()[-1]
            answer = requests.post(
                f"{base_url}/crm/v3/objects/contacts/batch/create",
                json={"inputs": [{"properties": {"email": "a@example.com"}}]},
                headers={"Authorization": "Bearer tok-a"},
                timeout=30,
            )
            assert answer.status_code == 201 and answer.headers["X-HubSpot-RateLimit-Max"] == "50"
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        assert code == 0
        assert proc.stderr is not None and "Sandbox stopped." in proc.stderr.read()
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sandbox", "--port", "abc"], "Invalid value for '--port': 'abc' is not a valid integer"),
        (
            ["sandbox", "--config", "absent.json"],
            "cannot read --config absent.json: No such file or directory",
        ),
        (["sandbox", "--status-sequence", "DONE"], "DONE"),
        (["sandbox", "--no-such-flag"], "--no-such-flag"),
        (
            ["contacts.csv", "--key", "id"],
            "no command 'contacts.csv'; to load a file: hubspot-loader load contacts.csv",
        ),
        (["lod"], "No such command 'lod'"),
        ([], "Commands:"),
    ],
)
def test_command_line_mistakes_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run(
        [str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_version_and_help_of_the_group() -> None:
    version = subprocess.run(
        [str(SCRIPT), "--version"], capture_output=True, text=True, check=True, timeout=120
    )
    assert version.stdout.strip() == f"hubspot-loader {__version__}"
    help_text = subprocess.run(
        [str(SCRIPT), "-h"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "load " in help_text and "sandbox " in help_text and "exit codes:" in help_text
    sandbox_help = subprocess.run(
        [str(SCRIPT), "sandbox", "--help"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    for flag in ("--db", "--rate-limit", "--conflicts-as-207", "--drop-after-commit-rate", "--retry-after"):
        assert flag in sandbox_help
    assert "--config-json" not in sandbox_help  # hidden, as in the sandbox's own parser
