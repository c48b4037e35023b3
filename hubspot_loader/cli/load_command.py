"""``hubspot-loader load FILE ...``: the click command, its options and their help."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hubspot_loader.cli.command import run_load
from hubspot_loader.cli.exits import EXIT_ROWS_FAILED
from hubspot_loader.cli.explain import TOKEN_ENV
from hubspot_loader.cli.options import LoadOptions
from hubspot_loader.cli.parser import (
    BATCH_SIZE,
    BUDGET,
    LOAD_EPILOG,
    POSITIVE,
    each,
    parse_association,
    parse_keys_from,
    parse_property,
)
from hubspot_loader.core.model import MAX_BATCH_SIZE
from hubspot_loader.core.spec import NULL_VALUES, PREFLIGHT_MODES, WRITE_MODES
from hubspot_loader.http.base_url import DEFAULT_BASE_URL
from hubspot_loader.http.settings import DEFAULT_MAX_IN_FLIGHT, LEARN

F = TypeVar("F", bound=Callable[..., Any])
PATH = click.Path(path_type=Path)

SPEC_OPTIONS = [
    click.option(
        "--spec",
        "spec_file",
        type=PATH,
        metavar="FILE",
        help="a load spec file (.yaml, .toml or .json) with the fields below; flags override its values",
    ),
    click.option(
        "--object-type",
        metavar="TYPE",
        help="contacts, companies, deals, tickets ..., a type id (0-3, 2-123) or p_NAME",
    ),
    click.option("--key", metavar="COLUMN", help="column holding each row's unique warehouse key"),
    click.option(
        "--property",
        "properties",
        multiple=True,
        callback=each(parse_property),
        metavar="COL[=PROP]",
        help="send column COL as property PROP (repeatable; default: every column except --key and the "
        "--associate columns, under its own name)",
    ),
    click.option(
        "--associate",
        "associations",
        multiple=True,
        callback=each(parse_association),
        metavar="COL=TYPE[:TYPEID|LABEL]",
        help="associate each row with the records in column COL: HubSpot record ids, or warehouse keys "
        "with --keys-from (repeatable)",
    ),
    click.option(
        "--keys-from",
        multiple=True,
        callback=each(parse_keys_from),
        metavar="COL=FILE",
        help="column COL of an --associate holds warehouse keys: translate them to HubSpot ids through "
        "FILE, the --ids-out file of the parent load (a key without an id fails its row)",
    ),
    click.option(
        "--unique-property", metavar="PROP", help="unique property for reconciling lost answers (e.g. email)"
    ),
    click.option(
        "--schema",
        metavar="MODULE:NAME",
        help="a pandera schema every row must pass before anything is sent (imported from MODULE)",
    ),
    click.option(
        "--preflight",
        type=click.Choice(list(PREFLIGHT_MODES)),
        help="check rows against HubSpot's property definitions and existing records first: hold back "
        "the rows HubSpot would reject (quarantine, default), refuse the whole file (block), the same "
        "without reading records (offline, offline_block), or skip the check (off). With "
        "quarantine or block, a property that does not exist stops the command before anything is sent",
    ),
    click.option(
        "--failure-threshold",
        type=float,
        metavar="N",
        help=f"exit {EXIT_ROWS_FAILED} only when more rows than this fail (a count, or a fraction below 1 of "
        f"the rows; default: any failed row exits {EXIT_ROWS_FAILED})",
    ),
    click.option(
        "--batch-size",
        type=BATCH_SIZE,
        metavar="N",
        help=f"inputs per request, at most {MAX_BATCH_SIZE} (default)",
    ),
    click.option(
        "--naive-timezone", metavar="ZONE", help="IANA zone of datetimes without a zone (default UTC)"
    ),
    click.option(
        "--write-mode",
        type=click.Choice(list(WRITE_MODES)),
        help="create (default): only keys new to the sync state are created; upsert: also update the "
        "changed properties of known rows and adopt existing records by --unique-property; update: only "
        "update rows that match a record; mirror: upsert, and archive the records whose keys left the file",
    ),
    click.option(
        "--null-values",
        type=click.Choice(list(NULL_VALUES)),
        help="sync modes: a cell that became empty clears HubSpot's value (clear, default) or is ignored",
    ),
    click.option(
        "--key-property",
        metavar="PROP",
        help="a unique text property (created when missing) that carries each row's key, so rows of any "
        "object type are reconciled and adopted by it",
    ),
    click.option(
        "--archive-limit",
        type=click.FloatRange(0, 1),
        metavar="SHARE",
        help="mirror: the largest share of the synced records one run may archive (default 0.1)",
    ),
]

CLIENT_OPTIONS = [
    click.option("--base-url", metavar="URL", default=DEFAULT_BASE_URL, show_default=True, help="API root"),
    click.option("--api-version", metavar="VERSION", default="2026-03", help="'2026-03' (default) or 'v3'"),
    click.option(
        "--max-in-flight",
        type=POSITIVE,
        metavar="N",
        default=DEFAULT_MAX_IN_FLIGHT,
        help=f"the most batches in flight; how many follows the round trip (default {DEFAULT_MAX_IN_FLIGHT})",
    ),
    click.option(
        "--requests-per-10s",
        type=BUDGET,
        metavar="N|learn",
        default=LEARN,
        help="rate budget, a hard cap: 100, 190 or 250; 'learn' (default) starts at 100 and adopts HubSpot's "
        "X-HubSpot-RateLimit-Max",
    ),
]

STATE_OPTIONS = [
    click.option(
        "--state", type=PATH, metavar="PATH", help="the sync-state file (default: see 'sync state' below)"
    ),
    click.option(
        "--state-url",
        metavar="URL",
        help="the sync state in a database: postgresql+psycopg://USER@HOST:PORT/DB or sqlite:///PATH "
        "(default: $HUBSPOT_LOADER_STATE_URL, else the file)",
    ),
    click.option(
        "--no-state", is_flag=True, help="keep no sync state: every row is sent, even if created before"
    ),
    click.option(
        "--portal",
        metavar="ID",
        help="portal identity for the sync state (default: base URL + token fingerprint)",
    ),
    click.option("--full-refresh", is_flag=True, help="send every row, not only new and failed ones"),
    click.option(
        "--shared-budget/--no-shared-budget",
        default=True,
        help="pace through one rate window per token in the sync state, shared with other loads using it "
        "(default: shared)",
    ),
]

STATE_CHOICES = [
    ("--state", lambda o: o.state is not None),
    ("--state-url", lambda o: bool(o.state_url)),
    ("--no-state", lambda o: o.no_state),
]
"""The ways to say where the sync state is; at most one is given."""

OUTPUT_OPTIONS = [
    click.option("--dry-run", is_flag=True, help="validate and show payloads; send nothing, write no file"),
    click.option(
        "--preview", type=int, metavar="N", default=3, help="payloads shown by --dry-run (default 3)"
    ),
    click.option(
        "--failed-rows",
        type=PATH,
        metavar="PATH",
        help="where to write failed rows (default FILE.failed.csv, next to FILE)",
    ),
    click.option(
        "--ids-out",
        type=PATH,
        metavar="PATH",
        help="write key,hubspot_id for every row with an id (created or skipped), for --keys-from",
    ),
    click.option(
        "--no-progress", is_flag=True, help="no progress bar (it is off anyway when stderr is not a terminal)"
    ),
]

LOAD_HELP = textwrap.fill(
    "Create every row of FILE (a .csv, UTF-8 with a header row, or a .parquet file, one object per row) as "
    "a HubSpot object. Rows that preflight holds back or HubSpot rejects are written with their reasons to "
    "FILE.failed.csv (the whole name: contacts.csv.failed.csv) and make the exit code "
    f"{EXIT_ROWS_FAILED}. The access token is read from ${TOKEN_ENV}. Reference: docs/cli.md.",
    width=100,
)


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


@click.command(
    "load",
    help=LOAD_HELP,
    short_help="create the rows of a CSV or Parquet file as HubSpot objects",
    epilog=LOAD_EPILOG,
)
@click.argument("file", type=PATH, metavar="FILE")
@_with(SPEC_OPTIONS)
@_with(CLIENT_OPTIONS)
@_with(STATE_OPTIONS)
@_with(OUTPUT_OPTIONS)
def load_command(**values: Any) -> int:
    """Run ``hubspot-loader load``; returns the exit code."""
    options = LoadOptions(**values)
    given = [flag for flag, on in STATE_CHOICES if on(options)]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} cannot be used together")
    return run_load(options, sys.stdout, sys.stderr)
