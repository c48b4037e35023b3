"""``hubspot-loader load``: check everything that can be checked, then load, then account for every row.

Order: the ``--spec`` file and the flags (:mod:`hubspot_loader.cli.settle`), the object types
(``--object-type``, ``--associate``), the file and its columns, the ``--keys-from`` files, the token and
client settings, one read from HubSpot (token, URL, object type and property names), and only then the
load. A mistake found on the way is one line on stderr and exit 2, with nothing sent.
"""

from __future__ import annotations

import contextlib
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
    write_schema_failures,
)
from hubspot_loader.cli.options import LoadOptions
from hubspot_loader.cli.progress import LoadProgress
from hubspot_loader.cli.report import FAILED_ROWS_SHOWN, dry_run_report, problems_report, summary
from hubspot_loader.cli.settle import SettledLoad, settle_load
from hubspot_loader.cli.state import default_state_path, prepare_state_dir
from hubspot_loader.core.model import LoadResult, RowOutcomes
from hubspot_loader.core.plan import property_mapping
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.core.stops import LoadAborted
from hubspot_loader.core.validation import DataValidationError
from hubspot_loader.errors import HubSpotConfigurationError, HubSpotError, LoadUsageError, MissingColumnsError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.preflight_step import unique_property_for
from hubspot_loader.state.ledger import STATE_URL_ENV, LedgerError, SQLiteLedger, SqlLedger, open_ledger
from hubspot_loader.state.store_url import parse_state_url, redact


@dataclass
class LoadInputs:
    """The checked inputs of one load."""

    settled: SettledLoad
    frame: pd.DataFrame
    mapping: dict[str, str]
    """Column → property, as :func:`~hubspot_loader.core.plan.property_mapping` settled it."""
    id_maps: dict[str, dict[str, str]]

    @property
    def spec(self) -> HubSpotLoadSpec:
        """The load spec (flags over the spec file; object types checked)."""
        return self.settled.spec


def prepare_inputs(options: LoadOptions) -> LoadInputs:
    """Settle the spec, read the file, settle its columns and read the id-map (``--keys-from``) files.

    Raises:
        UsageError: a bad spec file or flag, an unknown object type, a file that cannot be loaded, a
            column the options name that is not in the file, a ``--keys-from`` file that does not fit.
        LoadUsageError: the options do not fit the file (e.g. two columns mapped to one property).

    """
    settled = settle_load(options)
    spec = settled.spec
    key = str(spec.key_column)
    frame = read_input(options.file)
    try:
        mapping = property_mapping(frame, spec.properties, key_column=key, associations=spec.associations)
    except MissingColumnsError as exc:
        raise UsageError(
            missing_columns_line(
                exc,
                key=key,
                associations=spec.associations,
                property_label=settled.property_label,
                association_label=settled.association_label,
            )
        ) from None
    id_maps = {name: read_id_map(f.path, option=f.label) for name, f in settled.id_map_files.items()}
    return LoadInputs(settled, frame, mapping, id_maps)


def make_client(options: LoadOptions, token: str, batch_size: int) -> HubSpotClient:
    """Build the HTTP client for this load; bad settings are a :class:`UsageError`."""
    try:
        return HubSpotClient(
            token,
            base_url=options.base_url,
            settings=ClientSettings(
                api_version=options.api_version,
                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                max_in_flight=options.max_in_flight,
                requests_per_10s=options.requests_per_10s,
                batch_size=batch_size,
            ),
        )
    except (HubSpotConfigurationError, ValueError) as exc:
        raise UsageError(one_line(str(exc))) from None


@contextlib.contextmanager
def open_state(
    options: LoadOptions, client: HubSpotClient | None
) -> Iterator[tuple[SqlLedger | None, str | None]]:
    """Open the sync-state ledger; yield it and where it is, or ``(None, None)`` with ``--no-state``.

    Where: ``--state-url``, else ``--state``, else ``$HUBSPOT_LOADER_STATE_URL``, else the default file
    (:func:`~hubspot_loader.cli.state.default_state_path`). A dry run only reads it: it is opened when the
    database can exist (a file that exists, or a URL) and a portal is known (a token or ``--portal``), and
    never created.
    """
    if options.no_state:
        if options.full_refresh:
            raise UsageError("--full-refresh sends every row again using the sync state; drop --no-state")
        yield None, None
        return
    url = options.state_url or (None if options.state else os.environ.get(STATE_URL_ENV, "").strip() or None)
    path = None if url else (options.state or default_state_path()).expanduser()
    if options.dry_run and (
        (path is not None and not path.exists()) or (client is None and not options.portal)
    ):
        yield None, None
        return
    try:
        ledger, where = _opened(url, path)
    except (OSError, LedgerError, ValueError, sqlite3.Error) as exc:  # not a database, locked, newer schema
        flag = "--state-url URL" if url else "--state PATH"
        where = str(path) if url is None else _shown(url)
        message = f"cannot open the sync state {where}: {one_line(str(exc))}; pass another {flag}"
        raise UsageError(message) from None
    try:
        yield ledger, where
    finally:
        ledger.close()


