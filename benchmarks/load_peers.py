"""The load benchmark's peers: what a user writes instead of our loader, on the same rows and latency.

- the official ``hubspot-api-client`` in the sequential loop of its README (batches of 100 through
  ``crm.contacts.batch_api.create``, the README's ``urllib3`` ``Retry`` recipe);
- the same calls from an 8-thread pool, with the client's response models, and without them
  (``_preload_content=False``: the answer's JSON is read as bytes and parsed with ``json``);
- one record per request behind a 9 requests/s minimum-interval limiter, the way drt does it.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import requests
from load_results import RunResult, make_result, reset_sandbox
from load_workload import BATCH_SIZE, DRT_REQUESTS_PER_S

from hubspot_loader.sandbox import FaultConfig, SandboxHandle

POOL_THREADS = 8


def user_value(value: Any) -> str | None:
    """Turn a cell into a HubSpot string the way a hand-written loop does (nulls skipped)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def user_properties(record: dict[str, Any]) -> dict[str, str]:
    """Return one record's properties as a hand-written loop builds them (:func:`user_value` per cell)."""
    return {name: text for name, value in record.items() if (text := user_value(value)) is not None}


def readme_api(sb: SandboxHandle) -> Any:
    """Return the official client pointed at the sandbox, with the README's retry recipe.

    ``Retry(total=5, backoff_factor=0.3, status_forcelist=(429, 500, 502, 504))``; like every ``urllib3``
    ``Retry`` with its default ``allowed_methods``, it does not retry a ``POST``.
    """
    from hubspot import HubSpot
    from urllib3.util.retry import Retry

    retry = Retry(total=5, backoff_factor=0.3, status_forcelist=(429, 500, 502, 504))
    return HubSpot(access_token=sb.token, host=sb.base_url, retry=retry)


def run_official(sb: SandboxHandle, df: pd.DataFrame, *, faults: FaultConfig | None = None) -> RunResult:
    """Run the sequential loop over ``hubspot-api-client`` a user writes, with the README retry recipe."""
    from hubspot.crm.contacts import (
        ApiException,
        BatchInputSimplePublicObjectBatchInputForCreate,
        SimplePublicObjectInputForCreate,
    )

    reset_sandbox(sb, faults)
    api = readme_api(sb)
    errors = 0
    start = time.monotonic()
    records = df.drop(columns=["id"]).to_dict("records")
    for offset in range(0, len(records), BATCH_SIZE):
        inputs = [
            SimplePublicObjectInputForCreate(properties=user_properties(record))
            for record in records[offset : offset + BATCH_SIZE]
        ]
        try:
            api.crm.contacts.batch_api.create(
                batch_input_simple_public_object_batch_input_for_create=(
                    BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
                )
            )
        except ApiException:
            errors += 1
    wall = time.monotonic() - start
    return make_result(
        "official",
        "hubspot-api-client 12, sequential loop, batches of 100, README Retry "
        f"(measured on a {len(df):,}-row slice)",
        sb,
        len(df),
        wall,
        failed=errors * BATCH_SIZE,
        extra={"batches_failed": errors},
    )


def run_official_pool(
    sb: SandboxHandle,
    df: pd.DataFrame,
    *,
    models: bool,
    threads: int = POOL_THREADS,
    faults: FaultConfig | None = None,
) -> RunResult:
    """Send the batches through the official client from a ``threads``-thread pool.

    One ``BatchApi`` (one ``urllib3`` connection pool, 10 connections on 2 cores) is shared by the threads,
    as a user who has read the client's code would write it. ``models=True`` is the normal call (the
    answer is parsed into response models); ``models=False`` passes ``_preload_content=False`` and parses
    the answer's JSON itself. Each batch's inputs are built in its worker thread.
    """
    from hubspot.crm.contacts import (
        ApiException,
        BatchInputSimplePublicObjectBatchInputForCreate,
        SimplePublicObjectInputForCreate,
    )

    reset_sandbox(sb, faults)
    batch_api = readme_api(sb).crm.contacts.batch_api

    def send(chunk: list[dict[str, Any]]) -> tuple[int, int]:
        inputs = [SimplePublicObjectInputForCreate(properties=user_properties(r)) for r in chunk]
        body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        try:
            if models:
                answer = batch_api.create(batch_input_simple_public_object_batch_input_for_create=body)
                return len(answer.results), 0
            raw = batch_api.create(
                batch_input_simple_public_object_batch_input_for_create=body, _preload_content=False
            )
            results = json.loads(raw.data).get("results") or []
            raw.release_conn()
            return len(results), 0
        except ApiException:
            return 0, len(chunk)

    start = time.monotonic()
    records = df.drop(columns=["id"]).to_dict("records")
    chunks = [records[i : i + BATCH_SIZE] for i in range(0, len(records), BATCH_SIZE)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(send, chunks))
    wall = time.monotonic() - start
    answer = "response models" if models else "_preload_content=False, json.loads"
    return make_result(
        "official_pool" if models else "official_pool_raw",
        f"hubspot-api-client 12, {threads}-thread pool, {answer}, README Retry "
        f"(measured on a {len(df):,}-row slice)",
        sb,
        len(df),
        wall,
        failed=sum(f for _, f in outcomes),
        extra={
            "threads": threads,
            "response_models": models,
            "created_reported": sum(c for c, _ in outcomes),
            "batches_failed": sum(1 for _, f in outcomes if f),
        },
    )


class MinIntervalLimiter:
    """At most ``per_second`` sends per second: each send waits for the previous one's slot to pass."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's slot."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def run_one_per_request(
    sb: SandboxHandle,
    df: pd.DataFrame,
    *,
    seconds: float,
    workload_rows: int,
    threads: int = 4,
    per_second: float = DRT_REQUESTS_PER_S,
    faults: FaultConfig | None = None,
) -> RunResult:
    """Send one ``POST /crm/v3/objects/contacts`` per row behind a 9/s limiter for ``seconds``."""
    reset_sandbox(sb, faults)
    limiter = MinIntervalLimiter(per_second)
    url = f"{sb.base_url}/crm/v3/objects/contacts"
    headers = {"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"}
    records = df.drop(columns=["id"]).to_dict("records")
    lock = threading.Lock()
    position = iter(range(len(records)))
    done: list[int] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                i = next(position, None)
            if i is None:
                return
            body = json.dumps({"properties": user_properties(records[i])})
            for attempt in range(3):
                limiter.wait()
                resp = session.post(url, data=body, headers=headers, timeout=30)
                if resp.status_code not in (429, 500, 502, 503, 504):
                    break
                time.sleep(float(resp.headers.get("Retry-After") or 2**attempt))
            with lock:
                done.append(resp.status_code)
        session.close()

    start = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - start
    rows = len(done)
    measured = make_result(
        "one_per_request",
        f"one record per request, {per_second:g} req/s cap, {threads} threads (drt-style); "
        f"{seconds:g} s run extrapolated to {workload_rows:,} rows",
        sb,
        rows,
        wall,
        failed=sum(1 for s in done if s != 201),
        extrapolated=True,
    )
    measured.extra = {
        "measured_rows": rows,
        "measured_wall_s": round(wall, 3),
        "extrapolated_rows": workload_rows,
        "extrapolated_wall_s": round(workload_rows / measured.rows_per_s, 1) if measured.rows_per_s else None,
    }
    return measured
