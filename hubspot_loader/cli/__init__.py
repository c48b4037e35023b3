r"""The ``hubspot-loader`` command: load a CSV/Parquet file into HubSpot, or run the local sandbox.

Examples::

    hubspot-loader load companies.csv --object-type companies --key company_id --ids-out companies.ids.csv
    hubspot-loader load contacts.csv --object-type contacts --key id \\
        --property mail=email --associate company_id=companies --keys-from company_id=companies.ids.csv
    hubspot-loader load contacts.csv --object-type contacts --key id --dry-run
    hubspot-loader sandbox --port 8765

Modules: :mod:`~hubspot_loader.cli.parser` (options), :mod:`~hubspot_loader.cli.command` (the load),
:mod:`~hubspot_loader.cli.files`, :mod:`~hubspot_loader.cli.objects`, :mod:`~hubspot_loader.cli.checks`,
:mod:`~hubspot_loader.cli.explain` (messages and exit codes), :mod:`~hubspot_loader.cli.state`,
:mod:`~hubspot_loader.cli.progress`, :mod:`~hubspot_loader.cli.report`. Reference: ``docs/cli.md``.

The stable interface is the command line (its options, output and exit codes); the Python names of this
package serve the command and its tests, and may change between releases without aliases.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hubspot_loader.cli.command import run_load
from hubspot_loader.cli.exits import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
    EXIT_USAGE,
    UsageError,
)
from hubspot_loader.cli.files import read_input
from hubspot_loader.cli.parser import build_parser, parse_association, parse_keys_from, parse_property
from hubspot_loader.cli.report import summary

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_ROWS_FAILED",
    "EXIT_STOPPED",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "main",
    "parse_association",
    "parse_keys_from",
    "parse_property",
    "read_input",
    "run_load",
    "summary",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hubspot-loader`` (console script ``hubspot_loader.cli:main``)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "sandbox":
        from hubspot_loader.sandbox.cli import main as sandbox_main

        return sandbox_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    try:
        return run_load(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        sys.stderr.write(
            "\ninterrupted: rows already answered are recorded; batches in flight stay pending in the sync "
            "state and are looked up before anything is resent by the next run\n"
        )
        return EXIT_INTERRUPTED
