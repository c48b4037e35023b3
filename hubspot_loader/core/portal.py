"""The HubSpot portal a token belongs to (account info), and links into its UI.

``GET /account-info/v3/details`` answers ``portalId`` (int32) and ``uiDomain`` (``app.hubspot.com``,
``app-eu1.hubspot.com`` ...) among other required fields (HubSpot's account-info spec; reference §16.7).

HubSpot's API documentation gives no UI URL pattern for an object's list (its *index page*). HubSpot's
own published MCP server (npm ``@hubspot/mcp-server`` 0.4.0, ``dist/tools/links/getHubspotLinkTool.js``,
tool ``hubspot-get-link``) builds it as ``https://{uiDomain}/contacts/{portalId}/objects/{objectTypeId}``
for standard objects (``0-1`` ...) and custom objects (``2-…``) alike, beside the record page
``https://{uiDomain}/contacts/{portalId}/record/{objectTypeId}/{id}`` that matches the ``url`` field
HubSpot returns on every created object (reference §16.7). :func:`object_list_url` uses that form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hubspot_loader.core.associations import object_type_id
from hubspot_loader.errors import HubSpotError

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})+")
"""A DNS host name with at least one dot and no port, user info or path (``app-eu1.hubspot.com``)."""
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class AccountInfo:
    """What the loader uses of HubSpot's account details: the portal (hub) id and its UI host."""

    portal_id: int
    """The HubSpot account id (``portalId``), e.g. ``12345678``."""
    ui_domain: str
    """The host of the portal's web UI (``uiDomain``), e.g. ``app.hubspot.com`` or ``app-eu1.hubspot.com``."""


def parse_account_info(body: Any) -> AccountInfo:
    """Read ``portalId`` and ``uiDomain`` from an account-details answer body.

    Raises:
        HubSpotError: the body is not an object with a positive int32 ``portalId`` and a host name
            ``uiDomain`` (the message says which field and what it held).

    """
    if not isinstance(body, dict):
        raise HubSpotError(f"account info: expected a JSON object, got {type(body).__name__}")
    portal_id = body.get("portalId")
    if isinstance(portal_id, bool) or not isinstance(portal_id, int) or not 0 < portal_id <= _INT32_MAX:
        raise HubSpotError(f"account info: portalId must be a positive int32, got {portal_id!r:.40}")
    ui_domain = body.get("uiDomain")
    if not isinstance(ui_domain, str) or not _HOSTNAME.fullmatch(ui_domain.lower()):
        raise HubSpotError(f"account info: uiDomain must be a host name, got {ui_domain!r:.80}")
    return AccountInfo(portal_id=portal_id, ui_domain=ui_domain.lower())


def object_list_url(account: AccountInfo, object_type: str) -> str | None:
    """Return the URL of the portal's list (index page) of ``object_type``; ``None`` if its id is unknown.

    ``contacts`` → ``https://app.hubspot.com/contacts/12345678/objects/0-1``; a custom object given by
    its type id ``2-123`` links the same way; one given by name (``p_vendor``) has a per-portal type
    id the loader does not read, so it gets no link.
    """
    type_id = object_type_id(object_type)
    if type_id is None:
        return None
    return f"https://{account.ui_domain}/contacts/{account.portal_id}/objects/{type_id}"
