"""Rate limiting (rolling window, daily, headers, 429 bodies) and seeded fault injection."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from hubspot_loader.sandbox import FaultConfig, TokenConfig
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


def test_rate_limit_headers_and_rolling_window(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(rate_limit_per_10s=5, rate_limit_window_ms=1000, daily_limit=1000)
    api = Api(sb)
    remaining = []
    for i in range(5):
        resp = api.create("contacts", [contact(f"u{i}@example.com")])
        assert resp.status_code == 201
        assert resp.headers["X-HubSpot-RateLimit-Max"] == "5"
        assert resp.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1000"
        assert resp.headers["X-HubSpot-RateLimit-Daily"] == "1000"
        remaining.append(int(resp.headers["X-HubSpot-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    limited = api.create("contacts", [contact("late@example.com")])
    assert limited.status_code == 429
    body = limited.json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["correlationId"] == limited.headers["X-HubSpot-Correlation-Id"]
    assert "Retry-After" not in limited.headers
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert sb.counts()["contacts"] == 5
    # rejected requests consume no budget: the window frees up one second after the first five
    time.sleep(1.05)
    assert api.create("contacts", [contact("after@example.com")]).status_code == 201
    counters = sb.counters()
    assert counters["by_status"]["429"] == 1 and counters["rate_limited"] == 1


def test_window_is_per_token(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(tokens=(TokenConfig("one"), TokenConfig("two")), rate_limit_per_10s=2)
    for _ in range(2):
        assert Api(sb, "one").get("/crm/v3/properties/contacts").status_code == 200
    assert Api(sb, "one").get("/crm/v3/properties/contacts").status_code == 429
    assert Api(sb, "two").get("/crm/v3/properties/contacts").status_code == 200


def test_daily_limit_and_retry_after_option(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(daily_limit=2, retry_after_seconds=3)
    api = Api(sb)
    assert api.get("/crm/v3/properties/contacts").headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
    assert api.get("/crm/v3/properties/contacts").status_code == 200
    resp = api.get("/crm/v3/properties/contacts")
    assert resp.status_code == 429
    assert (
        resp.json()["policyName"] == "DAILY"
        and resp.json()["message"] == "You have reached your daily limit."
    )
    assert resp.headers["Retry-After"] == "3"


def test_oauth_tokens_get_no_daily_headers_and_integration_source(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(tokens=(TokenConfig("oauth-token", kind="oauth"),))
    resp = Api(sb).create("contacts", [contact("a@example.com")])
    assert "X-HubSpot-RateLimit-Max" in resp.headers
    assert "X-HubSpot-RateLimit-Daily" not in resp.headers
    assert resp.json()["results"][0]["properties"]["hs_object_source"] == "INTEGRATION"


def test_search_has_its_own_per_second_limit(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(search_limit_per_second=2)
    api = Api(sb)
    path = "/crm/v3/objects/contacts/search"
    assert [api.post(path, {}).status_code for _ in range(3)] == [200, 200, 429]
    assert api.post(path, {}).json()["policyName"] == "SECONDLY"


def test_injected_server_errors_commit_nothing(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(error_rate=1.0, error_statuses=(503,)))
    api = Api(sb)
    resp = api.create("contacts", [contact("a@example.com")])
    assert resp.status_code == 503 and resp.json()["status"] == "error"
    assert api.get("/crm/v3/properties/contacts").status_code == 200  # reads untouched (writes_only)
    assert sb.counts()["contacts"] == 0
    counters = sb.counters()
    assert counters["faults"] == {"status_503": 1} and counters["write_requests"] == 1


def test_rate_limit_burst(sandbox_factory: Factory) -> None:
    sb = sandbox_factory()
    sb.set_faults(FaultConfig(rate_limit_burst_rate=1.0, rate_limit_burst_length=2))
    api = Api(sb)
    statuses = [api.create("contacts", [contact(f"u{i}@example.com")]).status_code for i in range(2)]
    assert statuses == [429, 429]
    sb.set_faults(FaultConfig())
    assert api.create("contacts", [contact("ok@example.com")]).status_code == 201
    assert sb.counts()["contacts"] == 1


def test_reset_before_processing_creates_nothing(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(reset_before_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        Api(sb).create("contacts", [contact("a@example.com")])
    assert sb.counts()["contacts"] == 0
    assert sb.counters()["faults"] == {"reset": 1}


def test_drop_after_commit_creates_but_client_sees_connection_error(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(drop_after_commit_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        Api(sb).create("contacts", [contact("a@example.com"), contact("b@example.com")])
    assert sb.counts()["contacts"] == 2
    assert sb.counters()["faults"] == {"drop": 1}
    # the retry is the classic duplicate: whole-batch 409
    sb.set_faults(FaultConfig())
    assert Api(sb).create("contacts", [contact("a@example.com")]).status_code == 409


def test_hang_after_commit_times_out_the_client_and_is_bounded(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(hang_after_commit_rate=1.0, hang_seconds=5.0))
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        Api(sb).create("contacts", [contact("a@example.com")], timeout=1.0)
    assert time.monotonic() - started < 5.0  # the client's timeout, not the hang, ended the call
    assert sb.counts()["contacts"] == 1
    # a patient client sees the connection closed after hang_seconds (bounded, not forever)
    second = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        Api(sb).create("contacts", [contact("b@example.com")], timeout=30)
    assert 4.9 < time.monotonic() - second < 30


def test_shutdown_does_not_wait_for_hung_handlers(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(hang_after_commit_rate=1.0, hang_seconds=60))
    errors: list[Exception] = []

    def call() -> None:
        try:
            Api(sb).create("contacts", [contact("a@example.com")], timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 60
    while sb.counters()["faults"].get("hang", 0) < 1:  # the handler is hanging now
        assert time.monotonic() < deadline, "the request never reached the hang"
        time.sleep(0.02)
    started = time.monotonic()
    sb.stop()
    assert time.monotonic() - started < 30  # far below hang_seconds=60: shutdown did not wait
    thread.join(5)
    assert not thread.is_alive() and errors


def test_latency_fixed_and_per_input(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(faults=FaultConfig(latency_ms=150, latency_per_input_ms=20))
    api = Api(sb)
    started = time.monotonic()
    assert api.create("contacts", [contact(f"u{i}@example.com") for i in range(5)]).status_code == 201
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    assert api.get("/crm/v3/properties/contacts").status_code == 200
    assert 0.15 <= time.monotonic() - started < 30  # lower bound is the point; upper only a hang guard


def test_faults_are_seeded_and_deterministic(sandbox_factory: Factory) -> None:
    def run(seed: int) -> list[int]:
        sb = sandbox_factory(faults=FaultConfig(error_rate=0.3, rate_limit_burst_rate=0.2, seed=seed))
        api = Api(sb)
        return [api.create("contacts", [contact(f"u{i}@example.com")]).status_code for i in range(25)]

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert first != other
    assert {201, 429} <= set(first) and set(first) - {201, 429}


def test_faults_settable_over_http(sandbox_factory: Factory) -> None:
    sb = sandbox_factory()
    url = f"{sb.base_url}/__sandbox__/faults"
    resp = requests.put(url, json={"error_rate": 1.0, "error_statuses": [502]}, timeout=5)
    assert resp.status_code == 200 and resp.json()["error_rate"] == 1.0
    assert sb.faults().error_statuses == (502,)
    assert Api(sb).create("contacts", [contact("a@example.com")]).status_code == 502
    assert requests.put(url, json={"bogus": 1}, timeout=5).status_code == 400
    sb.reset()
    assert sb.faults() == FaultConfig()
