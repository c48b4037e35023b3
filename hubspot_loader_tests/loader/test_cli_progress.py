"""The progress bar: drawn only on a terminal, and its last line agrees with the summary."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pandas as pd
import pytest

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.loader.cli_support import run_subprocess, state_env


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    """Five contacts: preflight holds back two (an invalid email, a repeated email), three load."""
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5"],
            "email": ["a@example.com", "bad-email", "c@example.com", "a@example.com", "e@example.com"],
        }
    ).to_csv(path, index=False)
    return path


def _args(path: Path, hub: SandboxHandle) -> list[str]:
    return ["load", str(path), "--object-type", "contacts", "--key", "id", "--base-url", hub.base_url]


def test_no_progress_lines_when_stderr_is_not_a_terminal(sandbox: SandboxHandle, mixed_csv: Path) -> None:
    proc = run_subprocess(_args(mixed_csv, sandbox), token=sandbox.token, cwd=mixed_csv.parent)
    assert proc.returncode == 1, proc.stderr
    assert "\r" not in proc.stderr and "\r" not in proc.stdout
    assert "rows/s" not in proc.stderr and "created 3" not in proc.stderr


def _run_on_a_terminal(args: list[str], token: str, cwd: Path) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; return (exit code, stdout, terminal output)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # 40 rows, 160 columns
    env = state_env(cwd)
    env["HUBSPOT_ACCESS_TOKEN"] = token
    with subprocess.Popen(
        [sys.executable, "-m", "hubspot_loader.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        stdout = process.stdout.read() if process.stdout is not None else ""
        code = process.wait(timeout=600)
    os.close(leader)
    return code, stdout, b"".join(chunks).decode("utf-8", errors="replace")


def test_progress_on_a_terminal_counts_rows_held_back_by_preflight(
    sandbox: SandboxHandle, mixed_csv: Path
) -> None:
    code, stdout, terminal = _run_on_a_terminal(_args(mixed_csv, sandbox), sandbox.token, mixed_csv.parent)
    assert code == 1, terminal
    summary = {line.split()[0]: line.split()[-1] for line in stdout.splitlines() if line.strip()}
    assert (summary["created"], summary["failed"]) == ("3", "2")
    # the bar redraws with \r; its last state is the load's final count, held-back rows included
    bar_states = [s for s in terminal.replace("\n", "\r").split("\r") if "created" in s and "row" in s]
    assert bar_states, terminal
    last = bar_states[-1]
    assert "5/5" in last and "created 3, failed 2, skipped 0" in last
