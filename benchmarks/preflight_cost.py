"""Online preflight's cost: its reads as a share of the load's write requests.

Starts the sandbox in its own process on 127.0.0.1 (no rate limit, so the figure is about requests, not
waiting), seeds a portal with existing companies, deals and contacts, then loads a frame of contacts with
an ``email`` (unique) and two association columns of record ids (companies and deals) through
``load_dataframe`` with the default online preflight. A share of the rows reuse an existing contact's
email (in another case) or point at a company or deal that does not exist. Prints the requests preflight
spent (definitions, labels and the reads of existing records), the load's write requests, the share, and
what preflight held back. Bounded: at most 200,000 rows, and ``--timeout`` seconds in all. Run:

    .venv/bin/python benchmarks/preflight_cost.py [--rows 100000] [--companies 2000] [--deals 500]
"""

from __future__ import annotations

import argparse
import random
import signal
import time
from collections import Counter
from typing import Any

import pandas as pd
import requests

from hubspot_loader.core.model import CREATED, AssociationColumn
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader.preflight_step import LOOKUP_SHARE
from hubspot_loader.sandbox import SandboxConfig, run_sandbox

MAX_ROWS = 200_000


def seed(base_url: str, token: str, object_type: str, rows: list[dict[str, str]]) -> list[str]:
    """Create ``rows`` directly (100 a request); return their ids in order."""
    ids: list[str] = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for start in range(0, len(rows), 100):
            inputs = [
                {"properties": p, "objectWriteTraceId": str(start + i)}
                for i, p in enumerate(rows[start : start + 100])
            ]
            answer = session.post(
                f"{base_url}/crm/v3/objects/{object_type}/batch/create", json={"inputs": inputs}, timeout=60
            )
            answer.raise_for_status()
            by_trace = {r["objectWriteTraceId"]: r["id"] for r in answer.json()["results"]}
            ids.extend(by_trace[str(start + i)] for i in range(len(inputs)))
    return ids


def contacts_frame(args: argparse.Namespace, companies: list[str], deals: list[str]) -> pd.DataFrame:
    """The frame: mostly good rows; ``--bad-share`` of them with a taken email or a missing target."""
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for i in range(args.rows):
        row: dict[str, Any] = {
            "id": f"c-{i}",
            "email": f"person-{i}@example.com",
            "firstname": f"First {i}",
            "company_id": rng.choice(companies),
            "deal_id": rng.choice(deals),
        }
        draw = rng.random()
        if draw < args.bad_share:
            row["email"] = f"OLD-{rng.randrange(args.existing_contacts)}@Example.com"  # taken, other case
        elif draw < 2 * args.bad_share:
            row["company_id"] = str(9 * 10**11 + rng.randrange(10**6))  # no such company
        elif draw < 3 * args.bad_share:
            row["deal_id"] = str(8 * 10**11 + rng.randrange(10**6))  # no such deal
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=2_000)
    parser.add_argument("--deals", type=int, default=500)
    parser.add_argument("--existing-contacts", type=int, default=1_000)
    parser.add_argument("--bad-share", type=float, default=0.005, help="share of rows per problem class")
    parser.add_argument("--timeout", type=int, default=1800, help="give up after this many seconds")
    args = parser.parse_args()
    if not 1 <= args.rows <= MAX_ROWS:
        parser.error(f"--rows must be from 1 to {MAX_ROWS}")
    signal.alarm(args.timeout)

    config = SandboxConfig(rate_limit_per_10s=10**9, daily_limit=10**12, search_limit_per_second=10**6)
    with run_sandbox(config, in_subprocess=True) as sb:
        url, token = sb.base_url, sb.token
        companies = seed(url, token, "companies", [{"name": f"Co {i}"} for i in range(args.companies)])
        deals = seed(url, token, "deals", [{"dealname": f"Deal {i}"} for i in range(args.deals)])
        old = [{"email": f"old-{i}@example.com"} for i in range(args.existing_contacts)]
        seed(sb.base_url, sb.token, "contacts", old)
        df = contacts_frame(args, companies, deals)
        spec = HubSpotLoadSpec(
            object_type="contacts",
            key_column="id",
            properties={"email": "email", "firstname": "firstname"},
            associations=[
                AssociationColumn("company_id", "companies"),
                AssociationColumn("deal_id", "deals"),
            ],
        )
        settings = ClientSettings(requests_per_10s=10**6, max_in_flight=4)
        with HubSpotClient(sb.token, base_url=sb.base_url, settings=settings) as client:
            started = time.perf_counter()
            result = load_dataframe(df, spec, client=client)
            elapsed = time.perf_counter() - started
    report = result.preflight
    assert report is not None
    cost, writes = report.cost, result.requests
    held = Counter(r.error.code for r in result.rows if r.error is not None)
    print(
        f"rows: {len(df):,}  existing: {args.companies:,} companies, {args.deals:,} deals, "
        f"{args.existing_contacts:,} contacts"
    )
    print(f"load: {result.count(CREATED):,} created, failed by code {dict(held)}, {elapsed:.1f} s")
    print(f"write requests: {writes:,}")
    print(
        f"preflight requests: {cost.requests:,} (reads of existing records: {cost.lookup_requests:,}, "
        f"budget {cost.lookup_budget:,}; definitions and labels: {cost.requests - cost.lookup_requests:,})"
    )
    print(
        f"preflight seconds: {cost.seconds:.2f} (reads {cost.lookup_seconds:.2f}); "
        f"unchecked rows: {cost.unchecked_rows:,}"
    )
    print(
        f"reads / writes: {cost.lookup_requests / max(writes, 1):.2%}; all preflight requests / writes: "
        f"{cost.requests / max(writes, 1):.2%} (bound: {LOOKUP_SHARE:.0%})"
    )


if __name__ == "__main__":
    main()
