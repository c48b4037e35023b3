"""The values of ``hubspot-loader load``'s options (click parameter types and callbacks), and help texts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from hubspot_loader.cli.exits import EXIT_CODES_HELP
from hubspot_loader.cli.state import STATE_ENV
from hubspot_loader.core.model import MAX_BATCH_SIZE, AssociationColumn

T = TypeVar("T")

STATE_HELP = f"""\
sync state:
  Every load records which rows it created (by --key) in a SQLite file, so running the same command
  again creates nothing twice: rows created earlier are skipped (and keep their ids for --ids-out).
  Default file: ${STATE_ENV}, else $XDG_STATE_HOME/hubspot_loader/state.sqlite, else
  ~/.local/state/hubspot_loader/state.sqlite. --state PATH uses another file; --no-state turns it off.
  --state-url URL (or $HUBSPOT_LOADER_STATE_URL) keeps it in a database shared by every machine that
  loads the portal: postgresql+psycopg://USER@HOST:PORT/DB (docs/production.md).
"""

SPEC_HELP = """\
spec file (--spec FILE, YAML, TOML or JSON):
  The fields of a load spec: object_type, key_column, properties (a list of columns, or a mapping
  column: property), associations (a list of {column, to_object_type, type_id | label, keys_from}),
  schema (package.module:NAME), unique_property, preflight, failure_threshold, batch_size,
  naive_timezone. A flag given on the command line overrides the file's value; --property and
  --associate replace the file's properties and associations. An association's keys_from is the
  --ids-out file of its parent load, relative to the spec file.
"""

EXAMPLES_HELP = """\
examples:
  hubspot-loader load companies.csv --object-type companies --key company_id --ids-out companies.ids.csv
  hubspot-loader load contacts.csv --object-type contacts --key customer_id \\
      --property mail=email --associate company_id=companies --keys-from company_id=companies.ids.csv
  hubspot-loader load contacts.parquet --object-type contacts --key customer_id --dry-run
  hubspot-loader load contacts.csv --spec contacts.load.yaml --dry-run
"""


def verbatim(*paragraphs: str) -> str:
    r"""Join help paragraphs so that click prints them as written (``\b``: no rewrapping)."""
    return "\n\n".join("\b\n" + p.strip("\n") for p in paragraphs)


LOAD_EPILOG = verbatim(EXIT_CODES_HELP, STATE_HELP, SPEC_HELP, EXAMPLES_HELP)


def parse_property(text: str) -> tuple[str, str]:
    """``col`` or ``col=property`` → (column, property)."""
    column, _, prop = text.partition("=")
    if not column:
        raise click.BadParameter(f"{text!r}: expected COLUMN or COLUMN=PROPERTY")
    return column, prop or column


def parse_association(text: str) -> AssociationColumn:
    """``column=object_type[:typeId|label]`` → :class:`AssociationColumn` (object type checked later)."""
    column, sep, target = text.partition("=")
    if not column or not sep or not target:
        raise click.BadParameter(
            f"{text!r}: expected COLUMN=OBJECT_TYPE, COLUMN=OBJECT_TYPE:TYPE_ID or COLUMN=OBJECT_TYPE:LABEL"
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
        raise click.BadParameter(f"{text!r}: expected COLUMN=FILE (a file from --ids-out)")
    return column, Path(path)


def each(
    parse: Callable[[str], T],
) -> Callable[[click.Context, click.Parameter, Sequence[str]], tuple[T, ...]]:
    """Return a click callback that parses every value of a repeatable option with ``parse``."""

    def callback(_ctx: click.Context, _param: click.Parameter, values: Sequence[str]) -> tuple[T, ...]:
        return tuple(parse(value) for value in values)

    return callback


class CountType(click.ParamType):
    """A whole number from 1 to ``maximum`` (``None``: no upper bound), with the reason when it is not."""

    name = "integer"

    def __init__(self, maximum: int | None = None, too_many: str = "") -> None:
        self.maximum = maximum
        self.too_many = too_many

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Return ``value`` as a count, or fail with a one-line reason."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value))
            except ValueError:
                self.fail(f"expected a whole number, got {value!r}", param, ctx)
        if number < 1:
            self.fail(f"expected a number of at least 1, got {number}", param, ctx)
        if self.maximum is not None and number > self.maximum:
            self.fail(self.too_many.format(maximum=self.maximum, value=number), param, ctx)
        return number


class BudgetType(CountType):
    """A rate budget: a whole number of at least 1, or ``learn`` (adopt HubSpot's stated limit)."""

    name = "integer|learn"

    def convert(  # type: ignore[override]
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | Literal["learn"]:
        """Return ``value`` as a count, or ``"learn"``."""
        if isinstance(value, str) and value.strip().lower() == "learn":
            return "learn"
        return super().convert(value, param, ctx)


POSITIVE = CountType()
BUDGET = BudgetType()
BATCH_SIZE = CountType(MAX_BATCH_SIZE, "HubSpot takes at most {maximum} inputs a batch, got {value}")
