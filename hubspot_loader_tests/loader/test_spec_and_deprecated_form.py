"""``load_dataframe(df, spec, ...)`` and the deprecated keyword form load the same rows (issue #12).

The old form ``load_dataframe(df, object_type, **options)`` still works for one release, with a
``DeprecationWarning`` naming the new form; both go through the real path into the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from hubspot_loader.core.model import CREATED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger


def _frame(prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_key": [f"{prefix}-{i}" for i in range(5)],
            "email": [f"{prefix}.{i}@example.com" for i in range(5)],
            "firstname": ["Ana", None, "José", "Zoë", "Li"],
        }
    )


def test_new_and_old_forms_create_the_same_records(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    client = client_for(sandbox)
    spec = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", unique_property="email")
    new = load_dataframe(_frame("new"), spec, client=client)
    with pytest.warns(DeprecationWarning, match=r"load_dataframe\(df, HubSpotLoadSpec"):
        old = load_dataframe(
            _frame("old"), "contacts", client=client, key_column="contact_key", unique_property="email"
        )
    for result, prefix in ((new, "new"), (old, "old")):
        assert [r.status for r in result.rows] == [CREATED] * 5
        assert sorted(result.id_map) == [f"{prefix}-{i}" for i in range(5)]
        for key, record_id in result.id_map.items():
            stored = sandbox.get_object("contacts", record_id)
            assert stored is not None
            assert stored["properties"]["email"] == f"{key.replace('-', '.')}@example.com"
    assert new.preflight is not None  # the spec's default preflight ran (quarantine)
    assert old.preflight is None  # the old form keeps its default, preflight off


def test_the_run_carries_the_ledger_options(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], tmp_path: object
) -> None:
    client = client_for(sandbox)
    spec = HubSpotLoadSpec(object_type="contacts", key_column="contact_key")
    ledger = SQLiteLedger(f"{tmp_path}/state.sqlite")
    try:
        run = LoadRun(run_id="run-1", portal="portal-a", partition="2026-12-01")
        first = load_dataframe(_frame("led"), spec, client=client, ledger=ledger, run=run)
        again = load_dataframe(
            _frame("led"), spec, client=client, ledger=ledger, run=LoadRun(portal="portal-a")
        )
        assert first.rows_created == 5 and again.rows_created == 0 and again.rows_skipped == 5
        assert ledger.id_map("portal-a", "contacts") == first.id_map
    finally:
        ledger.close()


def test_old_options_beside_a_spec_or_unknown_ones_are_refused(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    client = client_for(sandbox)
    spec = HubSpotLoadSpec(object_type="contacts")
    with pytest.raises(TypeError, match="beside a spec"):
        load_dataframe(_frame("x"), spec, client=client, key_column="contact_key")
    with pytest.raises(TypeError, match="unexpected keyword argument 'key_colum'"):
        load_dataframe(_frame("x"), "contacts", client=client, key_colum="contact_key")
    assert sandbox.counts()["contacts"] == 0
