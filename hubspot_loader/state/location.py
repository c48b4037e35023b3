"""Where the sync state lives when nobody says: a URL that does not depend on the working directory.

:func:`default_state_url` returns, in order:

1. ``$HUBSPOT_LOADER_STATE_URL``: any state URL (``postgresql+psycopg://…`` for a shared deployment);
2. ``$HUBSPOT_LOADER_STATE``: a SQLite file path (the CLI's variable);
3. ``$DAGSTER_HOME/hubspot_loader/state.sqlite`` when ``DAGSTER_HOME`` is an absolute path (Dagster
   requires it to be) and ``use_dagster_home`` is true: the state sits with the Dagster instance, whatever
   directory a step starts in;
4. ``$XDG_STATE_HOME/hubspot_loader/state.sqlite`` (an absolute ``XDG_STATE_HOME`` only, as the XDG Base
   Directory specification 0.8 says), else ``~/.local/state/hubspot_loader/state.sqlite``.

Every SQLite default is an absolute path. :func:`resolved_default_state` adds one step for ledgers made
before this default existed: when the default file does not exist yet but ``./.hubspot_loader/state.sqlite``
(:data:`LEGACY_STATE_PATH`, the old default relative to the working directory) does, that file is used
and a note says how to move it, so an upgrade never starts from an empty ledger (which would resend
every row). A fresh container (a pod per step) has an empty
``DAGSTER_HOME`` and home directory, so deployments whose steps do not share a disk set
``HUBSPOT_LOADER_STATE_URL`` to a PostgreSQL database (``docs/production.md``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hubspot_loader.state.store_url import sqlite_url

STATE_URL_ENV = "HUBSPOT_LOADER_STATE_URL"
"""Environment variable holding the state URL (the highest-priority default)."""
STATE_PATH_ENV = "HUBSPOT_LOADER_STATE"
"""Environment variable holding a SQLite state file path (the CLI's; below ``STATE_URL_ENV``)."""
STATE_FILE = Path("hubspot_loader") / "state.sqlite"
LEGACY_STATE_PATH = Path(".hubspot_loader") / "state.sqlite"
"""The Dagster resource's earlier default, relative to the working directory of the step."""


def _absolute(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    if value and Path(value).expanduser().is_absolute():
        return Path(value).expanduser()
    return None


def default_state_path(environ: Mapping[str, str] | None = None, *, use_dagster_home: bool = True) -> Path:
    """Return the SQLite file of steps 2 to 4 of :func:`default_state_url` (the URL variable aside)."""
    env = os.environ if environ is None else environ
    explicit = env.get(STATE_PATH_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    dagster_home = _absolute(env, "DAGSTER_HOME") if use_dagster_home else None
    if dagster_home is not None:
        return dagster_home / STATE_FILE
    xdg = _absolute(env, "XDG_STATE_HOME")
    if xdg is not None:
        return xdg / STATE_FILE
    return Path.home() / ".local" / "state" / STATE_FILE


def default_state_url(environ: Mapping[str, str] | None = None, *, use_dagster_home: bool = True) -> str:
    """Return the state URL to use when none is configured (see the module docstring).

    ``use_dagster_home=False`` skips step 3 (the CLI's default has always been the per-user XDG file; a
    shell that exports ``DAGSTER_HOME`` should not silently move it).
    """
    env = os.environ if environ is None else environ
    explicit = env.get(STATE_URL_ENV, "").strip()
    if explicit:
        return explicit
    path = default_state_path(env, use_dagster_home=use_dagster_home)
    return sqlite_url(path).render_as_string(hide_password=False)


def resolved_default_state(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[str, str | None]:
    """Return the default state URL and, when the legacy file is used instead, a note saying so.

    See the module docstring: :func:`default_state_url`, unless only the legacy file exists.
    """
    env = os.environ if environ is None else environ
    url = default_state_url(env)
    if env.get(STATE_URL_ENV, "").strip() or env.get(STATE_PATH_ENV, "").strip():
        return url, None
    legacy = (cwd or Path.cwd()) / LEGACY_STATE_PATH
    default = default_state_path(env)
    if default.exists() or not legacy.is_file():
        return url, None
    note = (
        f"using the sync state at {legacy} (the old default, relative to the working directory); "
        f"move it to {default} (the default now) or set state_path/state_url to keep it where it is"
    )
    return sqlite_url(legacy.absolute()).render_as_string(hide_password=False), note


__all__ = [
    "LEGACY_STATE_PATH",
    "STATE_FILE",
    "STATE_PATH_ENV",
    "STATE_URL_ENV",
    "default_state_path",
    "default_state_url",
    "resolved_default_state",
]