def _opened(url: str | None, path: Path | None) -> tuple[SqlLedger, str]:
    """Open the ledger at ``url`` (a state URL) or ``path`` (a SQLite file, made private to the user)."""
    if url is not None:
        ledger = open_ledger(url)
        return ledger, redact(ledger.url)
    assert path is not None
    prepare_state_dir(path)
    return SQLiteLedger(path), str(path)


def _shown(url: str) -> str:
    """Return the state URL with its password masked (a URL that does not parse is not shown at all)."""
    try:
        return redact(parse_state_url(url))
    except (LedgerError, ValueError):
        return "given by --state-url or $HUBSPOT_LOADER_STATE_URL"


def run_load(options: LoadOptions, out: TextIO, err: TextIO) -> int:
    """Run ``hubspot-loader load``; returns the exit code (see :mod:`hubspot_loader.cli.exits`)."""
    object_type = options.object_type or ""
    try:
        inputs = prepare_inputs(options)
        object_type = inputs.spec.object_type
        if len(inputs.frame) == 0:
            out.write(f"nothing to load: {options.file} has a header row but no rows\n")
            return EXIT_OK
        token = os.environ.get(TOKEN_ENV, "").strip()  # a pasted token often carries a newline
        if not token and not options.dry_run:
            raise UsageError(
                f"set ${TOKEN_ENV} to your HubSpot private app's access token (export {TOKEN_ENV}=pat-...)"
            )
        if not token and any(a.label for a in inputs.spec.associations):
            raise UsageError(
                f"--associate with a label is looked up in HubSpot: set ${TOKEN_ENV}, even for --dry-run"
            )
        client = make_client(options, token, inputs.settled.batch_size) if token else None
        with contextlib.ExitStack() as stack:
            if client is not None:
                stack.callback(client.close)
            return _checked_load(options, inputs, client, out, err)
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return exc.exit_code
    except LoadUsageError as exc:  # the library refused the options for this file, before sending
        err.write(f"error: {_refusal(exc)}\n")
        return EXIT_USAGE
    except HubSpotError as exc:
        explained = explain_hubspot_error(exc, object_type=object_type, base_url=options.base_url)
        err.write(f"error: {explained.message}; nothing was sent\n")
        return explained.exit_code
    except DataValidationError as exc:
        return _schema_refused(options, exc, out, err)


def _checked_load(
    options: LoadOptions, inputs: LoadInputs, client: HubSpotClient | None, out: TextIO, err: TextIO
) -> int:
    """Read from HubSpot once (token, URL, object type, property names), then load."""
    spec = inputs.spec
    object_type = spec.object_type
    definitions = probe(client, object_type) if client is not None else None
    mapping = inputs.mapping
    if definitions is not None and spec.preflight != "off":
        check_properties_exist(mapping, definitions, object_type)
    unique = spec.unique_property or unique_property_for(object_type, mapping.values(), definitions)
    if unique is None and not options.dry_run:
        err.write(f"warning: {no_unique_property_warning(object_type)}\n")
    if client is None and spec.preflight != "off":
        err.write(
            f"warning: ${TOKEN_ENV} is not set: the dry run cannot read HubSpot's properties (no preflight)\n"
        )
    spec = spec.replace(
        properties=mapping, unique_property=unique, preflight=spec.preflight if client is not None else "off"
    )
    with open_state(options, client) as (ledger, state_path):
        enabled = not options.no_progress and not options.dry_run
        progress = LoadProgress(len(inputs.frame), err, enabled=enabled)
        try:
            run = LoadRun(
                portal=options.portal,
                sync_mode="full_refresh" if options.full_refresh else "incremental",
                preview_rows=options.preview,
                on_batch=progress,
                share_rate_budget=options.shared_budget,
            )
            result = load_dataframe(
                inputs.frame,
                spec,
                client=client,
                ledger=ledger,
                id_maps=inputs.id_maps,
                run=run,
                dry_run=options.dry_run,
            )
        except LoadAborted as exc:
            progress.finish(exc.result)
            return _stopped(options, exc, state_path, out, err)
        except PreflightError as exc:
            progress.close()
            return _refused(options, exc, out, err)
        except BaseException:  # LoadUsageError, DataValidationError included: run_load reports them
            progress.close()
            raise
        progress.finish(result)
    return _finished(options, spec, result, state_path, out, err)


