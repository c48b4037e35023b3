"""A child of the rate budget tests: ``python -m hubspot_loader_tests.state.rate_budget_worker CMD ...``.

Each command waits for a ``go`` line on stdin (so that several children start together), runs, and prints
one JSON object on stdout:

``acquire STATE_URL TOKEN LIMIT WINDOW_S COUNT``
    take ``COUNT`` slots of the token's shared window (sleeping the waits it says): ``{"stamps": [...]}``,
    the database-clock stamps of the grants.
``load STATE_URL TOKEN BASE_URL ROWS TAG``
    create ``ROWS`` companies named ``TAG-i`` through ``HubSpotClient.batch_create`` (batches of 10, 3 in
    flight) with a limiter sharing the token's window (``STATE_URL`` ``-``: no shared window):
    ``{"created": n, "failed": n, "requests": n, "refusals": n}``.
"""

from __future__ import annotations

import json
import sys
import time

from hubspot_loader.state.rate_budget import SharedRateWindow


def _acquire(state_url: str, token: str, limit: int, window_s: float, count: int) -> dict[str, object]:
    stamps: list[float] = []
    with SharedRateWindow.for_state(state_url, token) as window:
        sys.stdin.readline()
        while len(stamps) < count:
            slot, wait, stamp = window.acquire_stamped(limit, window_s)
            if slot is None:
                time.sleep(max(wait, 0.001))  # the wait the window asked for (pacing, not synchronization)
            else:
                stamps.append(stamp)
    return {"stamps": stamps}


def _load(state_url: str, token: str, base_url: str, rows: int, tag: str) -> dict[str, object]:
    from hubspot_loader.core.model import CREATED, PreparedInput  # imported here: ``acquire`` starts sooner
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.http.ratelimit import RateLimiter
    from hubspot_loader.http.settings import ClientSettings

    window = None if state_url == "-" else SharedRateWindow.for_state(state_url, token)
    limiter = RateLimiter(learn=True, shared=window)
    settings = ClientSettings(max_in_flight=3, batch_size=10)
    inputs = [
        PreparedInput(position=i, key=f"{tag}-{i}", trace_id=f"{tag}-{i}", properties={"name": f"{tag}-{i}"})
        for i in range(rows)
    ]
    created = failed = 0
    sys.stdin.readline()
    try:
        with HubSpotClient(token, base_url=base_url, settings=settings, rate_limiter=limiter) as client:
            for outcome in client.batch_create("companies", inputs):
                for row in outcome.rows:
                    if row.status == CREATED:
                        created += 1
                    else:
                        failed += 1
            requests = client.requests_sent
    finally:
        if window is not None:
            window.close()
    return {"created": created, "failed": failed, "requests": requests, "refusals": limiter.shared_refusals}


def main(argv: list[str]) -> int:
    """Run one command (module docstring) and print its JSON result."""
    command, args = argv[0], argv[1:]
    if command == "acquire":
        result = _acquire(args[0], args[1], int(args[2]), float(args[3]), int(args[4]))
    elif command == "load":
        result = _load(args[0], args[1], args[2], int(args[3]), args[4])
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
