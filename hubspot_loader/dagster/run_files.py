"""Files a load leaves for its run: the CSV of every failed row, and the portal's account info.

They live in one directory per run, ``<root>/<run id>/``. ``root`` is
:attr:`~hubspot_loader.dagster.resource.HubSpotResource.outcomes_dir` when set (relative paths: to the
run's working directory), else ``hubspot_loader/`` in the Dagster instance's storage directory
(``$DAGSTER_HOME/storage/hubspot_loader/``, beside the default IO manager's files). ``outcomes_dir=""``
turns the files off. An ephemeral instance (``materialize()`` without ``instance=``) keeps its storage
in a temporary directory that goes with it, so give such runs an ``outcomes_dir`` to keep the files.

Layout::

    <root>/<run id>/<asset key path>/failed_rows.csv   every failed row: key, position, category, code,
                                                       property, message, http_status (one line each)
    <root>/<run id>/account_info.<portal hash>.json    the portal id and UI domain read for the run's
                                                       portal link (one account-info read per run),
                                                       or why they could not be read; ``….json.lock``
                                                       is the lock the run's steps take to read it once

Neither file holds the access token: the CSV holds the rows' keys and HubSpot's (or preflight's)
reasons, the JSON HubSpot's ``portalId`` and ``uiDomain``; the portal hash is a SHA-256 prefix of the
API root and the token's fingerprint.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.tables import failed_rows_table
from hubspot_loader.dagster.resource import HubSpotResource

FAILED_ROWS_FILE = "failed_rows.csv"
"""The name of the failed-rows CSV in an asset's folder of the run directory."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def run_directory(context: dg.AssetExecutionContext, hubspot: HubSpotResource) -> Path | None:
    """Return the directory of this run's outcome files (made on first write); ``None`` if they are off."""
    if hubspot.outcomes_dir == "":
        return None
    if hubspot.outcomes_dir is not None:
        root = Path(hubspot.outcomes_dir).expanduser().resolve()
    else:
        root = Path(context.instance.storage_directory()).resolve() / "hubspot_loader"
    return root / _safe_part(context.run.run_id)


def asset_directory(run_dir: Path, asset_key: dg.AssetKey) -> Path:
    """Return the folder of one asset's files in ``run_dir`` (a level per key part, safe as file names)."""
    return run_dir.joinpath(*(_safe_part(part) for part in asset_key.path))


def write_failed_rows(result: LoadResult, directory: Path) -> Path | None:
    """Write every failed row of ``result`` to ``directory/failed_rows.csv``; ``None`` when none failed.

    The columns are :data:`~hubspot_loader.core.tables.FAILED_ROWS_COLUMNS`, in input order, as the
    CLI's ``FILE.failed.csv``. The file appears whole or not at all (written beside it, then renamed).
    """
    if result.rows_failed == 0:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FAILED_ROWS_FILE
    with atomic_file(target) as temporary:
        failed_rows_table(result).to_csv(temporary, index=False)
    return target


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``, else it is removed."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _safe_part(part: str) -> str:
    cleaned = _UNSAFE.sub("_", part)
    return cleaned if cleaned.strip(".") else "_"
