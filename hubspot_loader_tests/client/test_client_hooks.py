"""Client hooks the ledger relies on: before_send, find_by_unique, and transport safety settings."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from hubspot_loader.core.model import CREATED, PreparedInput
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings

from .conftest import FAST_RETRY, contacts, rows_of, stored_emails


def client_for(sandbox: Any, *, session: requests.Session | None = None, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    return HubSpotClient(
        sandbox.token, base_url=sandbox.base_url, settings=ClientSettings(**settings), session=session
    )


def _creates(sandbox: Any) -> int:
    return int(sandbox.counters()["by_route"].get("POST batch/create", 0))


def test_before_send_sees_each_batch_before_its_first_request(sandbox: Any) -> None:
    seen: list[tuple[int, list[str], int, int, str]] = []

    def before_send(index: int, rows: list[PreparedInput]) -> None:
        stored = stored_emails(sandbox)
        present = sum(1 for r in rows if r.properties["email"] in stored)
        seen.append(
            (index, [r.key for r in rows], _creates(sandbox), present, threading.current_thread().name)
        )

    inputs = contacts(25, "hook")
    with client_for(sandbox, max_in_flight=1, batch_size=10) as client:
        outcomes = list(client.batch_create("contacts", inputs, before_send=before_send))
    assert [s[0] for s in seen] == [0, 1, 2]
    assert [s[1] for s in seen] == [[r.key for r in inputs[i : i + 10]] for i in (0, 10, 20)]
    assert [s[2] for s in seen] == [0, 1, 2]  # called before the batch's request reached HubSpot
    assert all(s[3] == 0 for s in seen)  # none of the batch's rows existed yet
    assert all(s[4].startswith("hubspot-batch") for s in seen)  # in the worker thread
    assert {r.status for r in rows_of(outcomes)} == {CREATED}


def test_a_failing_before_send_stops_the_load_before_anything_is_sent(sandbox: Any) -> None:
    def before_send(index: int, rows: list[PreparedInput]) -> None:
        raise OSError("disk full")

    with client_for(sandbox) as client, pytest.raises(OSError, match="disk full"):
        list(client.batch_create("contacts", contacts(30, "nohook"), before_send=before_send))
    assert _creates(sandbox) == 0 and sandbox.counts().get("contacts", 0) == 0


def test_find_by_unique_is_case_insensitive_and_skips_blanks(sandbox: Any) -> None:
    with client_for(sandbox) as client:
        outcomes = list(client.batch_create("contacts", contacts(3, "Find")))
        ids = {r.key: r.hubspot_id for r in rows_of(outcomes)}
        found = client.find_by_unique(
            "contacts", "email", ["FIND-0@example.com", " find-2@example.com ", "", "x@y.io"]
        )
    assert found == {"find-0@example.com": ids["k0"], "find-2@example.com": ids["k2"]}


class _KwargsSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.kwargs: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.kwargs.append(kwargs)
        return super().request(method, url, *args, **kwargs)


def test_tls_verification_is_on_and_redirects_are_not_followed(sandbox: Any) -> None:
    session = _KwargsSession()
    with client_for(sandbox, session=session) as client:
        list(client.batch_create("contacts", contacts(2, "tls")))
        client.properties("contacts")
    assert session.kwargs and all(
        k["verify"] is True and k["allow_redirects"] is False for k in session.kwargs
    )
    session.close()


def test_token_fingerprint_identifies_the_token_without_revealing_it() -> None:
    a = HubSpotClient("pat-na1-aaaa-secret", base_url="https://api.hubapi.com")
    b = HubSpotClient("pat-na1-bbbb-secret", base_url="https://api.hubapi.com")
    assert len(a.token_fingerprint) == 12 and a.token_fingerprint != b.token_fingerprint
    assert "secret" not in a.token_fingerprint and "secret" not in repr(a)
    a.close()
    b.close()
