r"""The ``hubspot-loader`` command: load a CSV/Parquet file into HubSpot, or run the local sandbox.

Examples::

    hubspot-loader load companies.csv --object-type companies --key company_id --ids-out companies.ids.csv
    hubspot-loader load contacts.csv --object-type contacts --key id \\
        --property mail=email --associate company_id=companies --keys-from company_id=companies.ids.csv
    hubspot-loader load contacts.csv --spec contacts.load.yaml --dry-run
    hubspot-loader sandbox --port 8765

Built with click: :mod:`~hubspot_loader.cli.app` (the group and :func:`main`),
:mod:`~hubspot_loader.cli.load_command` and :mod:`~hubspot_loader.cli.sandbox_command` (the two commands),
:mod:`~hubspot_loader.cli.parser` (option values and help), :mod:`~hubspot_loader.cli.options`,
:mod:`~hubspot_loader.cli.spec_file` and :mod:`~hubspot_loader.cli.settle` (the spec file and the flags),
:mod:`~hubspot_loader.cli.command` (the load), :mod:`~hubspot_loader.cli.files`,
:mod:`~hubspot_loader.cli.objects`, :mod:`~hubspot_loader.cli.checks`, :mod:`~hubspot_loader.cli.explain`
(messages and exit codes), :mod:`~hubspot_loader.cli.state`, :mod:`~hubspot_loader.cli.progress`,
:mod:`~hubspot_loader.cli.report`. Reference: ``docs/cli.md``.

The stable interface is the command line (its options, output and exit codes); the Python names of this
package serve the command and its tests, and may change between releases without aliases.
"""

from __future__ import annotations

from hubspot_loader.cli.app import hubspot_loader_command, main
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
from hubspot_loader.cli.parser import parse_association, parse_keys_from, parse_property
from hubspot_loader.cli.report import summary

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_ROWS_FAILED",
    "EXIT_STOPPED",
    "EXIT_USAGE",
    "UsageError",
    "hubspot_loader_command",
    "main",
    "parse_association",
    "parse_keys_from",
    "parse_property",
    "read_input",
    "run_load",
    "summary",
]
