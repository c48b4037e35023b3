"""The access token never appears in logs, metadata, events, exceptions, reprs or the ledger file."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import HubSpotLoadSpec, HubSpotResource, build_hubspot_load_asset
from hubspot_loader.dagster import HubSpotLoad
from hubspot_loader.sandbox import FaultConfig, SandboxHandle, TokenConfig

from .conftest import contacts_frame


def test_a_full_run_never_reveals_the_token(
    sandbox_factory: object,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = f"pat-na1-{uuid.uuid4()}"
    wrong = f"pat-na1-{uuid.uuid4()}"
    faults = FaultConfig(error_rate=0.2, drop_after_commit_rate=0.2, seed=11)
    sandbox: SandboxHandle = sandbox_factory(tokens=(TokenConfig(token),), faults=faults)  # type: ignore[operator]
    frame = contacts_frame(300)
    frame.loc[[3, 150], "email"] = ["bad-email", "also@@bad"]

    @dg.asset
    def warehouse_contacts() -> pd.DataFrame:
        return frame

    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="hubspot_contacts",
            source="warehouse_contacts",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="contact_key"),
        )
    )
    state = tmp_path / "state" / "ledger.sqlite"
    instance = dg.DagsterInstance.ephemeral()
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def resource(tok: str) -> HubSpotResource:
        res = HubSpotResource(
            access_token=tok, base_url=sandbox.base_url, state_path=str(state), timeout_s=5, batch_size=20
        )
        texts.extend([repr(res), str(res)])
        return res

    ok = dg.materialize([warehouse_contacts, load], resources={"hubspot": resource(token)}, instance=instance)
    assert ok.success
    metadata = ok.asset_materializations_for_node("hubspot_contacts")[0].metadata
    assert metadata["hubspot/rows_failed"].value == 2 and metadata["hubspot/retries"].value > 0
    bad = dg.materialize(
        [warehouse_contacts, load],
        resources={"hubspot": resource(wrong)},
        instance=instance,
        raise_on_error=False,
    )
    assert not bad.success

    for run in (ok, bad):
        texts.extend(str(event) for event in run.all_events)
        texts.extend(repr(record) for record in instance.all_logs(run.run_id))
    texts.append(repr(metadata))
    texts.append(caplog.text)
    captured = capfd.readouterr()
    texts.extend([captured.out, captured.err])
    failure = "\n".join(t for t in texts if "401" in t or "INVALID_AUTHENTICATION" in t)
    assert failure, "the failed run's events should mention the authentication failure"

    blob = "\n".join(texts)
    for secret in (token, wrong):
        assert secret not in blob
        assert secret.split("-", 2)[2] not in blob  # not even the random part
    files = [p for p in state.parent.iterdir() if p.is_file()]
    assert any(p.name == "ledger.sqlite" for p in files)
    for path in files:  # the database, its WAL and shared-memory files
        data = path.read_bytes()
        assert token.encode() not in data and wrong.encode() not in data
