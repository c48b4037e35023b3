"""The argument parser of ``hubspot-loader`` (argparse) and the parsers of its repeatable options."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from hubspot_loader._version import __version__
from hubspot_loader.cli.exits import EXIT_CODES_HELP, EXIT_ROWS_FAILED
from hubspot_loader.cli.explain import TOKEN_ENV
from hubspot_loader.cli.state import STATE_ENV
from hubspot_loader.core.model import MAX_BATCH_SIZE, AssociationColumn
from hubspot_loader.http.base_url import DEFAULT_BASE_URL

STATE_HELP = f"""\
sync state:
  Every load records which rows it created (by --key) in a SQLite file, so running the same command
  again creates nothing twice: rows created earlier are skipped (and keep their ids for --ids-out).
  Default file: ${STATE_ENV}, else $XDG_STATE_HOME/hubspot_loader/state.sqlite, else
  ~/.local/state/hubspot_loader/state.sqlite. --state PATH uses another file; --no-state turns it off.
"""

EXAMPLES_HELP = """\
examples:
  hubspot-loader load companies.csv --object-type companies --key company_id --ids-out companies.ids.csv
  hubspot-loader load contacts.csv --object-type contacts --key customer_id \\
      --property mail=email --associate company_id=companies --keys-from company_id=companies.ids.csv
  hubspot-loader load contacts.parquet --object-type contacts --key customer_id --dry-run
"""


def parse_property(text: str) -> tuple[str, str]:
    """``col`` or ``col=property`` → (column, property)."""
    column, _, prop = text.partition("=")
    if not column:
        raise argparse.ArgumentTypeError(f"--property {text!r}: expected COLUMN or COLUMN=PROPERTY")
    return column, prop or column


def parse_association(text: str) -> AssociationColumn:
    """``column=object_type[:typeId|label]`` → :class:`AssociationColumn` (object type checked later)."""
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


def parse_keys_from(text: str) -> tuple[str, Path]:
    """``column=FILE`` → (column, path of a ``key,hubspot_id`` file written by ``--ids-out``)."""
    column, sep, path = text.partition("=")
    if not column or not sep or not path:
        raise argparse.ArgumentTypeError(
            f"--keys-from {text!r}: expected COLUMN=FILE (a file from --ids-out)"
        )
    return column, Path(path)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _batch_size(text: str) -> int:
    value = _positive(text)
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(
            f"HubSpot takes at most {MAX_BATCH_SIZE} inputs a batch, got {value}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``hubspot-loader``."""
    parser = argparse.ArgumentParser(
        prog="hubspot-loader",
        description="Load warehouse rows into HubSpot CRM, or run a local HubSpot sandbox.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_load(commands)
    sandbox = commands.add_parser(
        "sandbox",
        help="run the local HubSpot sandbox server",
        add_help=False,
        description="Run the local HubSpot CRM API sandbox (see 'hubspot-loader sandbox --help').",
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _add_load(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    load = commands.add_parser(
        "load",
        help="create the rows of a CSV or Parquet file as HubSpot objects",
        description=textwrap.fill(
            "Create every row of FILE as a HubSpot object. Rows that preflight holds back or HubSpot rejects "
            "are written with their reasons to FILE.failed.csv (the whole name: contacts.csv.failed.csv) and "
            f"make the exit code {EXIT_ROWS_FAILED}. The access token is read from ${TOKEN_ENV}. "
            "Reference: docs/cli.md.",
            width=100,
        ),
        epilog=f"{EXIT_CODES_HELP}\n{STATE_HELP}\n{EXAMPLES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument(
        "file", type=Path, help="a .csv (UTF-8, with a header row) or .parquet file, one object per row"
    )
    load.add_argument(
        "--object-type",
        required=True,
        help="contacts, companies, deals, tickets ..., a type id (0-3, 2-123) or p_NAME",
    )
    load.add_argument("--key", required=True, help="column holding each row's unique warehouse key")
    _add_mapping_options(load)
    load.add_argument("--base-url", default=DEFAULT_BASE_URL, help="API root (default: %(default)s)")
    load.add_argument("--api-version", default="2026-03", help="'2026-03' (default) or 'v3'")
    load.add_argument(
        "--batch-size",
        type=_batch_size,
        default=MAX_BATCH_SIZE,
        help=f"inputs per request, at most {MAX_BATCH_SIZE}",
    )
    load.add_argument(
        "--max-in-flight", type=_positive, default=4, help="batches in flight at once (default 4)"
    )
    load.add_argument(
        "--requests-per-10s", type=_positive, default=100, help="rate budget: 100, 190 or 250 (default 100)"
    )
    load.add_argument(
        "--preflight",
        choices=["quarantine", "block", "off"],
        default="quarantine",
        help="check rows against HubSpot's property definitions first: hold back the rows HubSpot would "
        "reject (quarantine, default), refuse the whole file (block), or skip the check (off). With "
        "quarantine or block, a property that does not exist stops the command before anything is sent",
    )
    _add_state_options(load)
    _add_output_options(load)


def _add_mapping_options(load: argparse.ArgumentParser) -> None:
    load.add_argument(
        "--property",
        dest="properties",
        action="append",
        type=parse_property,
        metavar="COL[=PROP]",
        help="send column COL as property PROP (repeatable; default: every column except --key and the "
        "--associate columns, under its own name)",
    )
    load.add_argument(
        "--associate",
        dest="associations",
        action="append",
        type=parse_association,
        default=[],
        metavar="COL=TYPE[:TYPEID|LABEL]",
        help="associate each row with the records in column COL: HubSpot record ids, or warehouse keys "
        "with --keys-from (repeatable)",
    )
    load.add_argument(
        "--keys-from",
        dest="keys_from",
        action="append",
        type=parse_keys_from,
        default=[],
        metavar="COL=FILE",
        help="column COL of an --associate holds warehouse keys: translate them to HubSpot ids through "
        "FILE, the --ids-out file of the parent load (a key without an id fails its row)",
    )
    load.add_argument("--unique-property", help="unique property for reconciling lost answers (e.g. email)")


def _add_state_options(load: argparse.ArgumentParser) -> None:
    state = load.add_mutually_exclusive_group()
    state.add_argument(
        "--state", type=Path, metavar="PATH", help="the sync-state file (default: see 'sync state' below)"
    )
    state.add_argument(
        "--no-state",
        action="store_true",
        help="keep no sync state: every row is sent, even if created before",
    )
    load.add_argument(
        "--portal", help="portal identity for the sync state (default: base URL + token fingerprint)"
    )
    load.add_argument(
        "--full-refresh", action="store_true", help="send every row, not only new and failed ones"
    )


def _add_output_options(load: argparse.ArgumentParser) -> None:
    load.add_argument(
        "--dry-run", action="store_true", help="validate and show payloads; send nothing, write no file"
    )
    load.add_argument("--preview", type=int, default=3, help="payloads shown by --dry-run (default 3)")
    load.add_argument(
        "--failed-rows",
        type=Path,
        metavar="PATH",
        help="where to write failed rows (default FILE.failed.csv, next to FILE)",
    )
    load.add_argument(
        "--ids-out",
        type=Path,
        metavar="PATH",
        help="write key,hubspot_id for every row with an id (created or skipped), for --keys-from",
    )
    load.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is off anyway when stderr is not a terminal)",
    )
