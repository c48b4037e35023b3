r"""The ``hubspot-loader`` command: load a CSV/Parquet file into HubSpot, or run the local sandbox.

Examples::

    hubspot-loader load contacts.csv --object-type contacts --key id \\
        --property email --property first=firstname --associate company_id=companies
    hubspot-loader load contacts.csv --object-type contacts --key id --dry-run
    hubspot-loader sandbox --port 8765
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from hubspot_loader import __version__
from hubspot_loader.client import HubSpotClient
from hubspot_loader.ledger import SQLiteLedger
from hubspot_loader.load import DataValidationError, LoadAborted, load_dataframe
from hubspot_loader.model import AssociationColumn, BatchOutcome, LoadResult
from hubspot_loader.preflight import PreflightError
from hubspot_loader.tables import failed_rows_table

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3
FAILED_ROWS_SHOWN = 10


def parse_property(text: str) -> tuple[str, str]:
    """``col`` or ``col=property`` → (column, property)."""
    column, _, prop = text.partition("=")
    if not column:
        raise argparse.ArgumentTypeError(f"--property {text!r}: expected COLUMN or COLUMN=PROPERTY")
    return column, prop or column


def parse_association(text: str) -> AssociationColumn:
    """``column=object_type[:typeId|label]`` → :class:`AssociationColumn` (values are HubSpot ids)."""
    column, sep, target = text.partition("=")
    if not column or not sep or not target:
        raise argparse.ArgumentTypeError(
            f"--associate {text!r}: expected COLUMN=OBJECT_TYPE, COLUMN=OBJECT_TYPE:TYPE_ID or "
            "COLUMN=OBJECT_TYPE:LABEL"
        )
    object_type, _, how = target.partition(":")
    if not how:
        return AssociationColumn(column=column, to_object_type=object_type)
    if how.isdigit():
        return AssociationColumn(column=column, to_object_type=object_type, type_id=int(how))
    return AssociationColumn(column=column, to_object_type=object_type, label=how)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``hubspot-loader``."""
    parser = argparse.ArgumentParser(
        prog="hubspot-loader",
        description="Load warehouse rows into HubSpot CRM, or run a local HubSpot sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    load = commands.add_parser(
        "load",
        help="create the rows of a CSV or Parquet file as HubSpot objects",
        description=(
            "Create every row of FILE as a HubSpot object. Rows HubSpot rejects are written with their "
            f"reasons to FILE.failed.csv and make the exit code {EXIT_ROWS_FAILED}. The access token is "
            f"read from ${TOKEN_ENV}."
        ),
    )
    load.add_argument("file", type=Path, help="a .csv or .parquet file, one object per row")
    load.add_argument("--object-type", required=True, help="contacts, companies, deals, 0-3, p_vendor ...")
    load.add_argument("--key", required=True, help="column holding each row's unique key")
    load.add_argument(
        "--property",
        dest="properties",
        action="append",
        type=parse_property,
        metavar="COL[=PROP]",
        help="send column COL as property PROP (repeatable; default: every other column, same name)",
    )
    load.add_argument(
        "--associate",
        dest="associations",
        action="append",
        type=parse_association,
        default=[],
        metavar="COL=TYPE[:TYPEID|LABEL]",
        help="associate each row with the HubSpot record ids in column COL (repeatable)",
    )
    load.add_argument("--unique-property", help="unique property for reconciling lost answers (e.g. email)")
    load.add_argument("--base-url", default="https://api.hubapi.com", help="API root (default: %(default)s)")
    load.add_argument("--api-version", default="2026-03", help="'2026-03' (default) or 'v3'")
    load.add_argument("--batch-size", type=int, default=100, help="inputs per request, at most 100")
    load.add_argument("--max-in-flight", type=int, default=4, help="batches in flight at once")
    load.add_argument(
        "--requests-per-10s", type=int, default=100, help="rate budget: 100, 190 or 250 (default 100)"
    )
    load.add_argument(
        "--preflight",
        choices=["quarantine", "block", "off"],
        default="quarantine",
        help="check rows against HubSpot's property definitions first: hold back the rows HubSpot would "
        "reject (quarantine, default), refuse the whole file (block), or skip the check (off)",
    )
    load.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help="SQLite sync-state file: rows (by --key) that an earlier run with this state file created in "
        "the same portal are skipped",
    )
    load.add_argument("--portal", help="portal identity for --state (default: base URL + token fingerprint)")
    load.add_argument(
        "--full-refresh", action="store_true", help="with --state: send every row, not only new/failed ones"
    )
    load.add_argument("--dry-run", action="store_true", help="validate and show payloads; send nothing")
    load.add_argument("--preview", type=int, default=3, help="payloads shown by --dry-run")
    load.add_argument("--failed-rows", type=Path, help="where to write failed rows (default FILE.failed.csv)")
    load.add_argument("--no-progress", action="store_true", help="no progress line")

    sandbox = commands.add_parser(
        "sandbox",
        help="run the local HubSpot sandbox server",
        add_help=False,
        description="Run the local HubSpot CRM API sandbox (see 'hubspot-loader sandbox --help').",
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def read_frame(path: Path) -> pd.DataFrame:
    """Read a Parquet file (its types kept) or a CSV file (every cell as the text in the file).

    CSV cells are not parsed into numbers: ``02134`` stays ``"02134"`` and ``1.50`` stays ``"1.50"``;
    HubSpot receives property values as strings anyway. Empty cells (and ``NA``, ``null`` ...) are null,
    so the property is omitted.
    """
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=True)


