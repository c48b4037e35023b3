"""The Dagster resource: HubSpot connection settings that hand out a :class:`HubSpotClient` and a ledger.

The token and the API root may come from the environment alone: ``HubSpotResource()`` reads
``$HUBSPOT_ACCESS_TOKEN`` and ``$HUBSPOT_BASE_URL`` (default ``https://api.hubapi.com``) each time it makes
a client, so the same definitions run against real HubSpot or a local sandbox with no code change.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from hubspot_loader.core.model import MAX_BATCH_SIZE
from hubspot_loader.core.secrets import token_fingerprint
from hubspot_loader.errors import HubSpotConfigurationError
from hubspot_loader.http.base_url import DEFAULT_BASE_URL, check_base_url
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import DEFAULT_MAX_IN_FLIGHT, LEARN, ClientSettings
from hubspot_loader.state.ledger import SQLiteLedger, SyncLedger, default_portal, open_ledger
from hubspot_loader.state.location import resolved_default_state

logger = logging.getLogger(__name__)

DEFAULT_STATE_PATH = "default"
"""``state_path``'s default: the state location that does not depend on the working directory of a step
(:func:`~hubspot_loader.state.location.resolved_default_state`; ``docs/production.md``)."""

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
"""The environment variable the token is read from when ``access_token`` is not set."""

BASE_URL_ENV = "HUBSPOT_BASE_URL"
"""The environment variable the API root is read from when ``base_url`` is not set."""


class HubSpotResource(dg.ConfigurableResource):
    """Connection settings for one HubSpot portal.

    Give the token through an environment variable so it never appears in the UI or in run config:

    .. code-block:: python

        import dagster as dg
        from hubspot_loader import HubSpotResource

        hubspot = HubSpotResource(access_token=dg.EnvVar("HUBSPOT_ACCESS_TOKEN"))
        hubspot = HubSpotResource()  # the same: $HUBSPOT_ACCESS_TOKEN, and $HUBSPOT_BASE_URL if set

    Unset, ``access_token`` is ``$HUBSPOT_ACCESS_TOKEN`` and ``base_url`` is ``$HUBSPOT_BASE_URL`` or
    ``https://api.hubapi.com``, both read when a client is made (at run time, never stored in the
    definitions); ``HUBSPOT_BASE_URL=http://127.0.0.1:8765`` points the loads at a local sandbox.
    The token is never logged, written to metadata, or shown by ``repr``.

    Sync state: loads remember which rows they created in a ledger: ``state_url`` (PostgreSQL for a
    deployment whose steps run in fresh pods), else the SQLite file ``state_path``. By default that is
    ``$HUBSPOT_LOADER_STATE_URL``, else ``$HUBSPOT_LOADER_STATE``, else
    ``$DAGSTER_HOME/hubspot_loader/state.sqlite``, else ``~/.local/state/hubspot_loader/state.sqlite``:
    never relative to the directory a step starts in. ``state_path=None`` or ``""`` turns it off, so
    every run sends every row. With the default ``sync_mode="incremental"`` a scheduled run creates
    only rows whose key has no HubSpot id yet. Set ``portal`` to the HubSpot account id so the state
    survives token rotation (see ``docs/ledger.md``).
    """

    access_token: str | None = Field(
        default=None,
        description=f"Private-app or OAuth access token (use dg.EnvVar); default: ${TOKEN_ENV} at run time.",
    )
    base_url: str | None = Field(
        default=None,
        description=(
            f"API root (a sandbox's URL for local runs); default: ${BASE_URL_ENV} at run time, else "
            f"{DEFAULT_BASE_URL}."
        ),
    )
    api_version: str = Field(
        default="2026-03", description="Date version for /crm/objects/<version>/...; 'v3' for legacy paths."
    )
    batch_size: int = Field(
        default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="Inputs per batch-create request."
    )
    max_in_flight: int = Field(
        default=DEFAULT_MAX_IN_FLIGHT,
        ge=1,
        le=256,
        description=(
            "The most batches in flight; how many are follows the round trip and the budget "
            "(ClientSettings.adaptive_concurrency)."
        ),
    )
    requests_per_10s: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Rolling 10-second request budget, a hard cap: 100 (Free/Starter), 190 (Pro/Enterprise), 250 "
            "(limit pack); unset (default): start at 100 and adopt HubSpot's X-HubSpot-RateLimit-Max."
        ),
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for one response.")
    max_attempts: int = Field(
        default=5, ge=1, description="Attempts per request for 5xx, timeouts and connection errors."
    )
    max_retry_seconds: float = Field(
        default=300.0, gt=0, description="Total seconds one request may spend retrying."
    )
    resend_ambiguous: bool = Field(
        default=True,
        description=(
            "Without a unique property, resend rows whose answer was lost (duplicates possible, warned) "
            "instead of failing them."
        ),
    )
    dry_run: bool = Field(default=False, description="Validate and convert, but send no write request.")
    state_path: str | None = Field(
        default=DEFAULT_STATE_PATH,
        description=(
            "SQLite ledger of loaded rows. 'default': $HUBSPOT_LOADER_STATE_URL, else "
            "$HUBSPOT_LOADER_STATE, else $DAGSTER_HOME/hubspot_loader/state.sqlite, else "
            "~/.local/state/hubspot_loader/state.sqlite; a path: that file (relative: to the run's "
            "working directory); None or '' disables incremental state."
        ),
    )
    state_url: str | None = Field(
        default=None,
        description=(
            "The ledger's database instead of state_path: postgresql+psycopg://USER@HOST:PORT/DB (the "
            "postgres extra) or sqlite:///PATH; use dg.EnvVar for credentials. Wins over state_path."
        ),
    )
    share_rate_budget: bool = Field(
        default=True,
        description=(
            "Pace every load through one rate window per token kept in the state database, so loads in "
            "other processes and pods using the same state and token stay under the limit together."
        ),
    )
    sync_mode: Literal["incremental", "full_refresh"] = Field(
        default="incremental",
        description="incremental: create only rows without a HubSpot id in the ledger; full_refresh: all.",
    )
    outcomes_dir: str | None = Field(
        default=None,
        description=(
            "Where each run's outcome files go (the CSV of every failed row; the portal's account info): "
            "<dir>/<run id>/...; default: hubspot_loader/ in the Dagster instance's storage directory "
            "($DAGSTER_HOME/storage); relative paths: to the run's working directory; '' writes none."
        ),
    )
    portal: str | None = Field(
        default=None,
        description=(
            "Portal identity the ledger keys rows by (e.g. the HubSpot account id); default: base URL + "
            "a short SHA-256 fingerprint of the token (never the token)."
        ),
    )

    def get_client(self) -> HubSpotClient:
        """Return a new client for this portal (one per run; close it when done)."""
        return self.client_for(self.api_root())

    def api_root(self) -> str:
        """Return the API root clients talk to: ``base_url``, else ``$HUBSPOT_BASE_URL``, else HubSpot's."""
        return self.base_url or os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL

    def token(self) -> str:
        """Return the access token: ``access_token``, else ``$HUBSPOT_ACCESS_TOKEN``.

        Raises:
            HubSpotConfigurationError: neither is set (the message names the variable, never a value).

        """
        token = self.access_token or os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise HubSpotConfigurationError(
                f"no HubSpot access token: set {TOKEN_ENV} (or HubSpotResource(access_token=...))"
            )
        return token

    def client_for(self, base_url: str) -> HubSpotClient:
        """Return a new client with this resource's settings for the API root ``base_url``."""
        return HubSpotClient(
            self.token(),
            base_url=base_url,
            settings=ClientSettings(
                api_version=self.api_version,
                timeout=(min(10.0, self.timeout_s), self.timeout_s),
                max_in_flight=self.max_in_flight,
                requests_per_10s=LEARN if self.requests_per_10s is None else self.requests_per_10s,
                batch_size=self.batch_size,
                retry=RetryPolicy(max_attempts=self.max_attempts, max_elapsed_s=self.max_retry_seconds),
                resend_ambiguous=self.resend_ambiguous,
            ),
        )

    def get_ledger(self) -> SyncLedger | None:
        """Open the ledger at ``state_url``, else ``state_path`` (``None`` when both are unset); close it."""
        if self.state_url:
            return open_ledger(self.state_url)
        if not self.state_path:
            return None
        if self.state_path == DEFAULT_STATE_PATH:
            url, note = resolved_default_state()
            if note is not None:
                logger.warning(note)
            return open_ledger(url)
        return SQLiteLedger(Path(self.state_path).expanduser())

    def portal_for(self, client: HubSpotClient) -> str:
        """Return the portal identity for ``client``: ``portal`` if set, else from its URL and token."""
        return self.portal or default_portal(client.base_url, client.token_fingerprint)

    def ledger_portal(self) -> str:
        """Return the portal identity the ledger keys rows by (as :meth:`portal_for`), without a client."""
        return self.portal or default_portal(
            check_base_url(self.api_root()).url, token_fingerprint(self.token())
        )

    def ledger_id_map(self, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Warehouse key → HubSpot id of every row the ledger has created (no HubSpot request).

        For downstream assets (in this run or any later one, no IO manager involved) and scripts that
        need the ids of rows loaded by any earlier run, not only the latest frame's. ``object_type`` as
        the load was given it (``contacts``, ``p_vendor`` ...); ``partition`` narrows it to one
        partition key. Empty when the ledger is disabled.
        """
        ledger = self.get_ledger()
        if ledger is None:
            return {}
        try:
            return ledger.id_map(self.ledger_portal(), object_type, partition=partition)
        finally:
            ledger.close()

    def __repr__(self) -> str:
        return (
            f"HubSpotResource(base_url={self.api_root()!r}, api_version={self.api_version!r}, "
            f"access_token='***')"
        )

    __str__ = __repr__
