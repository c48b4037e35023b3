"""The ``hubspot-loader`` command group (``load``, ``sandbox``, ``state``) and the entry point around it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hubspot_loader._version import __version__
from hubspot_loader.cli.exits import EXIT_CODES_HELP, EXIT_INTERRUPTED
from hubspot_loader.cli.load_command import load_command
from hubspot_loader.cli.parser import verbatim
from hubspot_loader.cli.sandbox_command import sandbox_command
from hubspot_loader.cli.state_command import state_command

PROG = "hubspot-loader"
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

INTERRUPTED = (
    "\ninterrupted: rows already answered are recorded; batches in flight stay pending in the sync "
    "state and are looked up before anything is resent by the next run\n"
)


class _Commands(click.Group):
    """The group, with a hint for ``hubspot-loader FILE ...`` (the file needs the ``load`` command)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and self.get_command(ctx, name) is None and "." in name and not name.startswith("-"):
            raise click.UsageError(f"no command {name!r}; to load a file: {PROG} load {name} ...", ctx)
        return super().resolve_command(ctx, args)


@click.group(
    PROG,
    cls=_Commands,
    help="Load warehouse rows into HubSpot CRM, or run a local HubSpot sandbox.",
    epilog=verbatim(EXIT_CODES_HELP),
    context_settings=CONTEXT_SETTINGS,
)
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def hubspot_loader_command() -> None:
    """Load warehouse rows into HubSpot CRM, or run a local HubSpot sandbox (the group of commands)."""


hubspot_loader_command.add_command(load_command)
hubspot_loader_command.add_command(sandbox_command)
hubspot_loader_command.add_command(state_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hubspot-loader`` with ``argv`` (default ``sys.argv[1:]``); return the command's exit code.

    A command's own outcome is returned (0, 1, 2, 3; 130 after Ctrl-C). Like argparse, a mistake in the
    command line itself (an unknown option, a bad value, a missing command) prints click's usage line and
    raises ``SystemExit(2)``, and ``--help``/``--version`` raise ``SystemExit(0)``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with hubspot_loader_command.make_context(PROG, args) as ctx:
            return int(hubspot_loader_command.invoke(ctx))
    except click.exceptions.Exit as exc:  # --help, --version
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except (KeyboardInterrupt, click.Abort):
        sys.stderr.write(INTERRUPTED)
        return EXIT_INTERRUPTED
