"""``HubSpotClient(token, base_url=..., settings=ClientSettings(...))``, and the deprecated keyword form.

The old form (``HubSpotClient(token, max_in_flight=1, batch_size=2, ...)``) still works for one release,
with a ``DeprecationWarning`` naming the new form; it is checked here through real requests to a sandbox
on 127.0.0.1. Everywhere else the test run turns that warning into an error (``pyproject.toml``).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from typing import Any

import pytest

from hubspot_loader import ClientSettings, HubSpotClient
from hubspot_loader.core.model import CREATED
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotConfigurationError
from hubspot_loader.http.ratelimit import RateLimiter
from hubspot_loader.http.retry import RetryPolicy

from .conftest import FAST_RETRY, RecordingSession, contacts, rows_of, stored_emails

DEPRECATED = r"HubSpotClient\(access_token, \*\*settings\) is deprecated.*settings=ClientSettings\(\.\.\.\)"


def test_deprecated_keyword_settings_warn_and_still_apply_to_real_requests(sandbox: Any) -> None:
    session = RecordingSession()
    with pytest.warns(DeprecationWarning, match=DEPRECATED) as caught:
        client = HubSpotClient(
            sandbox.token,
            base_url=sandbox.base_url,
            session=session,
            api_version="v3",
            batch_size=2,
            max_in_flight=1,
            retry=FAST_RETRY,
            timeout=(2.0, 10.0),
        )
    assert [w.filename for w in caught] == [__file__]  # points at the caller's line, not the client
    with client:
        outcomes = list(client.batch_create("contacts", contacts(5, "old-form")))
    creates = [url for method, url, _ in session.sent if method == "POST"]
    assert creates == [f"{sandbox.base_url}/crm/v3/objects/contacts/batch/create"] * 3  # v3 paths, 2+2+1
    assert sorted(o.record.rows for o in outcomes) == [1, 2, 2]
    assert {r.status for r in rows_of(outcomes)} == {CREATED}
    assert len(stored_emails(sandbox)) == 5
    assert client.settings == ClientSettings(
        api_version="v3", batch_size=2, max_in_flight=1, retry=FAST_RETRY, timeout=(2.0, 10.0)
    )
    session.close()


def test_deprecated_retry_none_still_means_the_default_policy() -> None:
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        client = HubSpotClient("tok", base_url="http://127.0.0.1:1", retry=None, max_split_requests=0)
    assert client.retry == RetryPolicy() and client.max_split_requests == 0
    client.close()


def test_the_new_form_sends_no_warning_and_applies_its_settings(sandbox: Any) -> None:
    session = RecordingSession()
    settings = ClientSettings(batch_size=3, max_in_flight=1, retry=FAST_RETRY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = HubSpotClient(sandbox.token, base_url=sandbox.base_url, settings=settings, session=session)
    with client:
        outcomes = list(client.batch_create("contacts", contacts(7, "new-form")))
    creates = [url for method, url, _ in session.sent if method == "POST"]
    assert creates == [f"{sandbox.base_url}/crm/objects/2026-03/contacts/batch/create"] * 3  # 3+3+1
    assert sorted(o.record.rows for o in outcomes) == [1, 3, 3]
    assert client.settings is settings
    session.close()


def test_old_keywords_beside_settings_or_unknown_names_are_refused_without_a_warning() -> None:
    secret = "pat-na1-never-shown"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"\['batch_size'\] beside settings=") as beside:
            HubSpotClient(secret, settings=ClientSettings(), batch_size=2)
        with pytest.raises(TypeError, match="unexpected keyword argument 'max_inflight'") as unknown:
            HubSpotClient(secret, max_inflight=2)
        with pytest.raises(TypeError, match="settings must be a ClientSettings, got dict") as wrong_type:
            HubSpotClient(secret, settings={"batch_size": 2})  # type: ignore[arg-type]
    for caught in (beside, unknown, wrong_type):
        assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_the_token_stays_out_of_repr_and_errors_whatever_the_settings(sandbox: Any) -> None:
    secret = "pat-na1-secret-settings"
    client = HubSpotClient(
        secret, base_url=sandbox.base_url, settings=ClientSettings(retry=FAST_RETRY, max_in_flight=2)
    )
    assert secret not in repr(client) and secret not in str(client) and secret not in repr(client.settings)
    with client, pytest.raises(HubSpotAuthenticationError) as caught:
        client.properties("contacts")  # the sandbox does not know this token: a real 401
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_the_defaults_and_every_setting_is_an_attribute() -> None:
    defaults = ClientSettings()
    assert defaults == ClientSettings(
        api_version="2026-03",
        timeout=(5.0, 60.0),
        max_in_flight=160,  # an upper bound: the number in flight adapts (issue #16)
        adaptive_concurrency=True,
        requests_per_10s="learn",  # 100 until the server states its X-HubSpot-RateLimit-Max
        batch_size=100,
        retry=RetryPolicy(),
        max_split_requests=1000,
        resend_ambiguous=True,
    )
    settings = ClientSettings(
        api_version="v3",
        timeout=3.0,
        max_in_flight=2,
        requests_per_10s=190,
        batch_size=7,
        retry=FAST_RETRY,
        max_split_requests=5,
        resend_ambiguous=False,
    )
    client = HubSpotClient("tok", settings=settings)
    for field in dataclasses.fields(ClientSettings):
        if field.name != "requests_per_10s":
            assert getattr(client, field.name) == getattr(settings, field.name), field.name
        assert field.metadata["doc"], field.name
    assert client.limiter.limit == 190
    shared = RateLimiter(50)
    with HubSpotClient("tok", settings=settings, rate_limiter=shared) as sharing:
        assert sharing.limiter is shared  # a shared limiter wins over requests_per_10s
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.batch_size = 3  # type: ignore[misc]
    client.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # the checks and messages the constructor had
        ("api_version", "", "bad api_version ''"),
        ("api_version", "v3/../x", "bad api_version 'v3/../x'"),
        ("max_in_flight", 0, "max_in_flight must be at least 1"),
        ("requests_per_10s", 0, "requests_per_10s must be at least 1"),
        ("batch_size", 0, "batch_size must be between 1 and 100, got 0"),
        ("batch_size", 101, "batch_size must be between 1 and 100, got 101"),
        ("max_split_requests", -1, "max_split_requests must not be negative"),
        # wrong types, which the constructor let through to fail later or never
        ("api_version", 3, "bad api_version 3"),
        ("timeout", 0, "timeout must be seconds > 0"),
        ("timeout", (5.0, -1.0), "timeout must be seconds > 0"),
        ("timeout", (1.0, 2.0, 3.0), "timeout must be seconds > 0"),
        ("timeout", "60", "timeout must be seconds > 0"),
        ("timeout", float("nan"), "timeout must be seconds > 0"),
        ("max_in_flight", "4", "max_in_flight must be an integer, got '4'"),
        ("max_in_flight", True, "max_in_flight must be an integer, got True"),
        ("batch_size", 2.5, "batch_size must be an integer, got 2.5"),
        ("retry", 3, "retry must be a RetryPolicy, got int"),
        ("resend_ambiguous", "no", "resend_ambiguous must be True or False, got 'no'"),
        ("adaptive_concurrency", 1, "adaptive_concurrency must be True or False, got 1"),
        ("requests_per_10s", "190", "requests_per_10s must be an integer or 'learn', got '190'"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(HubSpotConfigurationError, match=re.escape(message)):
        ClientSettings(**{field: value})


def test_the_old_form_refuses_bad_values_with_the_same_error() -> None:
    with (
        pytest.warns(DeprecationWarning, match=DEPRECATED),
        pytest.raises(HubSpotConfigurationError, match="max_in_flight must be at least 1"),
    ):
        HubSpotClient("tok", max_in_flight=0)