class Progress:
    """A one-line progress display: rows sent / created / failed, rows/s, ETA."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled
        self.sent = self.created = self.failed = 0
        self.started = time.monotonic()

    def __call__(self, outcome: BatchOutcome) -> None:
        """Count one finished batch and redraw."""
        self.sent += outcome.record.rows
        self.created += outcome.record.created
        self.failed += outcome.record.failed
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.sent / elapsed
        eta = (self.total - self.sent) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r{self.sent}/{self.total} sent  {self.created} created  {self.failed} failed  "
            f"{rate:,.0f} rows/s  ETA {eta:,.0f}s   "
        )
        self.stream.flush()

    def done(self) -> None:
        """End the progress line."""
        if self.enabled and self.sent:
            self.stream.write("\n")


def summary(result: LoadResult) -> str:
    """Render a short table of what the load did."""
    lines = [
        ("object type", result.object_type),
        ("rows", result.rows_total),
        ("created", result.rows_created),
        ("failed", result.rows_failed),
        ("skipped", result.rows_skipped),
        ("batches", len(result.batches)),
        ("requests", result.requests),
        ("duration", f"{result.duration_s:.2f}s"),
        ("rows/s", f"{result.rows_per_second:,.0f}"),
    ]
    if result.hubspot_started_at is not None:
        lines.append(("HubSpot startedAt", result.hubspot_started_at.isoformat()))
    if result.hubspot_completed_at is not None:
        lines.append(("HubSpot completedAt", result.hubspot_completed_at.isoformat()))
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in lines)


def run_load(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``hubspot-loader load``; returns the exit code."""
    try:
        frame = read_frame(args.file)
    except (OSError, ValueError) as exc:
        err.write(f"error: cannot read {args.file}: {exc}\n")
        return EXIT_USAGE
    token = os.environ.get(TOKEN_ENV, "")
    client = None
    if not token and (not args.dry_run or any(a.label for a in args.associations)):
        err.write(f"error: set ${TOKEN_ENV} to the HubSpot access token\n")
        return EXIT_USAGE
    if not token and args.preflight != "off":
        err.write(
            f"warning: ${TOKEN_ENV} is not set: the dry run cannot read HubSpot's properties (no preflight)\n"
        )
    if token:
        try:
            client = HubSpotClient(
                token,
                base_url=args.base_url,
                api_version=args.api_version,
                max_in_flight=args.max_in_flight,
                requests_per_10s=args.requests_per_10s,
                batch_size=args.batch_size,
            )
        except ValueError as exc:
            err.write(f"error: {exc}\n")
            return EXIT_USAGE
    progress = Progress(len(frame), err, enabled=not args.no_progress and not args.dry_run)
    ledger = SQLiteLedger(args.state) if args.state is not None else None
    try:
        result = load_dataframe(
            frame,
            args.object_type,
            client=client,
            properties=dict(args.properties) if args.properties else None,
            associations=args.associations,
            key_column=args.key,
            unique_property=args.unique_property,
            dry_run=args.dry_run,
            preview_rows=args.preview,
            on_batch=progress,
            preflight=args.preflight if client is not None else "off",
            ledger=ledger,
            portal=args.portal,
            sync_mode="full_refresh" if args.full_refresh else "incremental",
        )
    except PreflightError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_ROWS_FAILED
    except (KeyError, ValueError) as exc:  # columns, keys or options that do not fit the file
        err.write(f"error: {exc.args[0] if exc.args else exc}\n")
        return EXIT_USAGE
    except DataValidationError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_ROWS_FAILED
    except LoadAborted as exc:
        progress.done()
        err.write(f"error: {exc}\n")
        _write_failed(exc.result, args, out)
        return EXIT_ABORTED
    finally:
        if client is not None:
            client.close()
        if ledger is not None:
            ledger.close()
    progress.done()
    if args.dry_run:
        import json

        out.write(f"dry run: {result.rows_total - result.rows_failed} rows would be sent, ")
        out.write(f"{result.rows_failed} rejected before sending; first payloads:\n")
        out.write(json.dumps(result.payload_preview, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(summary(result) + "\n")
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")
    if result.preflight is not None:
        for problem in result.preflight.blocking:
            err.write(f"preflight: {problem.message}\n")
    for row in result.failed_rows[:FAILED_ROWS_SHOWN]:
        if row.error is not None:
            code = f" {row.error.code}" if row.error.code else ""
            err.write(f"failed: row {row.key}: {row.error.category}{code}: {row.error.message}\n")
    if result.rows_failed > FAILED_ROWS_SHOWN:
        err.write(
            f"failed: ... and {result.rows_failed - FAILED_ROWS_SHOWN} more (see the failed-rows file)\n"
        )
    _write_failed(result, args, out)
    return EXIT_ROWS_FAILED if result.rows_failed else 0


def _write_failed(result: LoadResult, args: argparse.Namespace, out: TextIO) -> None:
    if not result.rows_failed:
        return
    path = args.failed_rows or args.file.with_suffix(".failed.csv")
    failed_rows_table(result).to_csv(path, index=False)
    out.write(f"{result.rows_failed} failed rows written to {path}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hubspot-loader``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        from hubspot_loader.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    args = build_parser().parse_args(argv)
    return run_load(args, sys.stdout, sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
