"""Where ``hubspot-loader load`` keeps its sync state (the ledger) unless told otherwise.

The default is one file per user, not per directory, so the same command run from another directory
(or after ``cd``) still knows which rows it created: ``$HUBSPOT_LOADER_STATE`` when set, else
``$XDG_STATE_HOME/hubspot_loader/state.sqlite``, else ``~/.local/state/hubspot_loader/state.sqlite``.
``XDG_STATE_HOME`` is the XDG Base Directory variable for "state data that should persist between
(application) restarts" (specification 0.8); a relative value is ignored, as the specification says.
Rows are kept per portal (base URL + token fingerprint, or ``--portal``) and object type, so one file
serves every portal and file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STATE_ENV = "HUBSPOT_LOADER_STATE"
"""Environment variable naming the state file (overrides the XDG default; ``--state`` overrides it)."""
STATE_FILE = Path("hubspot_loader") / "state.sqlite"


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the state file used without ``--state``/``--no-state`` (see the module docstring)."""
    env = os.environ if environ is None else environ
    explicit = env.get(STATE_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_STATE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / STATE_FILE
    return Path.home() / ".local" / "state" / STATE_FILE


def prepare_state_dir(path: Path) -> None:
    """Create the state file's directory, readable by the user only (the ledger may hold emails)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