def _refusal(exc: LoadUsageError) -> str:
    """One line for options the library refused (e.g. no default association type for a pair)."""
    text = str(exc)
    if "Known default pairs" in text:  # the list of every known pair is too long for one line
        text = text.split(". Known default pairs")[0] + " (--associate COL=TYPE:TYPE_ID or COL=TYPE:LABEL)"
    return f"{one_line(text)}; nothing was sent"


def _finished(
    options: LoadOptions,
    spec: HubSpotLoadSpec,
    result: LoadResult,
    state: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    if options.dry_run:
        dry_run_report(result, out)
        problems_report(result, err)
    else:
        out.write(summary(result, state=state) + "\n")
        problems_report(result, err)
        _write_files(options, result, out)
    if not result.rows_failed:
        return EXIT_OK
    if spec.failure_threshold is None or spec.threshold_exceeded(result.rows_failed, result.rows_total):
        return EXIT_ROWS_FAILED
    out.write(
        f"{result.rows_failed} failed row(s) of {result.rows_total} are within the failure threshold "
        f"({spec.failure_threshold:g}): exit {EXIT_OK}\n"
    )
    return EXIT_OK


def _schema_refused(options: LoadOptions, exc: DataValidationError, out: TextIO, err: TextIO) -> int:
    """Report a frame that failed the spec's schema (nothing was sent); write the refused rows."""
    entries = exc.report.entries
    for entry in entries[:FAILED_ROWS_SHOWN]:
        err.write(f"failed: {entry.describe()}\n")
    if len(entries) > FAILED_ROWS_SHOWN:
        err.write(f"failed: ... and {len(entries) - FAILED_ROWS_SHOWN} more (see the failed-rows file)\n")
    head = one_line(exc.report.message.splitlines()[0])
    if exc.rows_failed and not options.dry_run:
        path = options.failed_rows or failed_rows_path(options.file)
        write_schema_failures(entries, path)
        out.write(f"{exc.rows_failed} failed rows written to {path}\n")
    if not exc.rows_failed:  # the schema could not run on this frame at all
        err.write(f"error: {options.file}: {head}; check the schema; nothing was sent\n")
        return EXIT_USAGE
    err.write(
        f"error: {options.file} does not pass the schema ({head}); nothing was sent. Fix those rows (see "
        "the failed-rows file) or the schema\n"
    )
    return EXIT_ROWS_FAILED


def _stopped(options: LoadOptions, exc: LoadAborted, state: str | None, out: TextIO, err: TextIO) -> int:
    explained = explain_stop(exc)
    result = exc.result
    out.write(summary(result, state=state) + "\n")
    problems_report(result, err)
    _write_files(options, result, out)
    err.write(
        f"error: {explained.message}. {result.rows_created} row(s) created before the stop are kept; "
        f"{result.rows_failed} not created\n"
    )
    return explained.exit_code


def _refused(options: LoadOptions, exc: PreflightError, out: TextIO, err: TextIO) -> int:
    explained = explain_preflight(exc)
    report = exc.report
    if report.rows and not options.dry_run:
        refused = LoadResult(object_type=report.object_type, rows=RowOutcomes(report.rows))
        _write_files(options, refused, out, ids=False)
    err.write(f"error: {explained.message}\n")
    return explained.exit_code


def _write_files(options: LoadOptions, result: LoadResult, out: TextIO, *, ids: bool = True) -> None:
    """Write the failed-rows file (when rows failed) and the ``--ids-out`` file; never in a dry run."""
    if options.dry_run:
        return
    if result.rows_failed:
        path = options.failed_rows or failed_rows_path(options.file)
        write_failed_rows(result, path)
        out.write(f"{result.rows_failed} failed rows written to {path}\n")
    if ids and options.ids_out is not None:
        id_map = result.id_map
        write_id_map(id_map, options.ids_out)
        out.write(f"{len(id_map)} ids (key,hubspot_id) written to {options.ids_out}\n")
