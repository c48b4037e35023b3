"""Issue #11: the README's failure model for refused tokens and scopes, on every path, over real HTTP.

A 401 or 403 stops the load: rows created before the stop are kept and reported, every other row is
failed, ``LoadAborted`` carries the result, and its one-line message says what to do (a valid token, or
the scope to grant, derived from the object type). The sandbox checks tokens and scopes as HubSpot
documents them (reference §5.7, §10.2); its tokens are configured with limited scopes here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import HubSpotResource, build_hubspot_load_asset
from hubspot_loader.core.model import CREATED, FAILED, NOT_SENT, AssociationColumn, BatchOutcome
from hubspot_loader.dagster import HubSpotLoad
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotScopeError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadAborted, LoadRun, PreflightMode, load_dataframe
from hubspot_loader.sandbox import (
    CustomObjectConfig,
    FaultConfig,
    PropertyConfig,
    SandboxHandle,
    TokenConfig,
)
from hubspot_loader.state.ledger import PendingRow, SQLiteLedger, content_hash, default_portal
from hubspot_loader_tests.loader.conftest import loader_config

FULL = "full-token"
READ_ONLY = "contacts-read-token"  # may read contacts and their properties, may not create them
NO_CONTACTS = "companies-only-token"  # nothing about contacts at all
VENDOR = CustomObjectConfig(name="vendor", type_id="2-9001", properties=(PropertyConfig("vendor_name"),))
TOKENS = (
    TokenConfig(FULL),
    TokenConfig(READ_ONLY, frozenset({"crm.objects.contacts.read", "crm.objects.custom.read"})),
    TokenConfig(NO_CONTACTS, frozenset({"crm.objects.companies.write"})),
)
CONTACTS_SPEC = HubSpotLoadSpec(object_type="contacts", key_column="key", preflight="off")


@pytest.fixture
def hub(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox with a full token, a read-only one and one without any contacts scope."""
    return sandbox_factory(config=loader_config(tokens=TOKENS, custom_objects=(VENDOR,)))


def _contacts(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {"key": [f"K{i}" for i in range(n)], "email": [f"p{i}@example.com" for i in range(n)]}
    )


def _stopped(
    hub: SandboxHandle,
    token: str,
    frame: pd.DataFrame,
    *,
    object_type: str = "contacts",
    preflight: PreflightMode = "off",
    **options: Any,
) -> LoadAborted:
    spec = HubSpotLoadSpec(object_type=object_type, key_column="key", preflight=preflight, **options)
    with HubSpotClient(token, base_url=hub.base_url) as client, pytest.raises(LoadAborted) as caught:
        load_dataframe(frame, spec, client=client)
    return caught.value


def _assert_one_line_and_every_row_reported(exc: LoadAborted, frame: pd.DataFrame, token: str) -> None:
    message = str(exc)
    assert "\n" not in message and token not in message
    assert exc.result.stopped == message
    rows = list(exc.result.rows)
    assert [r.position for r in rows] == list(range(len(frame)))
    assert [r.key for r in rows] == list(frame["key"])
    assert all(r.status in (CREATED, FAILED) for r in rows)
    assert all(r.error is not None and r.error.message for r in rows if r.status == FAILED)


@pytest.mark.parametrize("preflight", ["quarantine", "block"])
def test_refused_token_on_the_preflight_reads_stops_with_every_row_not_sent(
    hub: SandboxHandle, preflight: PreflightMode
) -> None:
    frame = _contacts()
    exc = _stopped(hub, "not-a-token", frame, preflight=preflight)
    _assert_one_line_and_every_row_reported(exc, frame, "not-a-token")
    assert "refused the access token" in str(exc) and "property definitions" in str(exc)
    assert "valid private-app token" in str(exc)
    assert isinstance(exc.__cause__, HubSpotAuthenticationError)
    assert [r.error.category for r in exc.result.rows if r.error] == [NOT_SENT] * 3
    assert exc.result.hubspot_status == NOT_SENT
    assert hub.counters()["write_requests"] == 0


def test_refused_token_on_the_label_lookup_stops_before_anything_is_sent(hub: SandboxHandle) -> None:
    frame = _contacts().assign(company=["1", "2", "3"])
    exc = _stopped(
        hub, "not-a-token", frame, associations=[AssociationColumn("company", "companies", label="Boss")]
    )
    _assert_one_line_and_every_row_reported(exc, frame, "not-a-token")
    assert "association labels" in str(exc) and "refused the access token" in str(exc)
    assert all(r.error is not None and r.error.category == NOT_SENT for r in exc.result.rows)
    assert hub.counters()["write_requests"] == 0


