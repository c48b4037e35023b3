"""The Dagster shell through real ``materialize()`` runs against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest

from hubspot_loader import (
    ROWS_ACCEPTED_CHECK,
    AssociationColumn,
    HubSpotLoadSpec,
    HubSpotResource,
    build_hubspot_load_asset,
)
from hubspot_loader.dagster import DagsterHubSpotTranslator, HubSpotLoad
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.loader.conftest import RecordingSession

COMPANIES = pd.DataFrame(
    {"company_key": ["CO-1", "CO-2", "CO-3"], "name": ["Acme", "Globex", "Initech"]}
)
CONTACTS = pd.DataFrame(
    {
        "contact_key": ["CT-1", "CT-2", "CT-3", "CT-4"],
        "email": ["a@example.com", "b@example.com", "not-an-email", "d@example.com"],
        "company_key": ["CO-1", None, "CO-3", "CO-2"],
    }
)


@dg.asset
def company_rows() -> pd.DataFrame:
    return COMPANIES


@dg.asset
def contact_rows() -> pd.DataFrame:
    return CONTACTS


def _resource(hub: SandboxHandle, **kwargs: Any) -> HubSpotResource:
    # No sync state: each test starts from an empty sandbox (the ledger has its own tests).
    return HubSpotResource(access_token=hub.token, base_url=hub.base_url, state_path="", **kwargs)


def _loads(**contact_kwargs: Any) -> list[dg.AssetsDefinition]:
    companies = build_hubspot_load_asset(
        HubSpotLoad(
            name="companies",
            source="company_rows",
            spec=HubSpotLoadSpec(object_type="companies", key_column="company_key"),
        ),
        translator=DagsterHubSpotTranslator(key_prefix="hubspot"),
    )
    contacts = build_hubspot_load_asset(
        HubSpotLoad(
            name="contacts",
            source="contact_rows",
            spec=HubSpotLoadSpec(
                object_type="contacts",
                key_column="contact_key",
                associations=[AssociationColumn("company_key", "companies", keys_from="hubspot/companies")],
                unique_property="email",
                **contact_kwargs,
            ),
        ),
        translator=DagsterHubSpotTranslator(key_prefix="hubspot"),
    )
    return [companies, contacts]


def _metadata(result: dg.ExecuteInProcessResult, name: str) -> dict[str, Any]:
    [materialization] = [
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key == dg.AssetKey(["hubspot", name])
    ]
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def _step_failure(result: dg.ExecuteInProcessResult) -> str:
    """Return the message of the run's one failed step."""
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.event_specific_data.error.message  # type: ignore[union-attr,no-any-return]


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [evaluation] = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.asset_key == dg.AssetKey(["hubspot", name])
    ]
    return evaluation


def test_materialize_loads_with_id_map_associations_and_metadata(sandbox: SandboxHandle) -> None:
    result = dg.materialize(
        [company_rows, contact_rows, *_loads()], resources={"hubspot": _resource(sandbox)}
    )
    assert result.success

    companies_map = result.output_for_node("hubspot__companies")
    contacts_map = result.output_for_node("hubspot__contacts")
    assert set(companies_map) == {"CO-1", "CO-2", "CO-3"}
    assert set(contacts_map) == {"CT-1", "CT-2", "CT-4"}

    # Contacts are associated with their company by warehouse key, through the companies id map.
    for contact_key, company_key in [("CT-1", "CO-1"), ("CT-4", "CO-2")]:
        obj = sandbox.get_object("contacts", contacts_map[contact_key])
        assert obj is not None
        targets = {str(a.get("toObjectId") or a.get("id")) for a in obj["associations"]}
        assert targets == {companies_map[company_key]}
    lonely = sandbox.get_object("contacts", contacts_map["CT-2"])
    assert lonely is not None and lonely["associations"] == []

    md = _metadata(result, "contacts")
    assert md["dagster/row_count"] == 4
    assert md["hubspot/rows_created"] == 3 and md["hubspot/rows_failed"] == 1
    assert md["hubspot/status"] == "COMPLETE"
    assert md["hubspot/batches"] == 1 and md["hubspot/requests"] >= 1
    started = datetime.fromtimestamp(md["hubspot/started_at"])
    completed = datetime.fromtimestamp(md["hubspot/completed_at"])
    assert started <= completed
    # Preflight (quarantine, the asset's default) held the invalid email back: 3 rows were sent.
    batches = md["hubspot/batches_table"]
    assert [r.data["rows"] for r in batches.records] == [3]
    failed = md["hubspot/failed_rows"]
    assert [(r.data["key"], r.data["category"], r.data["code"]) for r in failed.records] == [
        ("CT-3", "PREFLIGHT", "INVALID_EMAIL")
    ]
    assert sandbox.counters()["created"]["contacts"] == 3  # (preflight's record reads create nothing)
    # What preflight spent is in the metadata: every request it sent went to the sandbox and none wrote.
    companies_md = _metadata(result, "companies")
    spent = md["hubspot/preflight"]["requests"] + companies_md["hubspot/preflight"]["requests"]
    writes = sandbox.counters()["write_requests"]
    assert md["hubspot/preflight"]["requests"] >= 1 and md["hubspot/preflight"]["unchecked_rows"] == 0
    assert sandbox.counters()["requests"] == spent + writes + 1  # + the run's one account-info read
    assert md["hubspot/preflight"]["seconds"] >= 0

    # Row failures: the materialization succeeds, the check fails with the count and the table.
    assert _check(result, "companies").passed
    check = _check(result, "contacts")
    assert check.check_name == ROWS_ACCEPTED_CHECK and not check.passed
    assert check.metadata["rows_failed"].value == 1
    assert "CT-3" in check.metadata["failed_rows"].value


