"""``make demo``'s job, run twice as a user runs it: the second run creates and changes nothing, and says so;
then ``make demo-changes`` syncs exactly the edited rows.

And the demo's target: the sandbox, even with ``HUBSPOT_ACCESS_TOKEN`` exported, unless the user opts in
with ``HUBSPOT_TARGET=hubspot`` or ``--target hubspot``; the first line says which.
"""

import json
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hubspot_loader_tests.examples.conftest import DBT_EXAMPLES, dbt_env, import_example

# The dbt seeds: 300 companies, 3,000 contacts (10 with an invalid email), 400 deals.
EXPECTED_CREATED = {"companies": 300, "contacts": 2990, "deals": 400}
INVALID_EMAIL_KEYS = ["CT-00039", "CT-00342", "CT-00561", "CT-00725", "CT-01019",
                      "CT-01244", "CT-01470", "CT-01500", "CT-02533", "CT-02679"]  # fmt: skip


A_REAL_LOOKING_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"


class ConnectionTrap:
    """A port on 127.0.0.1 that counts every connection made to it (and closes each at once)."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self._socket.settimeout(0.2)  # the poll interval of the accept loop, not a synchronisation
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                if self._stop.is_set():  # only once nothing is waiting in the backlog
                    return
                continue
            self.connections += 1
            conn.close()

    def close(self) -> int:
        """Stop, after counting the connections still queued; return the total."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._socket.close()
        return self.connections


@pytest.fixture
def trap() -> Iterator[ConnectionTrap]:
    found = ConnectionTrap()
    yield found
    found.close()


def _demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dbt_env(
        HUBSPOT_LOADER_DEMO_DIR=str(tmp_path / "demo"),
        HUBSPOT_LOADER_DUCKDB=str(tmp_path / "warehouse.duckdb"),
    )
    for name in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_SANDBOX_URL", "HUBSPOT_TARGET", "HUBSPOT_BASE_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def _demo(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DBT_EXAMPLES / "demo.py"), *args],
        cwd=tmp_path,
        env=_demo_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def _outcomes(stdout: str) -> dict[str, dict[str, int]]:
    """Each load's printed outcome line ("companies (upsert):  300 created, 0 updated, ... of 300 rows")."""
    found = {}
    for line in stdout.splitlines():
        name, _, rest = line.partition(" (")
        if name in EXPECTED_CREATED and "):" in rest and rest.endswith(" rows"):
            counts = rest.split("):", 1)[1].rsplit(" of ", 1)[0]
            found[name] = {word: int(n) for n, word in (part.split() for part in counts.split(","))}
    return found


