"""When the sandbox counts a request against the 10-s window: on arrival (HubSpot's gateway) or on completion.

A slow batch create (A, 4 s of injected latency) arrives first; a fast read (B, no latency) arrives while A
is still being processed. With a budget of one request, whichever the sandbox counts first gets it.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from hubspot_loader.sandbox import FaultConfig
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


@pytest.mark.parametrize(("count_at", "slow", "fast"), [("arrival", 201, 429), ("completion", 429, 200)])
def test_the_request_counted_first_takes_the_last_slot(
    sandbox_factory: Factory, count_at: str, slow: int, fast: int
) -> None:
    sb = sandbox_factory(
        rate_limit_per_10s=1,
        rate_limit_window_ms=600_000,  # nothing ages out during the test
        rate_count_at=count_at,
        faults=FaultConfig(latency_per_input_ms=800),  # 4 s for 5 inputs, none for a read
    )
    api = Api(sb)
    answers: dict[str, requests.Response] = {}

    def send_slow() -> None:
        answers["slow"] = api.create("contacts", [contact(f"s{i}@example.com") for i in range(5)], timeout=60)

    thread = threading.Thread(target=send_slow)
    thread.start()
    deadline = time.monotonic() + 30
    while sb.counters()["requests"] < 1:  # the slow request has arrived (it is being processed now)
        assert time.monotonic() < deadline, "the slow request never arrived"
        time.sleep(0.01)
    answers["fast"] = api.get("/crm/v3/properties/contacts", timeout=60)
    thread.join(60)
    assert (answers["slow"].status_code, answers["fast"].status_code) == (slow, fast)
    admitted = answers["slow"] if slow == 201 else answers["fast"]
    assert admitted.headers["X-HubSpot-RateLimit-Remaining"] == "0"  # counted before it was answered
    assert sb.counters()["rate_limited"] == 1


def test_the_counting_point_is_an_option_with_a_checked_value(sandbox_factory: Factory) -> None:
    with pytest.raises(ValueError, match="rate_count_at"):
        sandbox_factory(rate_count_at="sometime")
