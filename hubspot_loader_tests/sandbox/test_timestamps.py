"""The sandbox's ISO 8601 timestamps keep four-digit years (glibc's %Y does not pad years below 1000)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hubspot_loader.sandbox import PropertyConfig
from hubspot_loader.sandbox.validation import format_ms
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(1, 1, 1, tzinfo=timezone.utc), "0001-01-01T00:00:00.000Z"),
        (datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc), "0999-12-31T23:59:59.999Z"),
        (datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc), "1969-12-31T23:59:59.999Z"),
        (datetime(2026, 6, 24, 19, 4, 33, 409000, tzinfo=timezone.utc), "2026-06-24T19:04:33.409Z"),
    ],
)
def test_format_ms_pads_the_year(moment: datetime, text: str) -> None:
    ms = int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000)
    assert format_ms(ms) == text


def test_an_early_datetime_is_stored_with_a_four_digit_year(sandbox_factory: Factory) -> None:
    extra = (("contacts", (PropertyConfig(name="signed_up_at", type="datetime"),)),)
    sb = sandbox_factory(extra_properties=extra)
    resp = Api(sb).create("contacts", [contact("early@example.com", signed_up_at="0001-01-01T00:00:00Z")])
    assert resp.status_code == 201, resp.text
    assert resp.json()["results"][0]["properties"]["signed_up_at"] == "0001-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "sent", ["2038-06-13T14:51:45.081Z", "2020-01-01T00:00:26.372Z", "1654-03-01T12:00:00.999Z"]
)
def test_a_datetime_is_stored_to_the_exact_millisecond(sandbox_factory: Factory, sent: str) -> None:
    """Milliseconds come from integer arithmetic: ``timestamp() * 1000`` loses one on some instants."""
    extra = (("contacts", (PropertyConfig(name="seen_at", type="datetime"),)),)
    sb = sandbox_factory(extra_properties=extra)
    resp = Api(sb).create("contacts", [contact("exact@example.com", seen_at=sent)])
    assert resp.status_code == 201, resp.text
    assert resp.json()["results"][0]["properties"]["seen_at"] == sent
