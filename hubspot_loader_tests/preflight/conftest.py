"""Fixtures for preflight tests: a sandbox with typed custom properties and a custom object.

Property definitions are always fetched over HTTP from the sandbox (``HubSpotClient.properties``), the
way a load fetches them from HubSpot; nothing here hand-writes a definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
import requests

from hubspot_loader.core.formatting import format_value
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox import (
    CustomAssociationConfig,
    CustomObjectConfig,
    PropertyConfig,
    SandboxConfig,
    SandboxHandle,
)

CONTACT_EXTRAS = (
    PropertyConfig("renewal_date", "date"),
    PropertyConfig("signed_up_at", "datetime"),
    PropertyConfig("score", "number"),
    PropertyConfig("is_vip", "bool"),
    PropertyConfig("tier", "enumeration", options=("gold", "silver", "bronze")),
    PropertyConfig("interests", "enumeration", field_type="checkbox", options=("golf", "tennis", "chess")),
    PropertyConfig("external_id", "string", unique=True),
    PropertyConfig("legacy_score", "number", read_only=True),
)

VENDOR = CustomObjectConfig(
    name="vendor",
    type_id="2-101",
    properties=(
        PropertyConfig("vendor_name", "string"),
        PropertyConfig("vendor_code", "string", unique=True),
        PropertyConfig("category", "enumeration", options=("hardware", "software", "services")),
        PropertyConfig("rating", "number"),
        PropertyConfig("onboarded_on", "date"),
        PropertyConfig("internal_score", "number", read_only=True),
    ),
    associations=(CustomAssociationConfig("companies", 900, 901, "Supplier"),),
)


def preflight_config(**overrides: Any) -> SandboxConfig:
    """Sandbox settings for preflight tests (results kept in order so failures are easy to read)."""
    base = SandboxConfig(
        extra_properties=(("contacts", CONTACT_EXTRAS),),
        custom_objects=(VENDOR,),
        shuffle_results=False,
    )
    return base.replace(**overrides)


@dataclass
class Hub:
    """A sandbox and a client on it."""

    handle: SandboxHandle
    client: HubSpotClient

    def definitions(self, object_type: str) -> list[dict[str, Any]]:
        return self.client.properties(object_type)

    def writes(self) -> int:
        return int(self.handle.counters()["write_requests"])

    def send_alone(
        self, object_type: str, properties: dict[str, Any], associations: list[dict[str, Any]] | None = None
    ) -> tuple[int, set[str], Any]:
        """POST one input (no trace id) to batch/create; return status, error codes and the body.

        The codes are those of ``errors[]``, plus the category of a 409 (``CONFLICT``) and
        ``INVALID_OBJECT_IDS`` when a 400's context lists invalid association targets.
        """
        item: dict[str, Any] = {"properties": properties}
        if associations:
            item["associations"] = associations
        response = requests.post(
            f"{self.handle.base_url}/crm/v3/objects/{object_type}/batch/create",
            json={"inputs": [item]},
            headers={"Authorization": f"Bearer {self.handle.token}"},
            timeout=10,
        )
        body = response.json()
        codes = (
            {str(e.get("code")) for e in body.get("errors") or []} if response.status_code >= 400 else set()
        )
        if response.status_code == 409:
            codes.add(str(body.get("category")))
        if response.status_code == 400 and (body.get("context") or {}).get("INVALID_OBJECT_IDS"):
            codes.add("INVALID_OBJECT_IDS")
        return response.status_code, codes, body

    def create(self, object_type: str, properties: dict[str, Any]) -> str:
        """Create one record directly (not through the loader); return its id."""
        status, _codes, body = self.send_alone(object_type, properties)
        assert status == 201, body
        return str(body["results"][0]["id"])


@pytest.fixture
def hub(sandbox_factory: Callable[..., SandboxHandle]) -> Iterator[Hub]:
    handle = sandbox_factory(config=preflight_config())
    client = HubSpotClient(handle.token, base_url=handle.base_url)
    yield Hub(handle, client)
    client.close()


def wire_properties(row: pd.Series, mapping: dict[str, str]) -> dict[str, Any]:
    """The properties the loader would send for ``row``; cells it cannot format are sent raw."""
    out: dict[str, Any] = {}
    for column, prop in mapping.items():
        value = row[column]
        try:
            text = format_value(value)
        except ValueError:
            out[prop] = value if isinstance(value, str) else str(value)
            continue
        if text is not None:
            out[prop] = text
    return out