@pytest.mark.parametrize(
    ("object_type", "scope", "frame"),
    [
        ("contacts", "crm.objects.contacts.write", _contacts()),
        ("0-1", "crm.objects.contacts.write", _contacts()),
        (
            "p_vendor",
            "crm.objects.custom.write",
            pd.DataFrame({"key": ["V1", "V2"], "vendor_name": ["A", "B"]}),
        ),
    ],
)
@pytest.mark.parametrize("preflight", ["off", "quarantine"])
def test_missing_write_scope_names_the_scope_to_grant(
    hub: SandboxHandle, object_type: str, scope: str, frame: pd.DataFrame, preflight: PreflightMode
) -> None:
    # The read-only token passes preflight's reads (a read scope lets it read the properties) and is
    # refused at the first write.
    exc = _stopped(hub, READ_ONLY, frame, object_type=object_type, preflight=preflight)
    _assert_one_line_and_every_row_reported(exc, frame, READ_ONLY)
    assert f"grant the private app the scope {scope}" in str(exc)
    assert isinstance(exc.__cause__, HubSpotScopeError)
    assert exc.result.rows_created == 0 and hub.counts().get(object_type, 0) == 0


def test_token_that_may_not_read_properties_skips_preflight_then_stops_on_the_write(
    hub: SandboxHandle,
) -> None:
    frame = _contacts()
    exc = _stopped(hub, NO_CONTACTS, frame, preflight="quarantine")
    assert any("preflight skipped" in w and "crm.schemas.contacts.read" in w for w in exc.result.warnings)
    assert "grant the private app the scope crm.objects.contacts.write" in str(exc)
    _assert_one_line_and_every_row_reported(exc, frame, NO_CONTACTS)


def test_refused_lookup_of_rows_in_doubt_stops_the_load_and_names_the_read_scope(
    hub: SandboxHandle, tmp_path: Any
) -> None:
    # An earlier run was interrupted after writing a batch ahead: its rows are pending ("in doubt") and
    # must be looked up by email before anything is sent. A token that may not read contacts cannot.
    frame = _contacts()
    ledger = SQLiteLedger(tmp_path / "state.sqlite")
    with HubSpotClient(NO_CONTACTS, base_url=hub.base_url) as client:
        portal = default_portal(client.base_url, client.token_fingerprint)
        ledger.mark_pending(
            portal,
            "contacts",
            [PendingRow("K0", content_hash({"email": "p0@example.com"}), "email", "p0@example.com")],
            run_id="interrupted",
        )
        with pytest.raises(LoadAborted) as caught:
            load_dataframe(frame, CONTACTS_SPEC, client=client, ledger=ledger)
    ledger.close()
    exc = caught.value
    _assert_one_line_and_every_row_reported(exc, frame, NO_CONTACTS)
    assert "left in doubt" in str(exc) and "crm.objects.contacts.read" in str(exc)
    assert all(r.error is not None and r.error.category == NOT_SENT for r in exc.result.rows)
    assert hub.counters()["write_requests"] == 0


def test_token_refused_mid_load_keeps_the_rows_created_before(hub: SandboxHandle) -> None:
    frame = _contacts(5)

    def refuse_from_now_on(outcome: BatchOutcome) -> None:
        # after the first batch: every further write is answered 401 (the token was revoked)
        hub.set_faults(FaultConfig(error_rate=1.0, error_statuses=(401,)))

    client = HubSpotClient(FULL, base_url=hub.base_url, settings=ClientSettings(max_in_flight=1))
    with client, pytest.raises(LoadAborted) as caught:
        load_dataframe(
            frame,
            CONTACTS_SPEC.replace(batch_size=2),
            client=client,
            run=LoadRun(on_batch=refuse_from_now_on),
        )
    exc = caught.value
    _assert_one_line_and_every_row_reported(exc, frame, FULL)
    assert "refused the access token" in str(exc) and "creating contacts" in str(exc)
    created = [r for r in exc.result.rows if r.status == CREATED]
    assert [r.key for r in created] == ["K0", "K1"] and all(r.hubspot_id for r in created)
    assert exc.result.id_map == {r.key: r.hubspot_id for r in created}
    assert hub.counts()["contacts"] == 2
    never_sent = [r for r in exc.result.rows if r.key == "K4"]
    assert never_sent[0].error is not None and never_sent[0].error.category == NOT_SENT


@dg.asset
def contact_rows() -> pd.DataFrame:
    return _contacts()


def test_asset_step_fails_with_the_one_line_reason_and_no_retry(hub: SandboxHandle) -> None:
    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="contacts",
            source="contact_rows",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="key"),
        )
    )
    resource = HubSpotResource(access_token=READ_ONLY, base_url=hub.base_url, state_path="")
    result = dg.materialize([contact_rows, load], resources={"hubspot": resource}, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error  # type: ignore[union-attr]
    description = failure.event_specific_data.user_failure_data.description  # type: ignore[union-attr]
    assert "\n" not in description
    assert description.startswith("load of contacts stopped: the access token lacks a scope")
    assert "grant the private app the scope crm.objects.contacts.write" in description
    assert error.message.strip().endswith(description)  # the step's message is that line
    assert error.cause is None  # no HubSpot traceback under it
    assert READ_ONLY not in error.message
    metadata = failure.event_specific_data.user_failure_data.metadata  # type: ignore[union-attr]
    assert metadata["hubspot/stopped"].value == description
    assert metadata["hubspot/rows_failed"].value == 3
