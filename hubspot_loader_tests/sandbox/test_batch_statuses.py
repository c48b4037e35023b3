"""Batch-create answers whose status is CANCELED, PENDING or PROCESSING (issue #17), over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import BatchInputSimplePublicObjectBatchInputForCreate

from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.sandbox.cli import build_parser, config_from_args
from hubspot_loader.sandbox.statuses import StatusInjector
from hubspot_loader_tests.sandbox.helpers import ISO_Z, Api, Factory, contact


def four(tag: str) -> list[dict[str, Any]]:
    return [contact(f"{tag}{i}@example.com", trace=f"{tag}-t{i}") for i in range(4)]


def read_by_email(api: Api, emails: list[str]) -> dict[str, str]:
    resp = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {"idProperty": "email", "inputs": [{"id": e} for e in emails], "properties": ["email"]},
    )
    assert resp.status_code in (200, 207), resp.text
    return {r["properties"]["email"]: r["id"] for r in resp.json()["results"]}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_canceled_creates_only_the_listed_inputs(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(status_sequence=("CANCELED",), incomplete_listed_share=0.5))
    api = Api(sb)
    resp = api.create("contacts", four("cx"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "CANCELED"
    assert ISO_Z.match(body["startedAt"]) and ISO_Z.match(body["completedAt"])
    assert when(body["completedAt"]) >= when(body["startedAt"])
    # the first half of the inputs, in input order, is listed and created; the rest does not exist
    assert sorted(r["objectWriteTraceId"] for r in body["results"]) == ["cx-t0", "cx-t1"]
    stored = sorted(o["properties"]["email"] for o in sb.objects("contacts"))
    assert stored == ["cx0@example.com", "cx1@example.com"]
    assert read_by_email(api, [f"cx{i}@example.com" for i in range(4)]).keys() == set(stored)
    assert sb.counters()["faults"] == {"answer_CANCELED": 1} and sb.counters()["pending_objects"] == 0
    # the sequence is spent: a resend of the others is an ordinary COMPLETE create
    again = api.create("contacts", four("cx")[2:])
    assert again.status_code == 201 and again.json()["status"] == "COMPLETE"
    assert len(sb.objects("contacts")) == 4


def test_canceled_with_nothing_listed_creates_nothing(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(status_sequence=("CANCELED",), incomplete_listed_share=0.0))
    body = Api(sb).create("contacts", four("cn")).json()
    assert body["status"] == "CANCELED" and body["results"] == []
    assert sb.objects("contacts") == []


@pytest.mark.parametrize("status", ["PENDING", "PROCESSING"])
def test_pending_objects_become_readable_after_n_more_requests(sandbox_factory: Factory, status: str) -> None:
    faults = FaultConfig(
        status_sequence=(status,), incomplete_listed_share=0.5, pending_reveal_after_requests=3
    )
    sb = sandbox_factory(faults=faults)
    api = Api(sb)
    body = api.create("contacts", four("p")).json()
    assert body["status"] == status and ISO_Z.match(body["completedAt"])
    listed = {r["properties"]["email"]: r["id"] for r in body["results"]}
    assert sorted(listed) == ["p0@example.com", "p1@example.com"]
    emails = [f"p{i}@example.com" for i in range(4)]
    # all four are stored (the inspection API shows the unlisted ones as pending) ...
    inspected = {o["properties"]["email"]: o for o in sb.objects("contacts")}
    assert sorted(inspected) == emails
    assert [e for e, o in inspected.items() if o.get("pending")] == emails[2:]
    assert sb.counters()["pending_objects"] == 2
    # ... but requests 1 and 2 after the answer do not see the unlisted ones: reads, search, get
    assert read_by_email(api, emails) == listed
    search = api.post(
        "/crm/v3/objects/contacts/search",
        {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": emails[2]}]}]},
    )
    assert search.json()["total"] == 0
    # request 3 sees them, with the ids they were given when the batch was answered
    found = read_by_email(api, emails)
    assert found == {e: inspected[e]["id"] for e in emails}
    assert sb.counters()["pending_objects"] == 0
    assert sb.counters()["faults"] == {f"answer_{status}": 1}


def test_a_pending_objects_unique_value_is_taken_at_once(sandbox_factory: Factory) -> None:
    faults = FaultConfig(
        status_sequence=("PENDING",), incomplete_listed_share=0.0, pending_reveal_after_requests=100
    )
    sb = sandbox_factory(faults=faults)
    api = Api(sb)
    assert api.create("contacts", [contact("u@example.com")]).json()["results"] == []
    (hidden,) = sb.objects("contacts")
    resent = api.create("contacts", [contact("u@example.com")])
    assert resent.status_code == 409
    assert resent.json()["message"] == f"Contact already exists. Existing ID: {hidden['id']}"
    assert read_by_email(api, ["u@example.com"]) == {}  # still not readable
    assert len(sb.objects("contacts")) == 1


def test_reveal_by_time_when_a_delay_is_set(sandbox_factory: Factory) -> None:
    # a delay of 0 ms has passed by the next read; one of 10 minutes has not, whatever the requests
    sb = sandbox_factory()
    api = Api(sb)
    sb.set_faults(
        FaultConfig(
            status_sequence=("PROCESSING",),
            incomplete_listed_share=0.0,
            pending_reveal_after_requests=1000,
            pending_reveal_after_ms=0.0,
        )
    )
    api.create("contacts", [contact("now@example.com")])
    assert read_by_email(api, ["now@example.com"]).keys() == {"now@example.com"}
    sb.set_faults(
        FaultConfig(
            status_sequence=("PROCESSING",),
            incomplete_listed_share=0.0,
            pending_reveal_after_requests=1000,
            pending_reveal_after_ms=600_000.0,
        )
    )
    api.create("contacts", [contact("later@example.com")])
    for _ in range(3):
        assert read_by_email(api, ["later@example.com"]) == {}
    assert sb.counters()["pending_objects"] == 1


def test_completed_at_can_be_omitted_from_pending_answers_only(sandbox_factory: Factory) -> None:
    faults = FaultConfig(status_sequence=("PENDING", "CANCELED"), omit_completed_at=True)
    api = Api(sandbox_factory(faults=faults))
    pending = api.create("contacts", four("oa")).json()
    assert pending["status"] == "PENDING" and "completedAt" not in pending and "startedAt" in pending
    canceled = api.create("contacts", four("ob")).json()
    assert canceled["status"] == "CANCELED" and "completedAt" in canceled


def test_status_sequence_then_seeded_rates(sandbox_factory: Factory) -> None:
    faults = FaultConfig(status_sequence=("PENDING", "COMPLETE", "CANCELED"), incomplete_listed_share=1.0)
    api = Api(sandbox_factory(faults=faults))
    statuses = [api.create("contacts", [contact(f"s{i}@example.com")]).json()["status"] for i in range(5)]
    assert statuses == ["PENDING", "COMPLETE", "CANCELED", "COMPLETE", "COMPLETE"]

    rates = FaultConfig(canceled_rate=0.2, pending_rate=0.2, processing_rate=0.2, seed=9)
    first, second = StatusInjector(rates), StatusInjector(rates)
    drawn = [first.draw() for _ in range(200)]
    assert drawn == [second.draw() for _ in range(200)]  # seeded: the same on every run
    assert {s: drawn.count(s) > 20 for s in ("CANCELED", "PENDING", "PROCESSING", "COMPLETE")} == {
        "CANCELED": True,
        "PENDING": True,
        "PROCESSING": True,
        "COMPLETE": True,
    }


def test_a_batch_that_fails_whole_uses_up_no_status(sandbox_factory: Factory) -> None:
    # FaultConfig: the sequence goes to "the first batch creates that pass validation". A whole-batch
    # 409 (two inputs with one email, no trace ids) creates nothing and answers no status: the status
    # drawn for it goes to the next batch create
    faults = FaultConfig(status_sequence=("PENDING", "CANCELED"), incomplete_listed_share=1.0)
    sb = sandbox_factory(faults=faults)
    api = Api(sb)

    def conflict() -> None:
        resp = api.create("contacts", [contact("same@example.com"), contact("same@example.com")])
        assert resp.status_code == 409, resp.text

    conflict()
    assert api.create("contacts", [contact("t@example.com")]).json()["status"] == "PENDING"
    conflict()
    assert api.create("contacts", [contact("v@example.com")]).json()["status"] == "CANCELED"
    assert api.create("contacts", [contact("w@example.com")]).json()["status"] == "COMPLETE"
    assert sb.counters()["faults"] == {"answer_PENDING": 1, "answer_CANCELED": 1}
    stored = sorted(o["properties"]["email"] for o in sb.objects("contacts"))
    assert stored == ["t@example.com", "v@example.com", "w@example.com"]


def test_a_batch_without_a_valid_input_uses_up_no_status(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(status_sequence=("CANCELED",), incomplete_listed_share=0.0))
    api = Api(sb)
    invalid = api.create("contacts", [contact("bad@example.com", trace="b-1", no_such_property="x")])
    assert invalid.status_code == 207, invalid.text
    assert invalid.json()["status"] == "COMPLETE" and invalid.json()["results"] == []
    assert api.create("contacts", [contact("c@example.com")]).json()["status"] == "CANCELED"


def test_status_settings_round_trip_and_are_checked(sandbox: SandboxHandle) -> None:
    faults = FaultConfig(status_sequence=("PROCESSING",), pending_rate=0.1, pending_reveal_after_ms=250.0)
    sandbox.set_faults(faults)
    assert sandbox.faults() == faults
    with pytest.raises(ValueError, match="DONE"):
        FaultConfig(status_sequence=("DONE",))
    with pytest.raises(ValueError, match="incomplete_listed_share"):
        FaultConfig(incomplete_listed_share=1.5)
    args = build_parser().parse_args(
        ["--status-sequence", "pending,CANCELED", "--processing-rate", "0.05", "--omit-completed-at"]
    )
    config = config_from_args(args).faults
    assert config.status_sequence == ("PENDING", "CANCELED")
    assert config.processing_rate == 0.05 and config.omit_completed_at is True


def official(sb: SandboxHandle, strict: bool) -> HubSpot:
    return HubSpot(
        access_token=sb.token, host=sb.base_url, base_url=sb.base_url, client_side_validation=strict
    )


@pytest.mark.parametrize("status", ["CANCELED", "PENDING", "PROCESSING"])
def test_official_client_parses_every_status_strictly(sandbox_factory: Factory, status: str) -> None:
    sb = sandbox_factory(faults=FaultConfig(status_sequence=(status,), incomplete_listed_share=0.5))
    resp = official(sb, strict=True).crm.objects.batch_api.create(
        object_type="contacts",
        batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=four("oc")
        ),
    )
    assert resp.status == status and resp.completed_at is not None and resp.started_at is not None
    assert sorted(r.object_write_trace_id for r in resp.results) == ["oc-t0", "oc-t1"]


def test_official_client_accepts_a_missing_completed_at_only_without_validation(
    sandbox_factory: Factory,
) -> None:
    faults = FaultConfig(status_sequence=("PENDING", "PENDING"), omit_completed_at=True)
    sb = sandbox_factory(faults=faults)
    body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[contact("om@example.com")])
    lenient = official(sb, strict=False).crm.objects.batch_api.create(
        object_type="contacts", batch_input_simple_public_object_batch_input_for_create=body
    )
    assert lenient.status == "PENDING" and lenient.completed_at is None
    with pytest.raises(ValueError, match="completed_at"):
        official(sb, strict=True).crm.objects.batch_api.create(
            object_type="contacts",
            batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[contact("om2@example.com")]
            ),
        )
