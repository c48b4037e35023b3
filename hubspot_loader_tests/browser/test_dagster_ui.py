"""Issue #5, "Dagster UI, checked in a real browser", and issue #12, "Metadata a person can read in the UI".

``dagster dev -w workspace.yaml`` runs against a local sandbox; headless Chromium opens the job
``warehouse_to_hubspot`` and clicks "Materialize all" (dbt models → companies → contacts → deals). Once
the run has succeeded, the asset page of ``hubspot/contacts``, in a window 1600 px wide, must show:

- the ``hubspot/started_at`` and ``hubspot/completed_at`` timestamps, rendered as dates;
- the per-batch table ``hubspot/batches_table``, narrow enough that every column is on screen, and the
  batch times ``hubspot/batch_times`` (``timestamp`` columns in HubSpot's ISO 8601 UTC form), on screen
  too (every other detail is the JSON ``hubspot/batch_details``);
- the link ``hubspot/portal_url`` to the contacts list in the sandbox's portal (built from one
  account-info read for the whole run, although its three loads run in separate processes);
- ``hubspot/failed_rows_file``, the path of the CSV holding every failed row (the warehouse's 10
  invalid emails), which exists in the instance's storage.

A full-page screenshot goes to ``test-output/browser/`` and to the test's ``tmp_path``.

Dagster's GraphQL API is only read (to know when the run ends and what the page should show); the run
is launched by the click. Every wait is on a selector or on the run's status, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import csv
import re
import shutil
import time
import urllib.error
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hubspot_loader.sandbox import SandboxHandle

from .conftest import SCREENSHOT_DIR, DagsterDev

#: Hang guards only (a loaded 2-core machine is just slower): dagster dev start + run + page checks.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(1500)]

JOB_PATH = "/locations/hubspot_loader_example/jobs/warehouse_to_hubspot"
ASSET_PATH = "/assets/hubspot/contacts"
SCREENSHOT_NAME = "dagster_ui_hubspot_contacts.png"
FAILURE_SCREENSHOT_NAME = "dagster_ui_failure.png"
RUN_TIMEOUT_S = 600.0
UI_TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1600, "height": 1000}  # the batches table must read at this width
BATCH_COLUMNS = ["batch", "endpoint", "rows", "status", "written", "failed", "seconds"]  # contacts upsert
TIME_COLUMNS = ["batch", "started_at", "completed_at"]
LAUNCHED = re.compile(r"Launched run ([0-9a-f]{8})")
HUBSPOT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")  # 2026-11-29T03:33:07.123Z
ACCOUNT_ROUTE = "GET account-info/details"

RUNS_QUERY = """
{ runsOrError { ... on Runs { results { runId status jobName creationTime startTime endTime
    stepStats { stepKey startTime endTime } } } } }
"""
RUN_ERRORS_QUERY = """
query ($runId: ID!) { logsForRun(runId: $runId, limit: 1000) { ... on EventConnection { events {
    __typename
    ... on MessageEvent { message level stepKey }
    ... on ExecutionStepFailureEvent { error { message } }
} } } }
"""
MATERIALIZATION_QUERY = """
{ assetOrError(assetKey: {path: ["hubspot", "contacts"]}) { ... on Asset {
    assetMaterializations(limit: 1) { runId metadataEntries {
        label
        ... on TimestampMetadataEntry { timestamp }
        ... on IntMetadataEntry { intValue }
        ... on UrlMetadataEntry { url }
        ... on PathMetadataEntry { path }
    } }
} } }
"""


def _runs(dev: DagsterDev) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = dev.graphql(RUNS_QUERY)["runsOrError"]["results"]
    return runs


def _wait_for_run(dev: DagsterDev, short_id: str) -> dict[str, Any]:
    """Poll until the run whose id starts with ``short_id`` ends; return it."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    run: dict[str, Any] | None = None
    unanswered: Exception | None = None
    while time.monotonic() < deadline:
        if dev.process.poll() is not None:
            code = dev.process.returncode
            raise AssertionError(f"dagster dev exited ({code}) during the run:\n{dev.log_tail()}")
        try:
            matching = [r for r in _runs(dev) if r["runId"].startswith(short_id)]
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            unanswered = exc  # a busy webserver on a loaded machine: ask again while it runs
            matching = []
        if matching:
            run = matching[0]
            if run["status"] in {"SUCCESS", "FAILURE", "CANCELED"}:
                return run
        time.sleep(1.0)  # poll interval
    raise AssertionError(
        f"run {short_id} did not finish in {RUN_TIMEOUT_S:.0f}s (last seen: {run}; last unanswered "
        f"query: {unanswered!r}):\n{dev.log_tail()}"
    )


