"""``hubspot-loader state copy FROM TO``: copy a sync state into another store (SQLite to PostgreSQL).

Both arguments are state URLs (``sqlite:///PATH``, a plain file path, or
``postgresql+psycopg://USER@HOST:PORT/DB``); see :mod:`hubspot_loader.state.copy` for what is copied.
Passwords in the URLs are masked in everything the command prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hubspot_loader.cli.exits import EXIT_OK, EXIT_USAGE
from hubspot_loader.state.copy import copy_ledger
from hubspot_loader.state.ledger import LedgerError, open_ledger
from hubspot_loader.state.store_url import is_sqlite, parse_state_url

COPY_HELP = """\
Copy every row of the sync state FROM into the sync state TO, e.g. the SQLite file a machine used so far
into the PostgreSQL database every pod will share:

  hubspot-loader state copy ~/.local/state/hubspot_loader/state.sqlite \\
      'postgresql+psycopg://loader@db:5432/dagster?options=-csearch_path%3Dhubspot_loader'

Rows TO already has (same portal, object type and key) are kept as they are, so the copy can be run
again after an interruption. Stop the loads that use FROM first: leases are not copied.
"""


@click.group("state", short_help="work with the sync state (the ledger)")
def state_command() -> None:
    """Work with the sync state (the ledger of rows each load created)."""


@state_command.command("copy", help=COPY_HELP, short_help="copy a sync state into another store")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
def copy_command(source: str, target: str) -> int:
    """Run ``hubspot-loader state copy``; returns the exit code."""
    try:
        source_url = parse_state_url(source)
        if is_sqlite(source_url) and not Path(source_url.database or "").is_file():
            raise click.UsageError(f"FROM: there is no sync state file {source_url.database}")
        with open_ledger(source_url) as from_ledger, open_ledger(target) as to_ledger:
            if from_ledger.where == to_ledger.where:
                raise click.UsageError("FROM and TO are the same sync state")
            count = copy_ledger(from_ledger, to_ledger)
            where = (from_ledger.where, to_ledger.where)
    except LedgerError as exc:  # the messages name the store by its masked URL only
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(
        f"copied {count.copied} row(s) from {where[0]} to {where[1]}; "
        f"{count.kept} row(s) {where[1]} already had were kept\n"
    )
    return EXIT_OK


__all__ = ["state_command"]
