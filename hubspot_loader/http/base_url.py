r"""Which API root the client may send the access token to, decided as the transport will connect.

The token travels in an ``Authorization: Bearer`` header, so a base URL is accepted only when:

- it is ``https://``, or plain ``http://`` to a **loopback** host (``127.0.0.0/8``, ``::1``, ``localhost``:
  the sandbox on this machine);
- every parser that will read it agrees on the host. The host is taken from the URL exactly as
  ``requests`` prepares it and ``urllib3`` then connects (:func:`transport_host`), and must equal what
  :func:`urllib.parse.urlsplit` reads. On top of that, forms that parsers are known to read
  differently are refused outright, whatever they would resolve to: backslashes, user info (``@``),
  whitespace and control characters, percent-encoded or non-ASCII host parts, a query or a fragment.

``http://hubspot.example.invalid\@127.0.0.1:9`` is the classic case: ``urlsplit`` sees host
``127.0.0.1``, urllib3 ends the host at the backslash and connects to ``hubspot.example.invalid``.
Refusing it here means no socket is ever opened for it.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.util import parse_url

from hubspot_loader.errors import HubSpotConfigurationError

DEFAULT_BASE_URL = "https://api.hubapi.com"
"""HubSpot's public API root."""

_ALLOWED = frozenset(string.ascii_letters + string.digits + "-._~:/[]")
"""Characters a base URL may hold: scheme, host (names, IPv4, bracketed IPv6), port and a plain path."""


@dataclass(frozen=True)
class BaseUrl:
    """A checked API root: the URL (no trailing slash), its scheme and the host the transport connects to."""

    url: str
    scheme: str
    host: str
    loopback: bool


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as the transport reads it; IPv6 without brackets) is this machine's loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_host(url: str) -> str | None:
    """Return the host ``requests``/``urllib3`` would open a connection to for ``url`` (lower case)."""
    prepared = requests.Request("GET", url).prepare()
    host = parse_url(prepared.url or "").host
    return host.strip("[]").lower() if host else None


def check_base_url(base_url: str) -> BaseUrl:
    """Return the checked API root, or raise :class:`HubSpotConfigurationError` saying why it is refused.

    Nothing is connected to: the check is on the text alone.
    """
    if not isinstance(base_url, str) or not base_url:
        raise HubSpotConfigurationError("base_url must be a non-empty http(s) URL")
    shown = ascii(base_url)
    bad = sorted({c for c in base_url if c not in _ALLOWED})
    if bad:
        raise HubSpotConfigurationError(
            f"base_url {shown} contains {', '.join(ascii(c) for c in bad)}: a base URL may hold only "
            "a scheme, a host, a port and a plain path (no user info, backslashes, spaces, control or "
            "percent-encoded characters, query or fragment), because HTTP libraries read such URLs "
            "differently and the access token could be sent to another host"
        )
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise HubSpotConfigurationError(f"base_url {shown} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname or not base_url.lower().startswith(scheme + "://"):
        raise HubSpotConfigurationError(
            f"base_url must be an http(s) URL like {DEFAULT_BASE_URL}, got {shown}"
        )
    try:
        host = transport_host(base_url)
    except (ValueError, requests.exceptions.RequestException) as exc:
        raise HubSpotConfigurationError(f"base_url {shown} is not a valid URL: {exc}") from None
    if host != parts.hostname.lower():
        raise HubSpotConfigurationError(
            f"base_url {shown} is read as host {parts.hostname!r} by one URL parser and {host!r} by the "
            "HTTP transport; refusing it"
        )
    loopback = is_loopback(host)
    if scheme == "http" and not loopback:
        raise HubSpotConfigurationError(
            f"refusing to send the access token over plain http:// to {host}; use https:// "
            "(plain http is allowed only for loopback hosts: 127.0.0.0/8, localhost, ::1)"
        )
    url = scheme + base_url[len(scheme) :].rstrip("/")
    return BaseUrl(url=url, scheme=scheme, host=host, loopback=loopback)


def no_proxy_for(checked: BaseUrl) -> dict[str, Any] | None:
    """``proxies=`` for requests to a plain-http root: none, so the token never reaches a proxy in clear.

    ``requests`` takes ``HTTP_PROXY``/``ALL_PROXY`` from the environment; a plain-http proxy would receive
    the ``Authorization`` header unencrypted. HTTPS roots keep the environment's proxies (the header then
    travels inside the TLS tunnel).
    """
    if checked.scheme != "http":
        return None
    return {"http": None, "all": None, f"http://{checked.host}": None, f"all://{checked.host}": None}


__all__ = ["DEFAULT_BASE_URL", "BaseUrl", "check_base_url", "is_loopback", "no_proxy_for", "transport_host"]
