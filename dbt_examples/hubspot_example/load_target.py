"""Where the example's loads go: the local sandbox unless the user opts in to real HubSpot.

``HUBSPOT_TARGET`` (or ``demo.py --target``) chooses:

- ``sandbox`` (the default): the HubSpot sandbox shipped with the package, embedded in the run and
  persisted in ``$HUBSPOT_LOADER_DEMO_DIR/sandbox.sqlite`` (``.demo/`` by default), or the one already
  running at ``HUBSPOT_SANDBOX_URL`` (``make dev`` starts one on port 8765). ``HUBSPOT_ACCESS_TOKEN`` is
  ignored, even when it is exported in the shell: a data engineer's shell often holds a real token, and
  the demo's 3,690 records must not land in that portal by accident;
- ``hubspot``: real HubSpot at ``HUBSPOT_BASE_URL`` (default ``https://api.hubapi.com``) with
  ``HUBSPOT_ACCESS_TOKEN``, which must then be set.

This module has no Dagster import, so ``demo.py`` can say which target it uses before anything else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hubspot_loader.http.base_url import DEFAULT_BASE_URL

TARGET_ENV = "HUBSPOT_TARGET"
TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
BASE_URL_ENV = "HUBSPOT_BASE_URL"
SANDBOX_URL_ENV = "HUBSPOT_SANDBOX_URL"
DEMO_DIR_ENV = "HUBSPOT_LOADER_DEMO_DIR"
SANDBOX = "sandbox"
HUBSPOT = "hubspot"
TARGETS = (SANDBOX, HUBSPOT)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (``.demo/`` is there)."""


class TargetError(ValueError):
    """``HUBSPOT_TARGET`` (or ``--target``) is not usable as given; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """The chosen target: ``kind`` is ``sandbox`` or ``hubspot``."""

    kind: str
    base_url: str | None = None
    """Real HubSpot's API root (``hubspot`` only)."""
    sandbox_url: str | None = None
    """A sandbox already running (``HUBSPOT_SANDBOX_URL``); ``None``: one embedded in each run."""
    token_ignored: bool = False
    """``HUBSPOT_ACCESS_TOKEN`` is set but the target is the sandbox."""

    def describe(self, sandbox_db: Path | None = None) -> str:
        """One line saying where the loads go (the demo's first line)."""
        if self.kind == HUBSPOT:
            return (
                f"Target: real HubSpot at {self.base_url} ({TARGET_ENV}=hubspot), the portal of ${TOKEN_ENV}"
            )
        if self.sandbox_url:
            where = f"the local HubSpot sandbox at {self.sandbox_url}"
        else:
            where = f"the embedded HubSpot sandbox ({sandbox_db or default_sandbox_db()})"
        note = (
            f"; ${TOKEN_ENV} is set but not used: {TARGET_ENV}=hubspot (or --target hubspot) loads into "
            "that portal"
            if self.token_ignored
            else ""
        )
        return f"Target: {where}, not a real HubSpot portal{note}"


def default_sandbox_db(environ: Mapping[str, str] | None = None) -> Path:
    """The embedded sandbox: ``$HUBSPOT_LOADER_DEMO_DIR/sandbox.sqlite``, else ``.demo/sandbox.sqlite``."""
    env = os.environ if environ is None else environ
    return Path(env.get(DEMO_DIR_ENV, str(PROJECT_ROOT / ".demo"))) / "sandbox.sqlite"


def choose_target(flag: str | None = None, environ: Mapping[str, str] | None = None) -> Target:
    """Choose the target from ``flag`` (``--target``), else ``$HUBSPOT_TARGET``, else ``sandbox``.

    Raises:
        TargetError: an unknown target, or ``hubspot`` without ``HUBSPOT_ACCESS_TOKEN``.

    """
    env = os.environ if environ is None else environ
    source = "--target" if flag else TARGET_ENV
    value = (flag or env.get(TARGET_ENV) or SANDBOX).strip().lower()
    if value not in TARGETS:
        raise TargetError(f"{source}={value!r}: expected 'sandbox' (the default) or 'hubspot'")
    token = env.get(TOKEN_ENV, "")
    if value == HUBSPOT:
        if not token:
            raise TargetError(
                f"{source}=hubspot loads into a real HubSpot portal and needs ${TOKEN_ENV}; export it, or "
                f"drop {source} to use the local sandbox"
            )
        return Target(HUBSPOT, base_url=env.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
    return Target(SANDBOX, sandbox_url=env.get(SANDBOX_URL_ENV) or None, token_ignored=bool(token))
