"""``hubspot-loader load``: check everything that can be checked, then load, then account for every row.

Order: the object types (``--object-type``, ``--associate``), the file and its columns, the
``--keys-from`` files, the token and client settings, one read from HubSpot (token, URL, object type and
property names), and only then the load. A mistake found on the way is one line on stderr and exit 2,
with nothing sent.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from hubspot_loader.cli.checks import (
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    check_properties_exist,
    no_unique_property_warning,
    probe,
)
from hubspot_loader.cli.exits import EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE, UsageError
from hubspot_loader.cli.explain import (
    TOKEN_ENV,
    explain_hubspot_error,
    explain_preflight,
    explain_stop,
    one_line,
)
from hubspot_loader.cli.files import (
    failed_rows_path,
    missing_columns_line,
    read_id_map,
    read_input,
    write_failed_rows,
    write_id_map,
)
from hubspot_loader.cli.objects import check_object_type
from hubspot_loader.cli.progress import LoadProgress
from hubspot_loader.cli.report import dry_run_report, problems_report, summary
from hubspot_loader.cli.state import default_state_path, prepare_state_dir
from hubspot_loader.core.model import AssociationColumn, LoadResult, RowOutcomes
from hubspot_loader.core.plan import property_mapping
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.core.stops import LoadAborted
from hubspot_loader.errors import HubSpotConfigurationError, HubSpotError, LoadUsageError, MissingColumnsError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.preflight_step import unique_property_for
from hubspot_loader.state.ledger import SQLiteLedger


@dataclass
class LoadInputs:
    """The checked inputs of one load."""

    object_type: str
    frame: pd.DataFrame
    mapping: dict[str, str]
    """Column → property, as :func:`~hubspot_loader.core.plan.property_mapping` settled it."""
    associations: list[AssociationColumn]
    id_maps: dict[str, dict[str, str]]


def prepare_inputs(args: argparse.Namespace) -> LoadInputs:
    """Check the object types, read the file, settle its columns and read the ``--keys-from`` files.

    Raises:
        UsageError: an unknown object type, a file that cannot be loaded, a column the options name that
            is not in the file, a ``--keys-from`` file that does not fit.
        LoadUsageError: the options do not fit the file (e.g. two columns mapped to one property).

    """
    object_type = check_object_type(args.object_type)
    associations = [
        dataclasses.replace(
            a, to_object_type=check_object_type(a.to_object_type, option=f"--associate {a.column}=")
        )
        for a in args.associations
    ]
    keys_from = dict(args.keys_from)
    associated = {a.column for a in associations}
    for column in keys_from:
        if column not in associated:
            raise UsageError(
                f"--keys-from {column}=...: no --associate {column}=OBJECT_TYPE is given for that column"
            )
    frame = read_input(args.file)
    properties = dict(args.properties) if args.properties else None
    try:
        mapping = property_mapping(frame, properties, key_column=args.key, associations=associations)
    except MissingColumnsError as exc:
        raise UsageError(missing_columns_line(exc, key=args.key, associations=associations)) from None
    id_maps: dict[str, dict[str, str]] = {}
    for i, association in enumerate(associations):
        path = keys_from.get(association.column)
        if path is not None:
            name = f"--keys-from {association.column}={path}"
            id_maps[name] = read_id_map(path, option=name)
            associations[i] = dataclasses.replace(association, keys_from=name)
    return LoadInputs(object_type, frame, mapping, associations, id_maps)


def make_client(args: argparse.Namespace, token: str) -> HubSpotClient:
    """Build the HTTP client for this load; bad settings are a :class:`UsageError`."""
    try:
        return HubSpotClient(
            token,
            base_url=args.base_url,
            api_version=args.api_version,
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            max_in_flight=args.max_in_flight,
            requests_per_10s=args.requests_per_10s,
            batch_size=args.batch_size,
        )
    except (HubSpotConfigurationError, ValueError) as exc:
        raise UsageError(one_line(str(exc))) from None


@contextlib.contextmanager
def open_state(
    args: argparse.Namespace, client: HubSpotClient | None
) -> Iterator[tuple[SQLiteLedger | None, Path | None]]:
    """Open the sync-state ledger; yield it and its path, or ``(None, None)`` with ``--no-state``.

    A dry run only reads it: it is opened when the file exists and a portal is known (a token or
    ``--portal``), and never created.
    """
    if args.no_state:
        if args.full_refresh:
            raise UsageError("--full-refresh sends every row again using the sync state; drop --no-state")
        yield None, None
        return
    path = (args.state or default_state_path()).expanduser()
    if args.dry_run and (not path.exists() or (client is None and not args.portal)):
        yield None, None
        return
    try:
        prepare_state_dir(path)
        ledger = SQLiteLedger(path)
    except (OSError, RuntimeError, ValueError, sqlite3.Error) as exc:  # not a database, locked, newer schema
        raise UsageError(
            f"cannot open the sync state {path}: {one_line(str(exc))}; pass another --state PATH"
        ) from None
    try:
        yield ledger, path
    finally:
        ledger.close()


def run_load(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``hubspot-loader load``; returns the exit code (see :mod:`hubspot_loader.cli.exits`)."""
    object_type = args.object_type
    try:
        inputs = prepare_inputs(args)
        object_type = inputs.object_type
        if len(inputs.frame) == 0:
            out.write(f"nothing to load: {args.file} has a header row but no rows\n")
            return EXIT_OK
        token = os.environ.get(TOKEN_ENV, "").strip()  # a pasted token often carries a newline
        if not token and not args.dry_run:
            raise UsageError(
                f"set ${TOKEN_ENV} to your HubSpot private app's access token (export {TOKEN_ENV}=pat-...)"
            )
        if not token and any(a.label for a in inputs.associations):
            raise UsageError(
                f"--associate with a label is looked up in HubSpot: set ${TOKEN_ENV}, even for --dry-run"
            )
        client = make_client(args, token) if token else None
        with contextlib.ExitStack() as stack:
            if client is not None:
                stack.callback(client.close)
            return _checked_load(args, inputs, client, out, err)
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return exc.exit_code
    except LoadUsageError as exc:  # the library refused the options for this file, before sending
        err.write(f"error: {_refusal(exc)}\n")
        return EXIT_USAGE
    except HubSpotError as exc:
        explained = explain_hubspot_error(exc, object_type=object_type, base_url=args.base_url)
        err.write(f"error: {explained.message}; nothing was sent\n")
        return explained.exit_code


