"""Definitions that ``test_production_runs`` runs with the real ``dagster`` CLI, each run in its own process.

Everything a run shares with the others comes from the environment, as in a production deployment:

- ``HUBSPOT_ACCESS_TOKEN`` / ``HUBSPOT_BASE_URL``: the portal (a sandbox on 127.0.0.1);
- ``HUBSPOT_LOADER_TEST_STATE_URL``: the ledger's database (``HubSpotResource(state_url=dg.EnvVar(...))``);
- ``HUBSPOT_LOADER_TEST_IO_DIR``: the filesystem IO manager's storage (``base_dir``);
- ``HUBSPOT_LOADER_TEST_BARRIER_DIR`` (optional): the partitioned upstream asset waits there until
  :data:`BARRIER_PARTIES` partitions have reached it, so the partitions' load steps run at the same time.

Two groups of assets:

- ``partition_company_rows`` → ``hubspot/partition_companies``: static partitions ``p1`` … ``p4``, each of
  :data:`OWN_ROWS` companies of its own plus the :data:`SHARED_ROWS` companies every partition has;
- ``account_rows`` → ``hubspot/companies``, ``customer_rows`` → ``hubspot/contacts`` (contacts associate to
  companies by warehouse key, ``keys_from="hubspot/companies"``).
"""

# No ``from __future__ import annotations``: Dagster checks the ``context`` annotation's type object.

import os
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from hubspot_loader import HubSpotLoadSpec, HubSpotResource
from hubspot_loader.core.spec import AssociationColumn
from hubspot_loader.dagster import DagsterHubSpotTranslator, HubSpotLoad, build_hubspot_load_assets

STATE_URL_ENV = "HUBSPOT_LOADER_TEST_STATE_URL"
IO_DIR_ENV = "HUBSPOT_LOADER_TEST_IO_DIR"
BARRIER_DIR_ENV = "HUBSPOT_LOADER_TEST_BARRIER_DIR"

PARTITIONS = ("p1", "p2", "p3", "p4")
OWN_ROWS = 20
SHARED_ROWS = 6
BARRIER_PARTIES = len(PARTITIONS)
BARRIER_TIMEOUT_S = 150.0  # a hang guard: the other runs' processes start late on a loaded machine
BATCH_SIZE = 10  # several batches per partition, so leases are taken batch by batch

ACCOUNTS = pd.DataFrame({"account_id": ["A-1", "A-2", "A-3"], "name": ["Acme", "Globex", "Initech"]})
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C-1", "C-2", "C-3", "C-4"],
        "email": ["ann@acme.example", "bo@globex.example", "cy@initech.example", "di@example.com"],
        "account_id": ["A-1", "A-2", "A-1", None],
    }
)
EXPECTED_LINKS = {
    "ann@acme.example": {"Acme"},
    "bo@globex.example": {"Globex"},
    "cy@initech.example": {"Acme"},
    "di@example.com": set(),
}
"""Each contact's email → the names of the companies the contacts load associates it with."""

STATIC = dg.StaticPartitionsDefinition(list(PARTITIONS))


def partition_keys(partition: str) -> list[str]:
    """The company keys of one partition: its own ones, then the ones every partition has."""
    return [f"{partition}-{i}" for i in range(OWN_ROWS)] + [f"shared-{i}" for i in range(SHARED_ROWS)]


def _wait_at_barrier(partition: str) -> None:
    """Mark ``partition`` as arrived in the barrier directory, then wait until every partition has."""
    directory = os.environ.get(BARRIER_DIR_ENV)
    if not directory:
        return
    barrier = Path(directory)
    barrier.mkdir(parents=True, exist_ok=True)
    (barrier / partition).touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while len(list(barrier.iterdir())) < BARRIER_PARTIES:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sorted(p.name for p in barrier.iterdir())} reached the barrier")
        time.sleep(0.05)  # polling the barrier's state (deadline above), not a wait for an effect


@dg.asset(partitions_def=STATIC)
def partition_company_rows(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """The companies of one partition (the shared ones in every partition)."""
    keys = partition_keys(context.partition_key)
    _wait_at_barrier(context.partition_key)
    return pd.DataFrame({"company_key": keys, "name": keys})


@dg.asset
def account_rows() -> pd.DataFrame:
    """The companies the contacts associate to."""
    return ACCOUNTS


LATE_CUSTOMERS_ENV = "HUBSPOT_LOADER_TEST_LATE_CUSTOMERS"
"""Set (to anything): ``customer_rows`` also has :data:`LATE_CUSTOMERS`, contacts added after a first run."""
LATE_CUSTOMERS = pd.DataFrame({"customer_id": ["C-5"], "email": ["ed@globex.example"], "account_id": ["A-2"]})
EXPECTED_LATE_LINKS = {**EXPECTED_LINKS, "ed@globex.example": {"Globex"}}


@dg.asset
def customer_rows() -> pd.DataFrame:
    """The contacts, each with the warehouse key of its company (or none)."""
    if os.environ.get(LATE_CUSTOMERS_ENV):
        return pd.concat([CUSTOMERS, LATE_CUSTOMERS], ignore_index=True)
    return CUSTOMERS


TRANSLATOR = DagsterHubSpotTranslator(key_prefix="hubspot")

[partition_companies] = build_hubspot_load_assets(
    [
        HubSpotLoad(
            name="partition_companies",
            source="partition_company_rows",
            spec=HubSpotLoadSpec(
                object_type="companies", key_column="company_key", properties={"name": "name"}
            ),
        )
    ],
    translator=TRANSLATOR,
    partitions_def=STATIC,
)

companies_and_contacts = build_hubspot_load_assets(
    [
        HubSpotLoad(
            name="companies",
            source="account_rows",
            spec=HubSpotLoadSpec(
                object_type="companies", key_column="account_id", properties={"name": "name"}
            ),
        ),
        HubSpotLoad(
            name="contacts",
            source="customer_rows",
            spec=HubSpotLoadSpec(
                object_type="contacts",
                key_column="customer_id",
                properties={"email": "email"},
                associations=[AssociationColumn("account_id", "companies", keys_from="hubspot/companies")],
            ),
        ),
    ],
    translator=TRANSLATOR,
)

defs = dg.Definitions(
    assets=[
        partition_company_rows,
        partition_companies,
        account_rows,
        customer_rows,
        *companies_and_contacts,
    ],
    resources={
        "hubspot": HubSpotResource(state_url=dg.EnvVar(STATE_URL_ENV), batch_size=BATCH_SIZE),
        "io_manager": dg.FilesystemIOManager(base_dir=dg.EnvVar(IO_DIR_ENV)),
    },
    executor=dg.multi_or_in_process_executor,  # multiprocess unless a run's config says in_process
)
