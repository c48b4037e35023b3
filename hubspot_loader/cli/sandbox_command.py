"""``hubspot-loader sandbox ...``: the local HubSpot sandbox as a click command.

The sandbox uses the standard library only, so its options are defined once, by its own argparse
parser (:func:`hubspot_loader.sandbox.cli.build_parser`, also behind ``python -m hubspot_loader.sandbox``).
This command is built from that parser's options, so both take the same flags with the same defaults and
help, and both turn them into a :class:`~hubspot_loader.sandbox.config.SandboxConfig` the same way
(:func:`~hubspot_loader.sandbox.cli.config_from_args`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import click

from hubspot_loader.sandbox.cli import build_parser, config_from_args, serve
from hubspot_loader.sandbox.config import SandboxConfig

_TYPES: dict[Any, click.ParamType] = {
    None: click.STRING,
    str: click.STRING,
    int: click.INT,
    float: click.FLOAT,
}


def click_option(action: argparse.Action) -> click.Option:
    """Return the click option that takes what the argparse ``action`` takes (flag, value, repeated value).

    Raises:
        TypeError: an action of a kind this translation does not know (so a new kind fails loudly).

    """
    if not action.option_strings:
        raise TypeError(f"sandbox argument {action.dest!r}: positional arguments have no click form here")
    hidden = action.help == argparse.SUPPRESS
    common: dict[str, Any] = {"help": None if hidden else action.help, "hidden": hidden}
    if action.metavar is not None:
        common["metavar"] = action.metavar
    declarations = [action.dest, *action.option_strings]
    if isinstance(action, argparse._StoreTrueAction):
        return click.Option(declarations, is_flag=True, default=False, **common)
    if type(action) not in (argparse._StoreAction, argparse._AppendAction) or action.type not in _TYPES:
        kind = type(action).__name__
        raise TypeError(f"sandbox option {action.option_strings[0]}: {kind} has no click form")
    value_type = click.Choice([str(c) for c in action.choices]) if action.choices else _TYPES[action.type]
    if isinstance(action, argparse._AppendAction):
        return click.Option(declarations, type=value_type, multiple=True, **common)
    return click.Option(declarations, type=value_type, default=action.default, **common)


def _options(parser: argparse.ArgumentParser) -> list[click.Parameter]:
    return [click_option(a) for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def sandbox_config(values: Mapping[str, Any]) -> SandboxConfig:
    """Turn the command's parsed values into the sandbox's config, as its own parser's values would be.

    Raises:
        click.UsageError: the ``--config`` file cannot be read, or the sandbox refuses a value.

    """
    namespace = argparse.Namespace(
        **{name: (list(v) or None) if isinstance(v, tuple) else v for name, v in values.items()}
    )
    try:
        return config_from_args(namespace)
    except OSError as exc:  # --config FILE
        raise click.UsageError(f"cannot read --config {namespace.config}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a value the sandbox refuses, or a --config file that is not JSON
        raise click.UsageError(" ".join(str(exc).split())) from None


def _run(**values: Any) -> int:
    """Start the sandbox with the options given and serve until Ctrl-C or SIGTERM."""
    return serve(sandbox_config(values))


_PARSER = build_parser()

sandbox_command = click.Command(
    "sandbox",
    callback=_run,
    params=_options(_PARSER),
    help=_PARSER.description,
    short_help="run the local HubSpot sandbox server",
)
