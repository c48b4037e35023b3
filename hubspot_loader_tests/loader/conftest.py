"""Fixtures for loader tests: a sandbox with the custom contact properties the test frames use."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import PropertyConfig, SandboxConfig, SandboxHandle

#: Custom contact properties (as a portal admin would create them) for the typed columns of the frames.
CONTACT_EXTRAS = (
    PropertyConfig("employee_number", "number"),
    PropertyConfig("score", "number"),
    PropertyConfig("signed_up_at", "datetime"),
    PropertyConfig("last_seen_local", "datetime"),
    PropertyConfig("birthday", "date"),
    PropertyConfig("is_vip", "bool"),
)


def loader_config(**overrides: Any) -> SandboxConfig:
    """Sandbox settings for loader tests: requestedAt on (so all three timestamps can be compared)."""
    base = SandboxConfig(include_requested_at=True, extra_properties=(("contacts", CONTACT_EXTRAS),))
    return base.replace(**overrides)


@pytest.fixture
def hub(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A fresh sandbox with the loader test properties (results shuffled, as HubSpot does)."""
    return sandbox_factory(config=loader_config())


class RecordingSession(requests.Session):
    """A real ``requests.Session`` that keeps every batch-create response body it received."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_bodies: list[dict[str, Any]] = []
        self.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.url and response.request.url.endswith("/batch/create"):
            with contextlib.suppress(ValueError):
                self.batch_bodies.append(response.json())


@pytest.fixture
def client_for() -> Iterator[Callable[..., HubSpotClient]]:
    """Build clients against a sandbox; all are closed at teardown."""
    clients: list[HubSpotClient] = []

    def build(
        handle: SandboxHandle, *, session: requests.Session | None = None, **settings: Any
    ) -> HubSpotClient:
        client = HubSpotClient(
            handle.token, base_url=handle.base_url, settings=ClientSettings(**settings), session=session
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