def _checked_load(
    args: argparse.Namespace, inputs: LoadInputs, client: HubSpotClient | None, out: TextIO, err: TextIO
) -> int:
    """Read from HubSpot once (token, URL, object type, property names), then load."""
    object_type = inputs.object_type
    definitions = probe(client, object_type) if client is not None else None
    mapping = inputs.mapping
    if definitions is not None and args.preflight != "off":
        check_properties_exist(mapping, definitions, object_type)
    unique = args.unique_property or unique_property_for(object_type, mapping.values(), definitions)
    if unique is None and not args.dry_run:
        err.write(f"warning: {no_unique_property_warning(object_type)}\n")
    if client is None and args.preflight != "off":
        err.write(
            f"warning: ${TOKEN_ENV} is not set: the dry run cannot read HubSpot's properties (no preflight)\n"
        )
    with open_state(args, client) as (ledger, state_path):
        progress = LoadProgress(len(inputs.frame), err, enabled=not args.no_progress and not args.dry_run)
        try:
            spec = HubSpotLoadSpec(
                object_type=object_type,
                key_column=args.key,
                properties=mapping,
                associations=inputs.associations,
                unique_property=unique,
                preflight=args.preflight if client is not None else "off",
            )
            run = LoadRun(
                portal=args.portal,
                sync_mode="full_refresh" if args.full_refresh else "incremental",
                preview_rows=args.preview,
                on_batch=progress,
            )
            result = load_dataframe(
                inputs.frame,
                spec,
                client=client,
                ledger=ledger,
                id_maps=inputs.id_maps,
                run=run,
                dry_run=args.dry_run,
            )
        except LoadAborted as exc:
            progress.finish(exc.result)
            return _stopped(args, exc, state_path, out, err)
        except PreflightError as exc:
            progress.close()
            return _refused(args, exc, out, err)
        except BaseException:  # LoadUsageError included: run_load reports it
            progress.close()
            raise
        progress.finish(result)
    return _finished(args, result, state_path, out, err)


def _refusal(exc: LoadUsageError) -> str:
    """One line for options the library refused (e.g. no default association type for a pair)."""
    text = str(exc)
    if "Known default pairs" in text:  # the list of every known pair is too long for one line
        text = text.split(". Known default pairs")[0] + " (--associate COL=TYPE:TYPE_ID or COL=TYPE:LABEL)"
    return f"{one_line(text)}; nothing was sent"


def _finished(
    args: argparse.Namespace, result: LoadResult, state: Path | None, out: TextIO, err: TextIO
) -> int:
    if args.dry_run:
        dry_run_report(result, out)
        problems_report(result, err)
        return EXIT_ROWS_FAILED if result.rows_failed else EXIT_OK
    out.write(summary(result, state=state) + "\n")
    problems_report(result, err)
    _write_files(args, result, out)
    return EXIT_ROWS_FAILED if result.rows_failed else EXIT_OK


def _stopped(args: argparse.Namespace, exc: LoadAborted, state: Path | None, out: TextIO, err: TextIO) -> int:
    explained = explain_stop(exc)
    result = exc.result
    out.write(summary(result, state=state) + "\n")
    problems_report(result, err)
    _write_files(args, result, out)
    err.write(
        f"error: {explained.message}. {result.rows_created} row(s) created before the stop are kept; "
        f"{result.rows_failed} not created\n"
    )
    return explained.exit_code


def _refused(args: argparse.Namespace, exc: PreflightError, out: TextIO, err: TextIO) -> int:
    explained = explain_preflight(exc)
    report = exc.report
    if report.rows and not args.dry_run:
        refused = LoadResult(object_type=report.object_type, rows=RowOutcomes(report.rows))
        _write_files(args, refused, out, ids=False)
    err.write(f"error: {explained.message}\n")
    return explained.exit_code


def _write_files(args: argparse.Namespace, result: LoadResult, out: TextIO, *, ids: bool = True) -> None:
    """Write the failed-rows file (when rows failed) and the ``--ids-out`` file; never in a dry run."""
    if args.dry_run:
        return
    if result.rows_failed:
        path = args.failed_rows or failed_rows_path(args.file)
        write_failed_rows(result, path)
        out.write(f"{result.rows_failed} failed rows written to {path}\n")
    if ids and args.ids_out is not None:
        id_map = result.id_map
        write_id_map(id_map, args.ids_out)
        out.write(f"{len(id_map)} ids (key,hubspot_id) written to {args.ids_out}\n")
