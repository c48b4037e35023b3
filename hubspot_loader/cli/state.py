"""Where ``hubspot-loader load`` keeps its sync state (the ledger) unless told otherwise.

The default is one file per user, not per directory, so the same command run from another directory
(or after ``cd``) still knows which rows it created: ``$HUBSPOT_LOADER_STATE`` when set, else
``$XDG_STATE_HOME/hubspot_loader/state.sqlite``, else ``~/.local/state/hubspot_loader/state.sqlite``
(``--state-url`` or ``$HUBSPOT_LOADER_STATE_URL`` put it in a database instead, e.g. PostgreSQL).
``XDG_STATE_HOME`` is the XDG Base Directory variable for "state data that should persist between
(application) restarts" (specification 0.8); a relative value is ignored, as the specification says.
Rows are kept per portal (base URL + token fingerprint, or ``--portal``) and object type, so one file
serves every portal and file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hubspot_loader.state import location

STATE_ENV = location.STATE_PATH_ENV
"""Environment variable naming the state file (overrides the XDG default; ``--state`` overrides it)."""


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the state file used without ``--state``/``--state-url``/``--no-state`` (module docstring).

    The per-user file of :func:`hubspot_loader.state.location.default_state_path`, without its
    ``$DAGSTER_HOME`` step: a shell that exports ``DAGSTER_HOME`` does not silently move it.
    """
    return location.default_state_path(environ, use_dagster_home=False)


def prepare_state_dir(path: Path) -> None:
    """Create the state file's directory, readable by the user only (the ledger may hold emails)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
