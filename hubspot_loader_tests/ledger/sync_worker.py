"""A sync-mode load in a child process, for the SIGKILL tests (``test_crash_resume_sync.py``).

``python -m hubspot_loader_tests.ledger.sync_worker BASE_URL TOKEN LEDGER FRAME SPEC RUN_ID BATCH IN_FLIGHT``
loads the pickled frame ``FRAME`` with the spec ``SPEC`` (JSON of :meth:`HubSpotLoadSpec.from_mapping`) into
the ledger file ``LEDGER`` under portal :data:`~hubspot_loader_tests.ledger.conftest.PORTAL` and prints
``finished`` when the load returned (a killed child never prints it).
"""

from __future__ import annotations

import json
import sys

import pandas as pd

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.state.ledger import SQLiteLedger
from hubspot_loader_tests.ledger.conftest import KILLED_LEASE_SECONDS, PORTAL


def main(argv: list[str]) -> None:
    base_url, token, ledger_path, frame_path, spec, run_id, batch_size, in_flight = argv
    settings = ClientSettings(max_in_flight=int(in_flight), batch_size=int(batch_size))
    client = HubSpotClient(token, base_url=base_url, settings=settings)
    ledger = SQLiteLedger(ledger_path)
    result = load_dataframe(
        pd.read_pickle(frame_path),
        HubSpotLoadSpec.from_mapping(json.loads(spec)),
        client=client,
        ledger=ledger,
        run=LoadRun(portal=PORTAL, run_id=run_id, lease_seconds=KILLED_LEASE_SECONDS),
    )
    print("finished", result.rows_total, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
