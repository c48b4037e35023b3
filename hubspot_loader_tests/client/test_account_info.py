"""``HubSpotClient.account_info()`` against the sandbox over HTTP, and the portal links built from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.associations import object_type_id
from hubspot_loader.core.portal import AccountInfo, object_list_url, parse_account_info
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import SandboxHandle

from .conftest import FAST_RETRY

ROUTE = "GET account-info/details"


def test_account_info_reads_portal_id_and_ui_domain(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    hub = sandbox_factory(portal_id=424242, ui_domain="app-eu1.hubspot.com")
    with HubSpotClient(hub.token, base_url=hub.base_url, settings=ClientSettings(retry=FAST_RETRY)) as client:
        account = client.account_info()
        assert account == AccountInfo(portal_id=424242, ui_domain="app-eu1.hubspot.com")
        assert client.account_info() == account  # not cached by the client: a second read is sent
    assert hub.counters()["by_route"][ROUTE] == 2
    assert object_list_url(account, "contacts") == "https://app-eu1.hubspot.com/contacts/424242/objects/0-1"


def test_account_info_with_a_refused_token_raises_without_the_token(sandbox: SandboxHandle) -> None:
    secret = "pat-na1-not-the-sandbox-token-0123456789"
    client = HubSpotClient(secret, base_url=sandbox.base_url, settings=ClientSettings(retry=FAST_RETRY))
    with client, pytest.raises(HubSpotAuthenticationError) as caught:
        client.account_info()
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_an_answer_without_a_host_name_is_refused_naming_the_field(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    hub = sandbox_factory(ui_domain="https://app.hubspot.com/evil")
    client = HubSpotClient(hub.token, base_url=hub.base_url, settings=ClientSettings(retry=FAST_RETRY))
    with client, pytest.raises(HubSpotError, match="uiDomain must be a host name"):
        client.account_info()


@pytest.mark.parametrize(
    ("object_type", "type_id"),
    [
        ("contacts", "0-1"), ("contact", "0-1"), ("0-1", "0-1"), ("Companies", "0-2"), ("deals", "0-3"),
        ("tickets", "0-5"), ("line_items", "0-8"), ("0-410", "0-410"), ("2-123456", "2-123456"),
        ("p_vendor", None), ("p123_vendor", None), ("2-", None), ("2-12a", None), ("3-1", None),
    ],
)  # fmt: skip
def test_object_type_ids_of_standard_objects_and_custom_type_ids(
    object_type: str, type_id: str | None
) -> None:
    assert object_type_id(object_type) == type_id
    account = AccountInfo(portal_id=7, ui_domain="app.hubspot.com")
    expected = None if type_id is None else f"https://app.hubspot.com/contacts/7/objects/{type_id}"
    assert object_list_url(account, object_type) == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"uiDomain": "app.hubspot.com"}, "portalId"),
        ({"portalId": "123", "uiDomain": "app.hubspot.com"}, "portalId"),
        ({"portalId": True, "uiDomain": "app.hubspot.com"}, "portalId"),
        ({"portalId": 0, "uiDomain": "app.hubspot.com"}, "portalId"),
        ({"portalId": 2**31, "uiDomain": "app.hubspot.com"}, "portalId"),
        ({"portalId": 1}, "uiDomain"),
        ({"portalId": 1, "uiDomain": "app.hubspot.com:8443"}, "uiDomain"),
        ({"portalId": 1, "uiDomain": "user@app.hubspot.com"}, "uiDomain"),
        ({"portalId": 1, "uiDomain": "app.hubspot.com\n"}, "uiDomain"),
        ({"portalId": 1, "uiDomain": "localhost"}, "uiDomain"),
        (["portalId", 1], "JSON object"),
    ],
)
def test_malformed_account_answers_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(HubSpotError, match=field):
        parse_account_info(body)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet="aZ9.-:/@_ \n", max_size=30)))
def test_a_link_host_is_always_a_plain_host_name(ui_domain: str) -> None:
    """Whatever ``uiDomain`` holds, a link is built only on a plain host: no scheme, port, user or path."""
    try:
        account = parse_account_info({"portalId": 5, "uiDomain": ui_domain})
    except HubSpotError:
        return
    url = object_list_url(account, "contacts")
    assert url == f"https://{ui_domain.lower()}/contacts/5/objects/0-1"
    host = url.removeprefix("https://").split("/", 1)[0]
    assert host and not set(host) - set("abcdefghijklmnopqrstuvwxyz0123456789.-")
