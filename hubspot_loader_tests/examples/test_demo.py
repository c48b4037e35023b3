"""``make demo``'s job, run twice as a user runs it: the second run creates nothing new and says so."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hubspot_loader_tests.examples.conftest import DBT_EXAMPLES, dbt_env

# The dbt seeds: 300 companies, 3,000 contacts (10 with an invalid email), 400 deals.
EXPECTED_CREATED = {"companies": 300, "contacts": 2990, "deals": 400}
INVALID_EMAIL_KEYS = ["CT-00039", "CT-00342", "CT-00561", "CT-00725", "CT-01019",
                      "CT-01244", "CT-01470", "CT-01500", "CT-02533", "CT-02679"]  # fmt: skip


def _demo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dbt_env(
        HUBSPOT_LOADER_DEMO_DIR=str(tmp_path / "demo"),
        HUBSPOT_LOADER_DUCKDB=str(tmp_path / "warehouse.duckdb"),
    )
    env.pop("HUBSPOT_ACCESS_TOKEN", None)
    env.pop("HUBSPOT_SANDBOX_URL", None)
    return subprocess.run(
        [sys.executable, str(DBT_EXAMPLES / "demo.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def _table(stdout: str) -> dict[str, list[int]]:
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] in EXPECTED_CREATED and parts[1].isdigit():
            rows[parts[0]] = [int(p) for p in parts[1:]]
    return rows


@pytest.mark.slow
def test_demo_twice_second_run_creates_nothing(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "embedded HubSpot sandbox" in first.stdout
    table = _table(first.stdout)
    assert {k: v[1] for k, v in table.items()} == EXPECTED_CREATED  # created
    assert {k: v[3] for k, v in table.items()} == {"companies": 0, "contacts": 10, "deals": 0}  # failed
    for key in INVALID_EMAIL_KEYS:
        assert f"{key}: PREFLIGHT INVALID_EMAIL" in first.stdout

    db = tmp_path / "demo" / "sandbox.sqlite"
    with sqlite3.connect(db) as con:
        counts = dict(con.execute("select object_type_id, count(*) from objects group by 1").fetchall())
    assert counts == {"0-2": 300, "0-1": 2990, "0-3": 400}

    second = _demo(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    table = _table(second.stdout)
    assert {k: v[1] for k, v in table.items()} == {"companies": 0, "contacts": 0, "deals": 0}
    assert {k: v[2] for k, v in table.items()} == EXPECTED_CREATED  # skipped
    assert "Nothing new was created" in second.stdout
    with sqlite3.connect(db) as con:
        again = dict(con.execute("select object_type_id, count(*) from objects group by 1").fetchall())
    assert again == counts