def test_threshold_fails_the_step(sandbox: SandboxHandle) -> None:
    result = dg.materialize(
        [company_rows, contact_rows, *_loads(failure_threshold=0.1)],
        resources={"hubspot": _resource(sandbox)},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "hubspot__contacts"
    assert "1 of 4 contacts rows failed" in failure.event_specific_data.error.message  # type: ignore[union-attr]


def test_schema_failure_fails_without_sending(sandbox: SandboxHandle) -> None:
    schema = pa.DataFrameSchema(
        {"email": pa.Column(str, pa.Check.str_matches(r"^[^@\s]+@[^@\s]+\.[a-z]+$"))}
    )
    result = dg.materialize(
        [contact_rows, build_hubspot_load_asset(HubSpotLoad(
            name="contacts", source="contact_rows",
            spec=HubSpotLoadSpec(
                object_type="contacts", key_column="contact_key", schema=schema, properties=["email"]
            ),
        ))],
        resources={"hubspot": _resource(sandbox)},
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    message = _step_failure(result)
    assert "nothing was sent" in message
    assert "row key 'CT-3' (position 2), column 'email', check str_matches" in message
    assert sandbox.counters()["write_requests"] == 0


def test_token_stays_out_of_repr_logs_and_metadata(
    sandbox_factory: Callable[..., SandboxHandle], capsys: pytest.CaptureFixture[str]
) -> None:
    from hubspot_loader.sandbox import SandboxConfig, TokenConfig

    secret = "pat-na1-11111111-2222-3333-4444-555555555555"
    hub = sandbox_factory(config=SandboxConfig(tokens=(TokenConfig(secret),)))
    resource = HubSpotResource(access_token=secret, base_url=hub.base_url, state_path="")
    assert secret not in repr(resource) and secret not in str(resource)
    assert secret not in repr(resource.get_client())
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [company_rows, contact_rows, *_loads()], resources={"hubspot": resource}, instance=instance
    )
    assert result.success
    records = instance.get_records_for_run(result.run_id).records
    text = "\n".join(str(r.event_log_entry) for r in records)
    assert "hubspot/rows_created" in text  # the metadata is in there ...
    assert secret not in text  # ... and the token is not
    captured = capsys.readouterr()
    assert secret not in captured.out and secret not in captured.err


def test_preflight_off_lets_hubspot_judge(sandbox: SandboxHandle) -> None:
    result = dg.materialize(
        [company_rows, contact_rows, *_loads(preflight="off")], resources={"hubspot": _resource(sandbox)}
    )
    md = _metadata(result, "contacts")
    assert [r.data["rows"] for r in md["hubspot/batches_table"].records] == [4]
    failed = md["hubspot/failed_rows"]
    assert [(r.data["key"], r.data["category"], r.data["code"]) for r in failed.records] == [
        ("CT-3", "VALIDATION_ERROR", "INVALID_EMAIL")
    ]


def test_preflight_block_fails_the_step_and_sends_nothing(sandbox: SandboxHandle) -> None:
    result = dg.materialize(
        [contact_rows, build_hubspot_load_asset(HubSpotLoad(
            name="contacts", source="contact_rows",
            spec=HubSpotLoadSpec(
                object_type="contacts", key_column="contact_key", properties=["email"], preflight="block"
            ),
        ))],
        resources={"hubspot": _resource(sandbox)},
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    message = _step_failure(result)
    assert "preflight predicts HubSpot would reject" in message
    assert "CT-3" in message and "INVALID_EMAIL" in message
    assert sandbox.counters()["write_requests"] == 0


def test_dry_run_resource_sends_nothing_and_shows_payloads(sandbox: SandboxHandle) -> None:
    result = dg.materialize(
        [company_rows, build_hubspot_load_asset(
            HubSpotLoad(
                name="companies", source="company_rows",
                spec=HubSpotLoadSpec(object_type="companies", key_column="company_key"),
            ),
            translator=DagsterHubSpotTranslator(key_prefix="hubspot"),
        )],
        resources={"hubspot": _resource(sandbox, dry_run=True)},
    )  # fmt: skip
    assert result.success
    md = _metadata(result, "companies")
    assert md["hubspot/dry_run"] is True
    assert md["hubspot/payload_preview"][0] == {
        "objectWriteTraceId": "CO-1",
        "properties": {"name": "Acme"},
    }
    assert md["hubspot/rows_created"] == 0
    assert sandbox.counters()["write_requests"] == 0


_RECORDED: list[dict[str, Any]] = []


class _RecordingResource(HubSpotResource):
    """The real resource, whose client's session keeps every batch-create answer body."""

    def get_client(self) -> HubSpotClient:
        session = RecordingSession()
        session.batch_bodies = _RECORDED
        return HubSpotClient(
            self.access_token, base_url=self.base_url, settings=ClientSettings(batch_size=2), session=session
        )


def test_metadata_timestamps_equal_hubspots_answers(sandbox: SandboxHandle) -> None:
    _RECORDED.clear()
    resource = _RecordingResource(access_token=sandbox.token, base_url=sandbox.base_url, state_path="")
    result = dg.materialize([company_rows, _loads()[0]], resources={"hubspot": resource})
    assert result.success and len(_RECORDED) == 2  # 3 companies in batches of 2

    def instants(key: str) -> list[float]:
        return [datetime.fromisoformat(b[key].replace("Z", "+00:00")).timestamp() for b in _RECORDED]

    md = _metadata(result, "companies")
    assert md["hubspot/requested_at"] == pytest.approx(min(instants("requestedAt")), abs=1e-3)
    assert md["hubspot/started_at"] == pytest.approx(min(instants("startedAt")), abs=1e-3)
    assert md["hubspot/completed_at"] == pytest.approx(max(instants("completedAt")), abs=1e-3)
    assert md["hubspot/requested_at"] <= md["hubspot/started_at"] <= md["hubspot/completed_at"]
    def parsed(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    pairs = [("requested_at", "requestedAt"), ("started_at", "startedAt"), ("completed_at", "completedAt")]
    for key, answer_key in pairs:
        raw = sorted(parsed(b[answer_key]) for b in _RECORDED)
        assert sorted(parsed(b[key]) for b in md["hubspot/batch_details"]) == raw, key
        if key != "requested_at":  # the table of batch times holds HubSpot's processing times
            assert sorted(parsed(r.data[key]) for r in md["hubspot/batch_times"].records) == raw, key


def test_load_assets_run_in_the_hubspot_pool() -> None:
    [companies, contacts] = _loads()
    assert companies.op.pool == contacts.op.pool == "hubspot"
    custom = build_hubspot_load_asset(
        HubSpotLoad(
            name="x",
            source="contact_rows",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="contact_key"),
        ),
        pool="portal_b",
    )
    assert custom.op.pool == "portal_b"


def test_association_columns_sharing_a_parent_share_one_id_map_input() -> None:
    asset = build_hubspot_load_asset(
        HubSpotLoad(
            name="deals",
            source="deal_rows",
            spec=HubSpotLoadSpec(
                object_type="deals",
                key_column="deal_key",
                associations=[
                    AssociationColumn("company_key", "companies", keys_from="hubspot/companies"),
                    AssociationColumn("partner_key", "companies", keys_from="hubspot/companies", type_id=341),
                    AssociationColumn("contact_keys", "contacts", keys_from="hubspot/contacts"),
                ],
            ),
        )
    )
    parents = {k for name, k in asset.keys_by_input_name.items() if name.startswith("id_map_")}
    assert parents == {dg.AssetKey(["hubspot", "companies"]), dg.AssetKey(["hubspot", "contacts"])}
    assert len([n for n in asset.keys_by_input_name if n.startswith("id_map_")]) == 2


def test_a_preflight_that_could_not_run_is_not_called_a_prediction() -> None:
    # In block mode a preflight that fails on the frame blocks with PREFLIGHT_FAILED (preflight_step);
    # the step then says so, not that HubSpot would reject the load.
    from hubspot_loader.core.preflight import BlockingProblem, PreflightError, PreflightReport
    from hubspot_loader.dagster.assets import _step_failure as step_failure
    from hubspot_loader.preflight_step import PREFLIGHT_FAILED

    reason = "preflight could not check this frame (TypeError: odd); nothing was sent"
    failed = PreflightReport("contacts", rows_total=3, blocking=[BlockingProblem(PREFLIGHT_FAILED, reason)])
    failure, _ = step_failure(PreflightError(failed), rows=3, table_rows=10)
    assert failure.description is not None
    assert failure.description.startswith("preflight could not check this frame (preflight=block); nothing")
    assert "predicts" not in failure.description and reason in failure.description
    predicted = PreflightReport(
        "contacts", rows_total=3, blocking=[BlockingProblem("PROPERTY_DOESNT_EXIST", "x")]
    )
    failure, _ = step_failure(PreflightError(predicted), rows=3, table_rows=10)
    assert failure.description is not None
    assert failure.description.startswith(
        "preflight predicts HubSpot would reject this load; nothing was sent"
    )