@pytest.mark.slow
def test_demo_twice_creates_nothing_the_second_time_then_syncs_the_edited_rows(
    tmp_path: Path, trap: ConnectionTrap
) -> None:
    # A data engineer's shell: a token and a base URL exported. The demo must still use the sandbox.
    first = _demo(tmp_path, HUBSPOT_ACCESS_TOKEN=A_REAL_LOOKING_TOKEN, HUBSPOT_BASE_URL=trap.url)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert first.stdout.splitlines()[0].startswith("Target: the embedded HubSpot sandbox (")
    assert "HUBSPOT_ACCESS_TOKEN is set but not used" in first.stdout.splitlines()[0]
    assert "embedded HubSpot sandbox" in first.stdout
    assert trap.close() == 0  # the base URL was never contacted
    assert A_REAL_LOOKING_TOKEN not in first.stdout + first.stderr
    assert _outcome_lines(first.stdout) == FIRST_RUN, first.stdout[-3000:]
    outcomes = _outcomes(first.stdout)
    assert {k: v["created"] for k, v in outcomes.items()} == EXPECTED_CREATED
    assert {k: v["failed"] for k, v in outcomes.items()} == {"companies": 0, "contacts": 10, "deals": 0}
    for key in INVALID_EMAIL_KEYS:
        assert f"{key}: PREFLIGHT INVALID_EMAIL" in first.stdout

    db = tmp_path / "demo" / "sandbox.sqlite"
    with sqlite3.connect(db) as con:
        counts = dict(con.execute("select object_type_id, count(*) from objects group by 1").fetchall())
    assert counts == {"0-2": 300, "0-1": 2990, "0-3": 400}

    second = _demo(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    outcomes = _outcomes(second.stdout)
    for word in ("created", "updated", "archived", "skipped"):
        assert {k: v[word] for k, v in outcomes.items()} == {"companies": 0, "contacts": 0, "deals": 0}, word
    assert {k: v["unchanged"] for k, v in outcomes.items()} == EXPECTED_CREATED  # upsert, mirror
    assert "Nothing new was created" in second.stdout
    with sqlite3.connect(db) as con:
        again = dict(con.execute("select object_type_id, count(*) from objects group by 1").fetchall())
    assert again == counts

    _assert_the_changes_sync(tmp_path)  # one demo run fewer than a test of its own (the suite's time)


OUTCOME = re.compile(r"^(companies|contacts|deals) \((\w+)\):\s+(.+ of \d+ rows)$")

FIRST_RUN = {
    "companies": (
        "upsert",
        "300 created, 0 updated, 0 unchanged, 0 adopted, 0 archived, 0 failed, 0 skipped of 300 rows",
    ),
    "contacts": (
        "upsert",
        "2990 created, 0 updated, 0 unchanged, 0 adopted, 0 archived, 10 failed, 0 skipped of 3000 rows",
    ),
    "deals": (
        "mirror",
        "400 created, 0 updated, 0 unchanged, 0 adopted, 0 archived, 0 failed, 0 skipped of 400 rows",
    ),
}
AFTER_THE_CHANGE = {
    "companies": (
        "upsert",
        "0 created, 1 updated, 299 unchanged, 0 adopted, 0 archived, 0 failed, 0 skipped of 300 rows",
    ),
    "contacts": (
        "upsert",
        "0 created, 2 updated, 2988 unchanged, 0 adopted, 0 archived, 10 failed, 0 skipped of 3000 rows",
    ),
    "deals": (
        "mirror",
        "0 created, 0 updated, 399 unchanged, 0 adopted, 1 archived, 0 failed, 0 skipped of 399 rows",
    ),
}


def _outcome_lines(stdout: str) -> dict[str, tuple[str, str]]:
    """Each load's outcome line, as its write mode and its counts."""
    found = {}
    for line in stdout.splitlines():
        match = OUTCOME.match(line)
        if match:
            found[match[1]] = (match[2], match[3])
    return found


def _hubspot_ids(state: Path, keys: dict[str, str]) -> dict[str, int]:
    """The HubSpot id the loads' ledger holds for each warehouse key (``{key: object type}``)."""
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as con:
        found = {
            key: con.execute(
                "select hubspot_id from sync_rows where object_type = ? and row_key = ?", (object_type, key)
            ).fetchone()
            for key, object_type in keys.items()
        }
    assert all(row and row[0] for row in found.values()), found
    return {key: int(row[0]) for key, row in found.items()}


def _record(con: sqlite3.Connection, type_id: str, hubspot_id: int) -> tuple[dict[str, str], int]:
    """A sandbox record's properties and its ``archived`` flag."""
    properties, archived = con.execute(
        "select properties, archived from objects where object_type_id = ? and id = ?", (type_id, hubspot_id)
    ).fetchone()
    return json.loads(properties), archived


def _companies_of(con: sqlite3.Connection, contact_id: int) -> set[int]:
    """The ids of the companies a sandbox contact is associated with."""
    rows = con.execute(
        "select to_id from associations where from_type_id = '0-1' and from_id = ? and to_type_id = '0-2'",
        (contact_id,),
    ).fetchall()
    return {row[0] for row in rows}


def _assert_the_changes_sync(tmp_path: Path) -> None:
    """``make demo-changes`` after ``make demo``: four raw rows change and the loads sync exactly those.

    ``demo.py --changes`` reloads the committed seeds, edits the raw tables (``hubspot_example/changes.py``:
    a company renamed, a contact's lifecycle stage, a contact moved to another company, a deal deleted)
    and runs the job without its seed step. The printed outcome of each load says 0 created, the updated
    rows, the rest unchanged and 1 deal archived; the sandbox's SQLite file then holds the change.
    """
    changes = import_example("changes")
    ids = _hubspot_ids(
        tmp_path / "demo" / "sandbox.state.sqlite",
        {
            changes.RENAMED_COMPANY_KEY: "companies",
            changes.OLD_COMPANY_KEY: "companies",
            changes.NEW_COMPANY_KEY: "companies",
            changes.STAGED_CONTACT_KEY: "contacts",
            changes.MOVED_CONTACT_KEY: "contacts",
            changes.DELETED_DEAL_KEY: "deals",
        },
    )

    changed = _demo(tmp_path, "--changes")
    assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr[-3000:]
    for edit in changes.EDITS:
        assert f"  {edit.description}\n" in changed.stdout
    assert _outcome_lines(changed.stdout) == AFTER_THE_CHANGE, changed.stdout[-3000:]
    assert "Nothing new was created" not in changed.stdout

    with sqlite3.connect(f"file:{tmp_path / 'demo' / 'sandbox.sqlite'}?mode=ro", uri=True) as con:
        counts = dict(con.execute("select object_type_id, count(*) from objects group by 1").fetchall())
        live = dict(
            con.execute(
                "select object_type_id, count(*) from objects where archived = 0 group by 1"
            ).fetchall()
        )
        company, company_archived = _record(con, "0-2", ids[changes.RENAMED_COMPANY_KEY])
        staged, _ = _record(con, "0-1", ids[changes.STAGED_CONTACT_KEY])
        _, deal_archived = _record(con, "0-3", ids[changes.DELETED_DEAL_KEY])
        moved_to = _companies_of(con, ids[changes.MOVED_CONTACT_KEY])

    assert counts == {"0-2": 300, "0-1": 2990, "0-3": 400}  # nothing created
    assert live == {"0-2": 300, "0-1": 2990, "0-3": 399}
    assert company["name"] == changes.NEW_COMPANY_NAME and not company_archived
    assert staged["lifecyclestage"] == changes.NEW_LIFECYCLE_STAGE
    assert deal_archived == 1
    # upsert adds the new company's association and leaves the old one (only mirror removes associations)
    assert moved_to == {ids[changes.NEW_COMPANY_KEY], ids[changes.OLD_COMPANY_KEY]}


def _first_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stdout, proc.stderr
    return proc.stdout.splitlines()[0]


def test_target_is_the_sandbox_with_a_token_exported(tmp_path: Path, trap: ConnectionTrap) -> None:
    proc = _demo(
        tmp_path, "--print-target", HUBSPOT_ACCESS_TOKEN=A_REAL_LOOKING_TOKEN, HUBSPOT_BASE_URL=trap.url
    )
    assert proc.returncode == 0, proc.stderr
    line = _first_line(proc)
    assert line.startswith(f"Target: the embedded HubSpot sandbox ({tmp_path / 'demo' / 'sandbox.sqlite'})")
    assert "not a real HubSpot portal" in line and "HUBSPOT_TARGET=hubspot" in line
    assert trap.close() == 0


def test_make_dev_target_is_its_sandbox_with_a_token_exported(tmp_path: Path) -> None:
    # what `make dev` runs first (and dg dev's definitions read the same environment)
    proc = _demo(
        tmp_path,
        "--print-target",
        HUBSPOT_ACCESS_TOKEN=A_REAL_LOOKING_TOKEN,
        HUBSPOT_SANDBOX_URL="http://127.0.0.1:8765",
    )
    assert proc.returncode == 0, proc.stderr
    assert _first_line(proc).startswith("Target: the local HubSpot sandbox at http://127.0.0.1:8765,")


def test_real_hubspot_only_on_explicit_opt_in(tmp_path: Path) -> None:
    by_env = _demo(
        tmp_path,
        "--print-target",
        HUBSPOT_TARGET="hubspot",
        HUBSPOT_ACCESS_TOKEN=A_REAL_LOOKING_TOKEN,
        HUBSPOT_BASE_URL="http://127.0.0.1:9",
    )
    assert by_env.returncode == 0, by_env.stderr
    assert _first_line(by_env) == (
        "Target: real HubSpot at http://127.0.0.1:9 (HUBSPOT_TARGET=hubspot), "
        "the portal of $HUBSPOT_ACCESS_TOKEN"
    )
    by_flag = _demo(
        tmp_path, "--target", "hubspot", "--print-target", HUBSPOT_ACCESS_TOKEN=A_REAL_LOOKING_TOKEN
    )
    assert by_flag.returncode == 0 and _first_line(by_flag).startswith(
        "Target: real HubSpot at https://api.hubapi.com"
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--target", "hubspot"], {}, "--target=hubspot loads into a real HubSpot portal and needs"),
        ([], {"HUBSPOT_TARGET": "hubspot"}, "HUBSPOT_TARGET=hubspot loads into a real HubSpot portal"),
        ([], {"HUBSPOT_TARGET": "prod", "HUBSPOT_ACCESS_TOKEN": A_REAL_LOOKING_TOKEN}, "expected 'sandbox'"),
    ],
)
def test_unusable_target_stops_before_anything_runs(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    proc = _demo(tmp_path, *args, **env)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "demo").exists()


def test_definitions_choose_the_sandbox_with_a_token_exported(
    warehouse: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The resource ``dg dev`` (``make dev``) and the demo get, from the same environment."""
    from hubspot_loader.dagster.resource import HubSpotResource
    from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", A_REAL_LOOKING_TOKEN)
    monkeypatch.setenv("HUBSPOT_SANDBOX_URL", "http://127.0.0.1:8765")
    monkeypatch.delenv("HUBSPOT_TARGET", raising=False)
    target = import_example("target")
    chosen = target.hubspot_target()
    assert isinstance(chosen, SandboxHubSpotResource) and chosen.url == "http://127.0.0.1:8765"

    monkeypatch.setenv("HUBSPOT_TARGET", "hubspot")
    monkeypatch.setenv("HUBSPOT_BASE_URL", "https://api.hubapi.com")
    real = target.hubspot_target()
    assert type(real) is HubSpotResource and real.base_url == "https://api.hubapi.com"
