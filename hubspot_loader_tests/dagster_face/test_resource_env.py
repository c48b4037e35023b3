"""``HubSpotResource`` from the environment alone: ``$HUBSPOT_ACCESS_TOKEN`` and ``$HUBSPOT_BASE_URL``."""

from __future__ import annotations

import dagster as dg
import pytest

from hubspot_loader import HubSpotLoadSpec, HubSpotResource
from hubspot_loader.dagster import HubSpotLoad, build_hubspot_load_asset
from hubspot_loader.errors import HubSpotConfigurationError
from hubspot_loader.sandbox import SandboxHandle

from .conftest import account_rows


def test_a_resource_without_settings_loads_into_the_sandbox_the_environment_names(
    hubspot_env: SandboxHandle,
) -> None:
    companies = build_hubspot_load_asset(
        HubSpotLoad(
            name="companies",
            source="account_rows",
            spec=HubSpotLoadSpec(object_type="companies", key_column="account_id"),
        )
    )
    result = dg.materialize([account_rows, companies], resources={"hubspot": HubSpotResource()})
    assert result.success
    assert sorted(o["properties"]["name"] for o in hubspot_env.objects("companies")) == ["Acme", "Globex"]


def test_environment_is_read_when_a_client_is_made_and_settings_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUBSPOT_BASE_URL", raising=False)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-from-the-env")
    resource = HubSpotResource()  # made before the variables change: nothing is read yet
    assert resource.api_root() == "https://api.hubapi.com"
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")
    assert resource.api_root() == "http://127.0.0.1:9"
    assert resource.token() == "pat-na1-from-the-env"
    explicit = HubSpotResource(access_token="pat-na1-given", base_url="http://127.0.0.1:8")
    assert (explicit.token(), explicit.api_root()) == ("pat-na1-given", "http://127.0.0.1:8")
    client = resource.get_client()
    try:
        assert client.base_url == "http://127.0.0.1:9"
    finally:
        client.close()
    assert "pat-na1-from-the-env" not in repr(resource) + str(resource)


def test_no_token_anywhere_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(HubSpotConfigurationError, match="set HUBSPOT_ACCESS_TOKEN"):
        HubSpotResource().get_client()


def test_the_token_read_from_the_environment_stays_out_of_the_definitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap

    secret = "pat-na1-99999999-8888-7777-6666-555555555555"
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", secret)
    companies = build_hubspot_load_asset(
        HubSpotLoad(
            name="companies",
            source="account_rows",
            spec=HubSpotLoadSpec(object_type="companies", key_column="account_id"),
        )
    )
    defs = dg.Definitions(assets=[account_rows, companies], resources={"hubspot": HubSpotResource()})
    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    assert "HubSpotResource" in str(snapshot) and secret not in str(snapshot)
