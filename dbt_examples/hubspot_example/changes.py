"""A day's change in the source systems, for ``demo.py --changes`` (``make demo-changes``).

Four raw rows of the warehouse change, as an upstream system would change them:

- a company is renamed (``raw_companies`` 7: "Silver Foods LLC" → "Silver Foods Group");
- a contact's lifecycle stage moves forward (``raw_contacts`` 6: lead → customer; HubSpot's lifecycle
  stage can only move forward, reference §9);
- a contact moves to another company (``raw_contacts`` 9: company 76 → company 12);
- a deal is deleted (``raw_deals`` 5, with its rows in ``raw_deal_contacts``).

How: :func:`reseed_and_change` runs ``dbt seed`` (the committed CSVs, untouched, reload the raw tables),
then edits those four rows with plain SQL in the DuckDB warehouse (``$HUBSPOT_LOADER_DUCKDB`` or
``dbt_examples/warehouse.duckdb``), and ``demo.py`` runs the job without its seed assets
(:data:`RAW_SEEDS`), so ``dbt build`` builds the staging models and marts on the edited raw tables and the
loads sync the difference. No edited copy of the seeds is written anywhere: the change lives only in the
warehouse's raw tables, until the next plain ``make demo`` reloads them from the committed CSVs (and so
syncs HubSpot back: the old name, the old stage, the deal created again as a new record; the sandbox
lets the stage move back, a real portal would not). That keeps ``make demo`` what it always is, the
committed data, and ``make demo-changes`` a change applied on top of it, the same change each time: run
twice in a row, the second run finds nothing more to sync. (Edited copies of the CSVs in ``.demo/`` were
the other way: dbt reads seeds only from the project's ``seed-paths``, so that needs a second seed
directory switched in ``dbt_project.yml``, and edited files that outlive the run; editing the freshly
seeded tables keeps the dbt project as it is and the change readable as five SQL statements.)

Expected outcome after a ``make demo`` (the constants below name the rows, for the test): companies 1
updated, 299 unchanged; contacts 2 updated, 2,988 unchanged (the 10 invalid emails fail again); deals
399 unchanged, 1 archived; nothing created. Under ``upsert`` the moved contact keeps its old company's
association besides the new one (only ``mirror`` removes dropped associations).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

RAW_SEEDS: tuple[str, ...] = ("raw_companies", "raw_contacts", "raw_deals", "raw_deal_contacts")
"""The dbt seeds (the raw tables): their assets are left out of the job's run after the change."""

RENAMED_COMPANY_KEY = "CO-00007"
NEW_COMPANY_NAME = "Silver Foods Group"
STAGED_CONTACT_KEY = "CT-00006"
NEW_LIFECYCLE_STAGE = "customer"
MOVED_CONTACT_KEY = "CT-00009"
OLD_COMPANY_KEY = "CO-00076"
NEW_COMPANY_KEY = "CO-00012"
DELETED_DEAL_KEY = "DL-00005"


@dataclass(frozen=True)
class RawEdit:
    """One edit of a raw table: what it means, its SQL, and how many rows it must change."""

    description: str
    sql: str
    rows: int


EDITS: tuple[RawEdit, ...] = (
    RawEdit(
        f"company {RENAMED_COMPANY_KEY} renamed to {NEW_COMPANY_NAME!r}",
        f"update raw_companies set company_name = '{NEW_COMPANY_NAME}' where id = '7'",
        1,
    ),
    RawEdit(
        f"contact {STAGED_CONTACT_KEY}'s lifecycle stage: lead → {NEW_LIFECYCLE_STAGE}",
        "update raw_contacts set lifecycle_stage = 'Customer' where id = '6' and lifecycle_stage = 'Lead'",
        1,
    ),
    RawEdit(
        f"contact {MOVED_CONTACT_KEY} moved from company {OLD_COMPANY_KEY} to {NEW_COMPANY_KEY}",
        "update raw_contacts set company_id = '12' where id = '9' and company_id = '76'",
        1,
    ),
    RawEdit(f"deal {DELETED_DEAL_KEY} deleted", "delete from raw_deals where id = '5'", 1),
    RawEdit(
        f"deal {DELETED_DEAL_KEY}'s contact links deleted",
        "delete from raw_deal_contacts where deal_id = '5'",
        3,
    ),
)
"""The change, in order; each must touch exactly ``rows`` rows of the freshly seeded tables."""


class ChangeError(RuntimeError):
    """An edit did not find the rows it expects (the seeds were regenerated differently)."""


def reseed() -> None:
    """``dbt seed``: reload the raw tables from the committed CSVs (into the warehouse's DuckDB file)."""
    from hubspot_example.warehouse import DBT_PROJECT_DIR, dbt_resource

    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seed-", dir=target) as scratch:
        dbt_resource().cli(["seed", "--quiet"], target_path=Path(scratch)).wait()


def apply_edits(database: Path) -> list[str]:
    """Apply :data:`EDITS` to the raw tables of ``database`` in one transaction; return their descriptions.

    Raises:
        ChangeError: an edit changed another number of rows than it expects (nothing is kept then).

    """
    with duckdb.connect(str(database)) as con:
        con.execute("begin transaction")
        for edit in EDITS:
            found = con.execute(edit.sql).fetchone()
            changed = int(found[0]) if found else 0
            if changed != edit.rows:
                con.execute("rollback")
                raise ChangeError(f"{edit.description}: {changed} rows changed, expected {edit.rows}")
        con.execute("commit")
    return [edit.description for edit in EDITS]


def reseed_and_change() -> list[str]:
    """Reload the committed seeds, then apply the change (:func:`apply_edits`); return what changed."""
    from hubspot_example.warehouse import duckdb_path

    reseed()
    return apply_edits(duckdb_path())
