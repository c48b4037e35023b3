"""What ``hubspot-loader load`` prints after a load: the summary table, warnings and the failed rows."""

from __future__ import annotations

import json
from typing import TextIO

from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.tables import outcome_counts

FAILED_ROWS_SHOWN = 10
NO_UNIQUE_PREFIX = "no unique property for"
"""The library's own warning for a load without a unique property (the CLI says it before the load)."""


def held_back(result: LoadResult) -> int:
    """Rows preflight held back (category ``PREFLIGHT``)."""
    return sum(1 for row in result.failed_rows if row.error is not None and row.error.category == "PREFLIGHT")


def summary(result: LoadResult, *, state: str | None) -> str:
    """Render a short table of what the load did."""
    lines: list[tuple[str, object]] = [
        ("object type", result.object_type),
        ("rows", result.rows_total),
        *outcome_counts(result),
    ]
    if result.preflight is not None:
        lines.append(("held back by preflight", held_back(result)))
    lines += [
        ("batches", len(result.batches)),
        ("requests", result.requests),
        ("duration", f"{result.duration_s:.2f}s"),
        ("rows/s", f"{result.rows_per_second:,.0f}"),
        ("sync state", str(state) if state is not None else "off (--no-state)"),
    ]
    if result.hubspot_started_at is not None:
        lines.append(("HubSpot startedAt", result.hubspot_started_at.isoformat()))
    if result.hubspot_completed_at is not None:
        lines.append(("HubSpot completedAt", result.hubspot_completed_at.isoformat()))
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in lines)


def dry_run_report(result: LoadResult, out: TextIO) -> None:
    """Print what a dry run would send: counts, then the first payloads as JSON (last on stdout)."""
    planned = result.rows_total - result.rows_failed - result.rows_skipped
    out.write(
        f"dry run: {planned} rows would be sent, {result.rows_failed} rejected before sending, "
        f"{result.rows_skipped} skipped (created by an earlier run); nothing was sent and no file written; "
        "first payloads:\n"
    )
    out.write(json.dumps(result.payload_preview, indent=2, ensure_ascii=False) + "\n")


def problems_report(result: LoadResult, err: TextIO) -> None:
    """Warnings, preflight's load-wide problems and the first failed rows, on stderr."""
    for warning in result.warnings:
        if not warning.startswith(NO_UNIQUE_PREFIX):
            err.write(f"warning: {warning}\n")
    if result.preflight is not None:
        for problem in result.preflight.blocking:
            err.write(f"preflight: {problem.message}\n")
    failed = result.failed_rows
    for row in failed[:FAILED_ROWS_SHOWN]:
        if row.error is not None:
            code = f" {row.error.code}" if row.error.code else ""
            err.write(f"failed: row {row.key}: {row.error.category}{code}: {row.error.message}\n")
    if len(failed) > FAILED_ROWS_SHOWN:
        err.write(f"failed: ... and {len(failed) - FAILED_ROWS_SHOWN} more (see the failed-rows file)\n")
