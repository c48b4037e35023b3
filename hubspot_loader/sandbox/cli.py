"""``hubspot-loader sandbox``: run the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from hubspot_loader.sandbox.config import FaultConfig, SandboxConfig, TokenConfig


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (also used for ``--help``)."""
    p = argparse.ArgumentParser(
        prog="hubspot-loader sandbox",
        description="Run a local HubSpot CRM API sandbox in the foreground until Ctrl-C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (0 = any free port; default 8765)")
    p.add_argument(
        "--db", metavar="PATH", help="persist objects, associations and counters in this SQLite file"
    )
    p.add_argument("--config", metavar="FILE", help="JSON file with SandboxConfig fields (flags override it)")
    p.add_argument("--config-json", help=argparse.SUPPRESS)
    p.add_argument(
        "--token",
        action="append",
        metavar="TOKEN[:SCOPE,SCOPE...]",
        help="accepted access token, optionally with scopes (repeatable; default: sandbox-token with "
        "all scopes)",
    )
    p.add_argument("--portal-id", type=int)
    p.add_argument(
        "--ui-domain",
        metavar="HOST",
        help="uiDomain of account-info and the host of record urls (app.hubspot.com)",
    )
    p.add_argument(
        "--rate-limit", type=int, metavar="N", help="requests per rolling 10 s per token (default 190)"
    )
    p.add_argument(
        "--rate-count-at",
        choices=("arrival", "completion"),
        help="when a request counts against the 10-s window: on arrival, before the injected latency "
        "(default, HubSpot's gateway), or on completion, after it",
    )
    p.add_argument(
        "--daily-limit", type=int, metavar="N", help="requests per day per account (default 625000)"
    )
    p.add_argument(
        "--retry-after", type=int, metavar="SECONDS", help="send Retry-After on 429 (default: not sent)"
    )
    p.add_argument("--keep-order", action="store_true", help="do not shuffle batch results")
    p.add_argument("--no-trace-echo", action="store_true", help="do not echo objectWriteTraceId on results")
    p.add_argument(
        "--no-requested-at",
        action="store_true",
        help="omit requestedAt from batch responses, as HubSpot's recorded answers do (default: included)",
    )
    p.add_argument(
        "--conflicts-as-207",
        action="store_true",
        help="with trace ids, report duplicate unique values per input (207) instead of a 409",
    )
    p.add_argument(
        "--invalid-associations-as-207",
        action="store_true",
        help="with trace ids, report invalid associations per input (207) instead of a 400",
    )
    p.add_argument("--max-batch-inputs", type=int, metavar="N", help="default 100")
    p.add_argument("--seed", type=int, help="seed for result shuffling")
    _add_fault_arguments(p)
    p.add_argument("--verbose", action="store_true", help="log every request")
    return p


def _add_fault_arguments(p: argparse.ArgumentParser) -> None:
    """Add the fault-injection and batch-status flags (``FaultConfig`` fields)."""
    faults = p.add_argument_group("fault injection (seeded; also settable at /__sandbox__/faults)")
    faults.add_argument("--latency-ms", type=float)
    faults.add_argument("--jitter-ms", type=float)
    faults.add_argument("--latency-per-input-ms", type=float)
    faults.add_argument("--error-rate", type=float, help="probability of a 500/502/503/504")
    faults.add_argument("--rate-limit-burst-rate", type=float, help="probability of starting a 429 burst")
    faults.add_argument("--rate-limit-burst-length", type=int)
    faults.add_argument(
        "--reset-rate", type=float, help="probability of resetting the connection before processing"
    )
    faults.add_argument(
        "--drop-after-commit-rate",
        type=float,
        help="probability of committing a write and then dropping the connection",
    )
    faults.add_argument(
        "--hang-after-commit-rate",
        type=float,
        help="probability of committing a write and then hanging --hang-seconds",
    )
    faults.add_argument("--hang-seconds", type=float)
    faults.add_argument(
        "--faults-on-reads", action="store_true", help="also inject faults into read requests"
    )
    faults.add_argument("--fault-seed", type=int)
    statuses = p.add_argument_group("batch-create answers whose status is not COMPLETE (docs/sandbox.md)")
    statuses.add_argument(
        "--status-sequence",
        metavar="S,S,...",
        help="statuses of the first batch creates, e.g. PENDING,COMPLETE,CANCELED",
    )
    statuses.add_argument("--canceled-rate", type=float, help="probability of a CANCELED answer")
    statuses.add_argument("--pending-rate", type=float, help="probability of a PENDING answer")
    statuses.add_argument("--processing-rate", type=float, help="probability of a PROCESSING answer")
    statuses.add_argument(
        "--incomplete-listed-share",
        type=float,
        help="share of the valid inputs listed in such an answer's results (default 0.5)",
    )
    statuses.add_argument(
        "--pending-reveal-after-requests",
        type=int,
        help="PENDING/PROCESSING: unlisted objects become readable after N more requests (default 1)",
    )
    statuses.add_argument("--pending-reveal-after-ms", type=float, help="... or after this many milliseconds")
    statuses.add_argument(
        "--omit-completed-at", action="store_true", help="no completedAt in PENDING/PROCESSING answers"
    )


