"""``GET /account-info/{v3|2026-03}/details`` over HTTP (issue #12: the portal id for links into the portal).

HubSpot's account information API (reference §16.7; Spec repo
``Account/Account Info/Rollouts/144923/{v3,2026-03}/accountInfo.json``; the guide at
https://developers.hubspot.com/docs/api-reference/latest/account/account-information/guide): 200
``PortalInformationResponse`` whose fields are all required: ``portalId`` (integer), ``accountType`` (one of
``APP_DEVELOPER``, ``DEVELOPER_TEST``, ``SANDBOX``, ``STANDARD``), ``timeZone``, ``companyCurrency``,
``additionalCurrencies``, ``utcOffset``, ``utcOffsetMilliseconds``, ``uiDomain``, ``dataHostingLocation``.
"""

from __future__ import annotations

import pytest
import requests

from hubspot_loader.sandbox import SandboxHandle, TokenConfig
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact

PATHS = ("/account-info/v3/details", "/account-info/2026-03/details")
FIELDS = {
    "portalId",
    "accountType",
    "timeZone",
    "companyCurrency",
    "additionalCurrencies",
    "utcOffset",
    "utcOffsetMilliseconds",
    "uiDomain",
    "dataHostingLocation",
}


@pytest.mark.parametrize("path", PATHS)
def test_account_details_has_every_documented_field(sandbox: SandboxHandle, path: str) -> None:
    resp = Api(sandbox).get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    body = resp.json()
    assert set(body) == FIELDS
    assert body["portalId"] == 12345678 and isinstance(body["portalId"], int)
    assert body["accountType"] == "STANDARD"
    assert body["uiDomain"] == "app.hubspot.com" and body["dataHostingLocation"] == "na1"
    assert (body["timeZone"], body["utcOffset"], body["utcOffsetMilliseconds"]) == ("UTC", "+00:00", 0)
    assert body["companyCurrency"] == "USD" and body["additionalCurrencies"] == []
    assert resp.headers["X-HubSpot-RateLimit-Remaining"]
    assert sandbox.counters()["by_route"] == {"GET account-info/details": 1}


def test_portal_id_and_ui_domain_come_from_the_configuration_and_match_record_urls(
    sandbox_factory: Factory,
) -> None:
    sb = sandbox_factory(portal_id=987654, ui_domain="app-eu1.hubspot.com")
    api = Api(sb)
    details = api.get("/account-info/v3/details").json()
    assert details["portalId"] == 987654
    assert details["uiDomain"] == "app-eu1.hubspot.com" and details["dataHostingLocation"] == "eu1"
    created = api.create("contacts", [contact("a@example.com")]).json()["results"][0]
    assert created["url"] == f"https://app-eu1.hubspot.com/contacts/987654/record/0-1/{created['id']}"


def test_account_details_needs_a_valid_token_and_no_crm_scope(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(
        tokens=(TokenConfig("full"), TokenConfig("narrow", frozenset({"crm.objects.deals.read"})))
    )
    assert Api(sb, token="narrow").get("/account-info/v3/details").status_code == 200
    refused = requests.get(f"{sb.base_url}/account-info/v3/details", timeout=10)
    assert refused.status_code == 401 and refused.json()["category"] == "INVALID_AUTHENTICATION"
    assert Api(sb).get("/account-info/v4/details").status_code == 404
