"""``make demo-changes``: after ``make demo``, four raw rows change and the next load syncs exactly those.

``demo.py --changes`` reloads the committed seeds, edits the raw tables (``hubspot_example/changes.py``:
a company renamed, a contact's lifecycle stage, a contact moved to another company, a deal deleted) and
runs the job without its seed step. The printed outcome of each load says 0 created, the updated rows, the
rest unchanged and 1 deal archived; the sandbox's SQLite file then holds the change.
"""

import json
import re
import sqlite3
from pathlib import Path

import pytest

from hubspot_loader_tests.examples.conftest import import_example
from hubspot_loader_tests.examples.test_demo import _demo

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


def _outcomes(stdout: str) -> dict[str, tuple[str, str]]:
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


@pytest.mark.slow
def test_demo_changes_sync_the_edited_rows(tmp_path: Path) -> None:
    changes = import_example("changes")
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert _outcomes(first.stdout) == FIRST_RUN, first.stdout[-3000:]
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
    assert _outcomes(changed.stdout) == AFTER_THE_CHANGE, changed.stdout[-3000:]
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
