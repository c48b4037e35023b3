"""The Dagster resource: HubSpot connection settings that hand out a :class:`HubSpotClient` and a ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from hubspot_loader.core.model import MAX_BATCH_SIZE
from hubspot_loader.http.base_url import DEFAULT_BASE_URL
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.state.ledger import SQLiteLedger, default_portal

DEFAULT_STATE_PATH = ".hubspot_loader/state.sqlite"
"""The ledger file, relative to the working directory of the run (see ``docs/ledger.md``)."""


class HubSpotResource(dg.ConfigurableResource):
    """Connection settings for one HubSpot portal.

    Give the token through an environment variable so it never appears in the UI or in run config:

    .. code-block:: python

        import dagster as dg
        from hubspot_loader import HubSpotResource

        hubspot = HubSpotResource(access_token=dg.EnvVar("HUBSPOT_ACCESS_TOKEN"))

    The token is never logged, written to metadata, or shown by ``repr``.

    Sync state: loads remember which rows they created in a SQLite ledger at ``state_path`` (default
    ``.hubspot_loader/state.sqlite`` under the run's working directory; ``None`` or ``""`` turns it off,
    so every run sends every row). With the default ``sync_mode="incremental"`` a scheduled run creates
    only rows whose key has no HubSpot id yet. Set ``portal`` to the HubSpot account id so the state
    survives token rotation (see ``docs/ledger.md``).
    """

    access_token: str = Field(description="Private-app or OAuth access token. Use dg.EnvVar.")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root; the sandbox's URL in tests.")
    api_version: str = Field(
        default="2026-03", description="Date version for /crm/objects/<version>/...; 'v3' for legacy paths."
    )
    batch_size: int = Field(
        default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="Inputs per batch-create request."
    )
    max_in_flight: int = Field(default=4, ge=1, le=32, description="Batches in flight at once.")
    requests_per_10s: int = Field(
        default=100,
        ge=1,
        description=(
            "Rolling 10-second request budget: 100 (Free/Starter), 190 (Pro/Enterprise), 250 (limit pack)."
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
            "SQLite ledger of loaded rows (relative paths: to the run's working directory); "
            "None or '' disables incremental state."
        ),
    )
    sync_mode: Literal["incremental", "full_refresh"] = Field(
        default="incremental",
        description="incremental: create only rows without a HubSpot id in the ledger; full_refresh: all.",
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
        return self.client_for(self.base_url)

    def client_for(self, base_url: str) -> HubSpotClient:
        """Return a new client with this resource's settings for the API root ``base_url``."""
        return HubSpotClient(
            self.access_token,
            base_url=base_url,
            api_version=self.api_version,
            timeout=(min(10.0, self.timeout_s), self.timeout_s),
            max_in_flight=self.max_in_flight,
            requests_per_10s=self.requests_per_10s,
            batch_size=self.batch_size,
            retry=RetryPolicy(max_attempts=self.max_attempts, max_elapsed_s=self.max_retry_seconds),
            resend_ambiguous=self.resend_ambiguous,
        )

    def get_ledger(self) -> SQLiteLedger | None:
        """Open the ledger at ``state_path`` (``None`` when disabled); close it when done."""
        if not self.state_path:
            return None
        return SQLiteLedger(Path(self.state_path).expanduser())

    def portal_for(self, client: HubSpotClient) -> str:
        """Return the portal identity for ``client``: ``portal`` if set, else from its URL and token."""
        return self.portal or default_portal(client.base_url, client.token_fingerprint)

    def ledger_id_map(self, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Warehouse key → HubSpot id of every row the ledger has created (no HubSpot request).

        For downstream assets that need ids of rows loaded by any earlier run, not only the latest
        frame's. Empty when the ledger is disabled.
        """
        ledger = self.get_ledger()
        if ledger is None:
            return {}
        client = self.get_client()
        try:
            return ledger.id_map(self.portal_for(client), object_type, partition=partition)
        finally:
            client.close()
            ledger.close()

    def __repr__(self) -> str:
        return (
            f"HubSpotResource(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"access_token='***')"
        )

    __str__ = __repr__