def _token(spec: str) -> TokenConfig:
    token, _, scopes = spec.partition(":")
    if not scopes:
        return TokenConfig(token)
    return TokenConfig(token, frozenset(s for s in scopes.split(",") if s))


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Merge ``--config``/``--config-json`` with the flags."""
    data: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            data.update(json.load(fh))
    if args.config_json:
        data.update(json.loads(args.config_json))
    config = SandboxConfig.from_dict(data)
    changes: dict[str, Any] = {}
    if args.config_json is None or args.port != 8765:
        changes["host"], changes["port"] = args.host, args.port
    simple = {
        "db": "db_path",
        "portal_id": "portal_id",
        "ui_domain": "ui_domain",
        "rate_limit": "rate_limit_per_10s",
        "rate_count_at": "rate_count_at",
        "daily_limit": "daily_limit",
        "retry_after": "retry_after_seconds",
        "max_batch_inputs": "max_batch_inputs",
        "seed": "seed",
    }
    for arg, name in simple.items():
        if getattr(args, arg) is not None:
            changes[name] = getattr(args, arg)
    flags = {
        "keep_order": ("shuffle_results", False),
        "no_trace_echo": ("echo_trace_ids", False),
        "no_requested_at": ("include_requested_at", False),
        "conflicts_as_207": ("conflicts_as_207", True),
        "invalid_associations_as_207": ("invalid_associations_as_207", True),
        "verbose": ("verbose", True),
    }
    for arg, (name, value) in flags.items():
        if getattr(args, arg):
            changes[name] = value
    if args.token:
        changes["tokens"] = tuple(_token(t) for t in args.token)
    fault_args = {
        "latency_ms": "latency_ms",
        "jitter_ms": "jitter_ms",
        "latency_per_input_ms": "latency_per_input_ms",
        "error_rate": "error_rate",
        "rate_limit_burst_rate": "rate_limit_burst_rate",
        "rate_limit_burst_length": "rate_limit_burst_length",
        "reset_rate": "reset_before_rate",
        "drop_after_commit_rate": "drop_after_commit_rate",
        "hang_after_commit_rate": "hang_after_commit_rate",
        "hang_seconds": "hang_seconds",
        "fault_seed": "seed",
        "canceled_rate": "canceled_rate",
        "pending_rate": "pending_rate",
        "processing_rate": "processing_rate",
        "incomplete_listed_share": "incomplete_listed_share",
        "pending_reveal_after_requests": "pending_reveal_after_requests",
        "pending_reveal_after_ms": "pending_reveal_after_ms",
    }
    fault_changes = {
        name: getattr(args, arg) for arg, name in fault_args.items() if getattr(args, arg) is not None
    }
    if args.faults_on_reads:
        fault_changes["writes_only"] = False
    if args.omit_completed_at:
        fault_changes["omit_completed_at"] = True
    if args.status_sequence:
        fault_changes["status_sequence"] = [s.strip().upper() for s in args.status_sequence.split(",")]
    if fault_changes:
        changes["faults"] = FaultConfig.from_dict({**config.faults.to_dict(), **fault_changes})
    return config.replace(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until Ctrl-C (SIGINT) or SIGTERM; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    return serve(config)


def serve(config: SandboxConfig) -> int:
    """Run a sandbox with ``config`` in the foreground until Ctrl-C or SIGTERM; returns the exit code."""
    from hubspot_loader.sandbox.runner import start_sandbox

    handle = start_sandbox(config)
    print(f"HubSpot sandbox running at {handle.base_url}", flush=True)
    for token in config.tokens:
        scopes = "all scopes" if "*" in token.scopes else ", ".join(sorted(token.scopes))
        print(f"  access token: {token.token} ({token.kind}, {scopes})")
    print(
        f"  portal id: {config.portal_id}; rate limit {config.rate_limit_per_10s}/10s, "
        f"{config.daily_limit}/day; storage: {config.db_path or 'memory'}"
    )
    print(f"  overview: {handle.base_url}/   inspection API: {handle.base_url}/__sandbox__/counters")
    print("Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    handle.stop()
    print("Sandbox stopped.", file=sys.stderr)
    return 0