def _run_errors(dev: DagsterDev, run_id: str) -> str:
    events = dev.graphql(RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"].get("events", [])
    lines = []
    for event in events:
        error = (event.get("error") or {}).get("message")
        if error or event.get("level") == "ERROR":
            lines.append(f"[{event.get('stepKey')}] {event.get('message')} {error or ''}".strip())
    return "\n".join(lines[-20:]) or "(no error events)"


def _clock_pattern(timestamp: float) -> re.Pattern[str]:
    """How the UI (en-US, UTC) shows a timestamp metadata value: ``Nov 29, 3:33:07 AM UTC``."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    text = f"{moment:%b} {moment.day}, {hour}:{moment:%M:%S}"
    return re.compile(re.escape(text) + r"\s" + meridiem + r"\s+UTC")


def _full_page_screenshot(page: Any, tmp_path: Path) -> tuple[Path, Path]:
    """Screenshot the whole asset page to ``tmp_path`` and ``test-output/browser/``.

    Dagster's UI scrolls inside a container, not the document, so the viewport is first stretched to
    the tallest scrollable element to get everything into one image.
    """
    height = page.evaluate(
        "Math.max(document.documentElement.scrollHeight,"
        " ...Array.from(document.querySelectorAll('*'), e => e.scrollHeight))"
    )
    stretched = min(int(height) + 40, 12000)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": stretched})
    # The layout at the new size is painted: the window has the height, and two frames have been drawn.
    page.wait_for_function("h => window.innerHeight === h", arg=stretched)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    local = tmp_path / SCREENSHOT_NAME
    page.screenshot(path=str(local), full_page=True)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    kept = SCREENSHOT_DIR / SCREENSHOT_NAME
    shutil.copyfile(local, kept)
    return local, kept


def _failure_screenshot(page: Any) -> None:
    """Keep what the browser shows in ``test-output/browser/`` (never masks the original failure)."""
    with contextlib.suppress(Exception):
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / FAILURE_SCREENSHOT_NAME), full_page=True)


def test_materialize_from_the_ui_and_see_hubspot_metadata(
    chromium_executable: str, dagster_dev: DagsterDev, ui_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert _runs(dagster_dev) == [], "a fresh instance must have no runs: the run has to come from the click"
    started = time.monotonic()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True)
        page = None
        try:
            context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-US")
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            # Dagster's "Join the Dagster community" dialog appears on a new browser profile; skip it.
            page.add_locator_handler(
                page.get_by_role("button", name="Skip", exact=True), lambda skip: skip.click()
            )

            # 1. Launch the job's materialization with a click.
            page.goto(dagster_dev.base_url + JOB_PATH)
            materialize_all = page.get_by_role("button", name=re.compile(r"\bMaterialize all$"))
            expect(materialize_all).to_be_enabled(timeout=UI_TIMEOUT_MS)
            materialize_all.click()
            launched = page.get_by_text(LAUNCHED).first
            expect(launched).to_be_visible(timeout=UI_TIMEOUT_MS)
            short_id = LAUNCHED.search(launched.inner_text())
            assert short_id is not None, launched.inner_text()
            run = _wait_for_run(dagster_dev, short_id.group(1))
            ran_s = time.monotonic() - started
            if run["status"] != "SUCCESS":
                page.goto(f"{dagster_dev.base_url}/runs/{run['runId']}")
                with contextlib.suppress(Exception):  # the screenshot is a diagnosis, never the failure
                    page.get_by_text(run["status"], exact=False).first.wait_for(timeout=30_000)
                _failure_screenshot(page)
                pytest.fail(
                    f"run {run['runId']} ended {run['status']} after {ran_s:.0f}s "
                    f"(screenshot of its run page: {SCREENSHOT_DIR / FAILURE_SCREENSHOT_NAME}):\n"
                    f"{_run_errors(dagster_dev, run['runId'])}\n--- dagster dev log ---\n"
                    f"{dagster_dev.log_tail()}"
                )
            assert run["jobName"] == "warehouse_to_hubspot"

            # What the page should show: the latest materialization of hubspot/contacts, from this run.
            materialization = dagster_dev.graphql(MATERIALIZATION_QUERY)["assetOrError"][
                "assetMaterializations"
            ][0]
            assert materialization["runId"] == run["runId"]
            entries = {e["label"]: e for e in materialization["metadataEntries"]}
            created = ui_sandbox.counts()["contacts"]
            assert entries["hubspot/rows_created"]["intValue"] == created > 0, "loaded into another target?"

            # 2. The asset page of hubspot/contacts.
            page.goto(dagster_dev.base_url + ASSET_PATH)
            batches_key = page.get_by_text("hubspot/batches_table", exact=True)
            expect(batches_key).to_be_visible(timeout=UI_TIMEOUT_MS)
            expect(page.get_by_text("Join the Dagster community")).to_have_count(0)
            local, kept = _full_page_screenshot(page, tmp_path)
            where = f"screenshot: {kept} (and {local})"

            for key in ("hubspot/started_at", "hubspot/completed_at"):
                label = page.get_by_text(key, exact=True)
                expect(label, where).to_be_visible()
                row = page.locator("tr").filter(has=label)
                expect(row, where).to_have_count(1)
                expect(row, f"{key} value; {where}").to_contain_text(
                    _clock_pattern(entries[key]["timestamp"])
                )

            _check_batches_table(page, entries, created, where)
            _check_portal_link(page, entries, ui_sandbox, where)
            _check_failed_rows_file(page, entries, dagster_dev, run["runId"], where)
            # One account-info read served the run's three loads, each in its own step process.
            assert ui_sandbox.counters()["by_route"][ACCOUNT_ROUTE] == 1, where
        except Exception:
            if page is not None:  # whatever the browser showed when it went wrong
                _failure_screenshot(page)
            raise
        finally:
            browser.close()

    print(f"\n{_timings(run)}; run ended {ran_s:.0f}s after the browser started; {where}")


def _metadata_row(page: Any, key: str) -> Any:
    """The row of the asset page's metadata table whose label is ``key`` (asserted to be there once)."""
    from playwright.sync_api import expect

    label = page.get_by_text(key, exact=True)
    row = page.locator("tr").filter(has=label)
    expect(row).to_have_count(1)
    return row


def _narrow_table(page: Any, key: str, columns: list[str], rows: int, where: str) -> list[dict[str, str]]:
    """Check that the table ``key`` has ``columns``, all wholly on screen at 1600 px; return its cells."""
    from playwright.sync_api import expect

    table = _metadata_row(page, key).locator("table")
    expect(table, where).to_be_visible()
    headers = table.locator("thead th")
    expect(headers, where).to_have_text(columns)
    for column in columns:  # neither clipped off the page nor by the metadata panel
        expect(headers.filter(has_text=column).first, f"{key} {column}; {where}").to_be_in_viewport(ratio=1)
    box = table.bounding_box()
    assert box is not None and box["x"] + box["width"] <= VIEWPORT["width"], (key, box, where)
    body_rows = table.locator("tbody tr")
    expect(body_rows, where).to_have_count(rows)
    return [dict(zip(columns, r.locator("td").all_inner_texts(), strict=True)) for r in body_rows.all()]


def _check_batches_table(page: Any, entries: dict[str, Any], created: int, where: str) -> None:
    """Few columns, every one on screen at 1600 px; the batch times in their own table, HubSpot's UTC form."""
    from playwright.sync_api import expect

    batches = entries["hubspot/batches"]["intValue"]
    cells = _narrow_table(page, "hubspot/batches_table", BATCH_COLUMNS, batches, where)
    assert all(c["status"] == "COMPLETE" for c in cells), (cells, where)
    assert sum(int(c["written"]) for c in cells if c["endpoint"] == "create") == created, where
    times = _narrow_table(page, "hubspot/batch_times", TIME_COLUMNS, batches, where)
    assert [t["batch"] for t in times] == [c["batch"] for c in cells], where
    started = entries["hubspot/started_at"]["timestamp"]
    completed = entries["hubspot/completed_at"]["timestamp"]
    for record in times:
        assert HUBSPOT_TIME.match(record["started_at"]) and HUBSPOT_TIME.match(record["completed_at"]), record
        begin, end = (_instant(record[c]) for c in ("started_at", "completed_at"))
        assert started - 0.001 <= begin <= end <= completed + 0.001, (record, started, completed, where)
    expect(_metadata_row(page, "hubspot/batch_details"), where).to_contain_text("[Show JSON]")


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _check_portal_link(page: Any, entries: dict[str, Any], sandbox: SandboxHandle, where: str) -> None:
    """``hubspot/portal_url`` links to the contacts list of the portal the sandbox says it is."""
    from playwright.sync_api import expect

    config = sandbox.config
    expected = f"https://{config.ui_domain}/contacts/{config.portal_id}/objects/0-1"
    assert entries["hubspot/portal_url"]["url"] == expected, where
    link = _metadata_row(page, "hubspot/portal_url").get_by_role("link", name=expected)
    expect(link, where).to_be_visible()
    expect(link, where).to_have_attribute("href", expected)


def _check_failed_rows_file(
    page: Any, entries: dict[str, Any], dev: DagsterDev, run_id: str, where: str
) -> None:
    """The path shown is the CSV in the instance's storage, and it holds every failed row."""
    from playwright.sync_api import expect

    path = Path(entries["hubspot/failed_rows_file"]["path"])
    storage = (dev.dagster_home / "storage" / "hubspot_loader").resolve()
    assert path == storage / run_id / "hubspot" / "contacts" / "failed_rows.csv", (path, where)
    expect(_metadata_row(page, "hubspot/failed_rows_file"), where).to_contain_text(str(path))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == entries["hubspot/rows_failed"]["intValue"] > 0, where
    assert {r["code"] for r in rows} == {"INVALID_EMAIL"}, where


def _timings(run: dict[str, Any]) -> str:
    """Where the run's time went, relative to its creation (for keeping the test inside its budget)."""
    created = run["creationTime"]
    steps = ", ".join(
        f"{s['stepKey']} {s['startTime'] - created:.0f}-{s['endTime'] - created:.0f}s"
        for s in sorted(run["stepStats"], key=lambda s: s["startTime"] or 0)
        if s["startTime"] and s["endTime"]
    )
    start, end = run["startTime"] - created, run["endTime"] - created
    return f"run started {start:.0f}s after creation, ended after {end:.0f}s ({steps})"
