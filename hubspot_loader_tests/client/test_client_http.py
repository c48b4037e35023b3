"""HubSpotClient against the sandbox over real HTTP: mapping, partial failures, isolation, auth, paths."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hubspot_loader.core.model import CREATED, FAILED, PreparedInput
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotConfigurationError,
    HubSpotNotFoundError,
    HubSpotValidationError,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings

from .conftest import FAST_RETRY, RecordingSession, contact, contacts, rows_of, stored_by_id, stored_emails


def client_for(sandbox: Any, *, session: Any = None, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    return HubSpotClient(
        sandbox.token, base_url=sandbox.base_url, settings=ClientSettings(**settings), session=session
    )


def test_201_results_mapped_by_trace_id_despite_shuffling(sandbox: Any) -> None:
    inputs = contacts(230, "map")
    with client_for(sandbox, max_in_flight=3) as client:
        outcomes = list(client.batch_create("contacts", iter(inputs)))
    assert sorted(o.record.index for o in outcomes) == [0, 1, 2]
    assert sorted(o.record.rows for o in outcomes) == [30, 100, 100]
    rows = rows_of(outcomes)
    assert [r.position for r in rows] == list(range(230))
    assert all(r.status == CREATED and r.hubspot_id for r in rows)
    stored = stored_by_id(sandbox)
    for row, item in zip(rows, inputs, strict=True):
        # the id HubSpot gave this row belongs to the object holding this row's email
        assert stored[row.hubspot_id]["properties"]["email"] == item.properties["email"]
        assert row.trace_id == item.trace_id and row.key == item.key
    for outcome in outcomes:
        record = outcome.record
        assert record.http_status == 201 and record.status == "COMPLETE"
        assert record.created == record.rows and record.failed == 0
        assert record.requests == 1 and record.retries == 0 and record.splits == 0
        assert record.started_at is not None and record.started_at.tzinfo is not None
        assert record.completed_at is not None and record.completed_at >= record.started_at
        assert record.sent_at is not None and record.duration_s > 0


def test_inputs_are_consumed_lazily_and_bounded(sandbox: Any) -> None:
    pulled = 0

    def source() -> Any:
        nonlocal pulled
        for item in contacts(1000, "lazy"):
            pulled += 1
            yield item

    with client_for(sandbox, max_in_flight=2, batch_size=10) as client:
        generator = client.batch_create("contacts", source())
        first = next(generator)
        assert first.record.rows == 10
        assert pulled <= 3 * 10 + 10  # in flight + the one being refilled, never the whole iterable
        generator.close()
    assert pulled < 1000


def test_207_partial_failures_carry_reasons(sandbox: Any) -> None:
    inputs = [
        contact(0, "ok-0@example.com"),
        contact(1, "not-an-email"),
        contact(2, "ok-2@example.com", no_such_property="x"),
        contact(3, "ok-3@example.com"),
    ]
    with client_for(sandbox) as client:
        (outcome,) = list(client.batch_create("contacts", inputs))
    assert outcome.record.http_status == 207
    rows = {r.position: r for r in outcome.rows}
    assert rows[0].status == CREATED and rows[3].status == CREATED
    bad_email = rows[1].error
    assert rows[1].status == FAILED and bad_email is not None
    assert (bad_email.category, bad_email.code, bad_email.property) == (
        "VALIDATION_ERROR",
        "INVALID_EMAIL",
        "email",
    )
    assert "not-an-email" in bad_email.message and "[{" not in bad_email.message
    unknown = rows[2].error
    assert rows[2].status == FAILED and unknown is not None
    assert (unknown.code, unknown.property) == ("PROPERTY_DOESNT_EXIST", "no_such_property")
    assert outcome.record.created == 2 and outcome.record.failed == 2
    assert stored_emails(sandbox) == {"ok-0@example.com": 1, "ok-3@example.com": 1}


@pytest.mark.parametrize("unique_property", [None, "email"])
def test_409_existing_emails_isolated_and_good_rows_created_once(
    sandbox: Any, unique_property: str | None
) -> None:
    with client_for(sandbox) as client:
        seed = [contact(100, "taken-a@example.com"), contact(101, "taken-b@example.com")]
        list(client.batch_create("contacts", seed))
        existing = {o["properties"]["email"]: o["id"] for o in sandbox.objects("contacts")}
        inputs = contacts(20, "conf")
        inputs[4] = contact(4, "taken-a@example.com")
        inputs[15] = contact(15, "TAKEN-B@example.com")
        (outcome,) = list(client.batch_create("contacts", inputs, unique_property=unique_property))
    rows = {r.position: r for r in outcome.rows}
    for pos, email in ((4, "taken-a@example.com"), (15, "taken-b@example.com")):
        error = rows[pos].error
        assert rows[pos].status == FAILED and error is not None
        assert error.category == "CONFLICT" and error.http_status == 409
        assert f"Existing ID: {existing[email]}" in error.message
    assert all(r.status == CREATED for p, r in rows.items() if p not in (4, 15))
    assert outcome.record.http_status == 409
    assert outcome.record.splits >= 1 and outcome.record.requests >= 3
    counts = stored_emails(sandbox)
    assert all(n == 1 for n in counts.values())
    assert len(counts) == 20  # 18 new + 2 pre-existing


def test_duplicate_email_within_batch_creates_one_and_fails_the_other(sandbox: Any) -> None:
    inputs = contacts(10, "dup")
    inputs[7] = contact(7, "dup-2@example.com")
    with client_for(sandbox) as client:
        (outcome,) = list(client.batch_create("contacts", inputs))
    statuses = {r.position: r.status for r in outcome.rows}
    assert sorted([statuses[2], statuses[7]]) == [CREATED, FAILED]
    failed = next(r for r in outcome.rows if r.status == FAILED)
    assert failed.error is not None and failed.error.category == "CONFLICT"
    assert sum(s == CREATED for s in statuses.values()) == 9
    assert set(stored_emails(sandbox).values()) == {1}


def test_invalid_association_isolated(sandbox: Any) -> None:
    with client_for(sandbox) as client:
        (companies,) = list(
            client.batch_create("companies", [PreparedInput(0, "c0", "co-0", {"domain": "acme.example.com"})])
        )
        company_id = companies.rows[0].hubspot_id
        assert company_id is not None

        def to_company(target: str) -> list[dict[str, Any]]:
            return [
                {
                    "to": {"id": target},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ]

        inputs = [
            PreparedInput(
                i,
                f"k{i}",
                f"as-{i}",
                {"email": f"as-{i}@example.com"},
                to_company("999999999" if i == 5 else company_id),
            )
            for i in range(8)
        ]
        (outcome,) = list(client.batch_create("contacts", inputs))
    rows = {r.position: r for r in outcome.rows}
    error = rows[5].error
    assert rows[5].status == FAILED and error is not None
    assert error.category == "VALIDATION_ERROR" and error.http_status == 400
    assert "associations are invalid" in error.message and "999999999" in error.message
    assert all(rows[i].status == CREATED for i in range(8) if i != 5)
    assert outcome.record.splits >= 1
    stored = stored_by_id(sandbox)
    assert all(stored[rows[i].hubspot_id]["associations"] for i in range(8) if i != 5)  # type: ignore[index]


def test_split_budget_exhausted_fails_rows_with_reason(sandbox: Any) -> None:
    inputs = contacts(6, "budget")
    inputs[3] = contact(3, "budget-0@example.com")
    with client_for(sandbox, max_split_requests=2) as client:
        (outcome,) = list(client.batch_create("contacts", inputs))
    assert len(outcome.rows) == 6  # nothing silently dropped
    failed = [r for r in outcome.rows if r.status == FAILED]
    assert failed
    assert any(
        r.error is not None and "not isolated: split budget exhausted" in r.error.message for r in failed
    )
    assert outcome.record.requests <= 3
    assert set(stored_emails(sandbox).values()) <= {1}


def test_401_raises_without_token_in_text(sandbox: Any) -> None:
    secret = "pat-na1-00000000-dead-beef-0000-000000000000"
    client = HubSpotClient(secret, base_url=sandbox.base_url, settings=ClientSettings(retry=FAST_RETRY))
    with pytest.raises(HubSpotAuthenticationError) as caught:
        list(client.batch_create("contacts", contacts(3, "auth")))
    exc = caught.value
    assert exc.status == 401 and not exc.retryable
    assert "Authentication credentials not found" in str(exc)
    assert exc.response is not None and exc.response.category == "INVALID_AUTHENTICATION"
    for text in (str(exc), repr(exc), repr(exc.response), repr(client), str(client)):
        assert secret not in text
    with pytest.raises(HubSpotAuthenticationError):
        client.properties("contacts")
    assert stored_emails(sandbox) == {}


def test_unknown_object_type_is_fatal_not_split(sandbox: Any) -> None:
    with client_for(sandbox) as client, pytest.raises(HubSpotValidationError) as caught:
        list(client.batch_create("no_such_type", contacts(4, "nt")))
    assert "no_such_type" in str(caught.value)


@pytest.mark.parametrize(
    ("api_version", "create", "props", "labels"),
    [
        (
            "2026-03",
            "/crm/objects/2026-03/contacts/batch/create",
            "/crm/properties/2026-03/contacts",
            "/crm/associations/2026-03/contacts/companies/labels",
        ),
        (
            "v3",
            "/crm/v3/objects/contacts/batch/create",
            "/crm/v3/properties/contacts",
            "/crm/v4/associations/contacts/companies/labels",
        ),
    ],
)
def test_paths_per_api_version(sandbox: Any, api_version: str, create: str, props: str, labels: str) -> None:
    session = RecordingSession()
    client = client_for(sandbox, api_version=api_version, session=session)
    (outcome,) = list(client.batch_create("contacts", contacts(2, f"path-{api_version}")))
    assert all(r.status == CREATED for r in outcome.rows)
    assert any(p["name"] == "email" for p in client.properties("contacts"))
    assert client.properties("contacts") is client.properties("contacts")  # cached
    found = client.association_labels("contacts", "companies")
    assert any(item.get("typeId") == 279 for item in found)
    client.association_labels("contacts", "companies")
    urls = [url for _m, url, _h in session.sent]
    assert urls == [sandbox.base_url + create, sandbox.base_url + props, sandbox.base_url + labels]
    headers = session.sent[0][2]
    assert headers["Authorization"] == f"Bearer {sandbox.token}"
    assert headers["User-Agent"].startswith("hubspot-loader/")


def test_unknown_route_raises_not_found(sandbox: Any) -> None:
    with client_for(sandbox, api_version="v9") as client, pytest.raises(HubSpotNotFoundError):
        list(client.batch_create("contacts", contacts(1, "route")))


def test_batch_read_by_unique_property(sandbox: Any) -> None:
    with client_for(sandbox) as client:
        list(client.batch_create("contacts", contacts(3, "read")))
        found = client.batch_read(
            "contacts",
            ["read-0@example.com", "read-2@example.com", "nobody@example.com"],
            id_property="email",
            properties=["email"],
        )
    assert sorted(f["properties"]["email"] for f in found) == ["read-0@example.com", "read-2@example.com"]


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1:8080", "ftp://127.0.0.1", "nonsense"])
def test_refuses_token_over_plain_http_to_non_loopback(url: str) -> None:
    with pytest.raises(HubSpotConfigurationError) as caught:
        HubSpotClient("pat-secret-token", base_url=url)
    assert "pat-secret-token" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1",
        "http://127.8.9.10",
        "http://localhost:8080",
        "http://[::1]:8080",
        "https://api.hubapi.com",
    ],
)
def test_accepts_https_and_loopback_http(url: str) -> None:
    client = HubSpotClient("pat-secret-token", base_url=url)
    assert "pat-secret-token" not in repr(client)
    client.close()


def test_rejects_bad_batch_size_and_token() -> None:
    with pytest.raises(HubSpotConfigurationError):
        HubSpotClient("t", settings=ClientSettings(batch_size=101))
    with pytest.raises(HubSpotConfigurationError):
        HubSpotClient("t\r\nX-Injected: 1")


def test_connection_refused_is_not_ambiguous_and_fails_rows() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    quick = ClientSettings(retry=FAST_RETRY, timeout=(0.5, 0.5))
    client = HubSpotClient("tok", base_url=f"http://127.0.0.1:{port}", settings=quick)
    started = time.monotonic()
    (outcome,) = list(client.batch_create("contacts", contacts(2, "refused"), unique_property="email"))
    assert time.monotonic() - started < 30  # within the retry budget (max_elapsed_s), not a speed claim
    assert all(
        r.status == FAILED and r.error is not None and r.error.category == "TRANSPORT_ERROR"
        for r in outcome.rows
    )
    assert outcome.record.requests == FAST_RETRY.max_attempts
    assert outcome.record.warnings == []  # not ambiguous: no reconciliation, no duplicate warning
