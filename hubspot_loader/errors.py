"""Exceptions raised by :class:`hubspot_loader.http.client.HubSpotClient`, and the loader's usage errors.

One root, :class:`HubSpotError`, in the style of ``requests``; every class says whether the operation
that raised it is safe to retry (``retryable``). The tree::

    HubSpotError                          base; .response (status, body, headers), .retryable
    ├── HubSpotConfigurationError         bad client settings (also ValueError)       never retry
    ├── HubSpotTransportError             no HTTP answer: connection error / timeout  retryable*
    │                                     .ambiguous: the request may have been committed
    └── HubSpotHTTPError                  HubSpot answered with an error status
        ├── HubSpotAuthenticationError    401 INVALID_AUTHENTICATION / EXPIRED_...     never retry
        ├── HubSpotScopeError             403 MISSING_SCOPES                           never retry
        ├── HubSpotValidationError        400 VALIDATION_ERROR                         never retry
        ├── HubSpotNotFoundError          404                                          never retry
        ├── HubSpotConflictError          409 CONFLICT (.existing_id)                  never retry
        ├── HubSpotRateLimitError         429; .policy TEN_SECONDLY_ROLLING: retryable;
        │                                 DAILY: not retryable (.outcomes: batches kept)
        └── HubSpotServerError            5xx (incl. 524)                              retryable*

``*`` Retryable means the *server* said nothing was done or the request can be repeated without harm
for reads. For non-idempotent batch **create**, an ambiguous transport error or a gateway 5xx may hide
a committed write; the client reconciles such rows before resending (see ``client.py``).

No exception text, ``repr`` or ``.response`` ever contains the access token: the response record
keeps only the status, the parsed body and the *response* headers, never the request.

:func:`~hubspot_loader.load.load_dataframe` raises :class:`LoadUsageError` (a ``ValueError``) when the
load is configured wrongly for its frame, always before anything is sent::

    LoadUsageError                        wrong options, columns or keys for this frame
    ├── DuplicateColumnsError             the frame has two columns of the same name (.columns)
    ├── MissingColumnsError               a named column is not in the frame (also KeyError)
    ├── InvalidKeysError                  the key column has null, duplicate or unreadable keys
    └── InvalidSpecError                  a load spec field has a value that cannot work (.field)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubspot_loader.core.model import BatchOutcome

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


@dataclass(frozen=True)
class ErrorResponse:
    """What HubSpot answered: status, parsed JSON body (or raw text) and response headers.

    Deliberately not a ``requests.Response``: that object links to the request and its
    ``Authorization`` header.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None

    @property
    def category(self) -> str | None:
        """HubSpot's ``category`` (or ``errorType`` for 429 bodies)."""
        if isinstance(self.body, dict):
            value = self.body.get("category") or self.body.get("errorType")
            return str(value) if value is not None else None
        return None

    @property
    def message(self) -> str:
        """HubSpot's ``message``, or the raw body text."""
        if isinstance(self.body, dict):
            return str(self.body.get("message", ""))
        return "" if self.body is None else str(self.body)[:500]

    @property
    def correlation_id(self) -> str | None:
        """The ``correlationId`` of the error, useful when contacting HubSpot support."""
        if isinstance(self.body, dict) and self.body.get("correlationId"):
            return str(self.body["correlationId"])
        for key, value in self.headers.items():
            if key.lower() == "x-hubspot-correlation-id":
                return value
        return None


class HubSpotLoaderError(Exception):
    """Root of every error the package raises on purpose (catch this to catch them all).

    Attributes:
        retryable: whether repeating the same call unchanged may succeed (a transient failure). Usage,
            validation and configuration errors, refused tokens and stopped loads are not.

    """

    retryable: bool = False


class HubSpotError(HubSpotLoaderError):
    """Root of every error the client raises.

    Attributes:
        response: HubSpot's answer when there was one (status, body, headers), else ``None``.
        retryable: whether repeating the same request may succeed without further action.

    """

    retryable: bool = False

    def __init__(self, message: str, *, response: ErrorResponse | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response


class HubSpotConfigurationError(HubSpotError, ValueError):
    """The client was set up wrongly (bad URL, plain HTTP to a remote host, bad batch size). Never retry."""


class HubSpotTransportError(HubSpotError):
    """No HTTP answer arrived: connection refused or dropped, or a timeout.

    ``ambiguous`` is ``True`` when the request had been sent before the failure (read timeout,
    connection dropped mid-response): HubSpot may have committed it. A connect failure is not
    ambiguous and is always safe to retry; an ambiguous one is safe to retry only for reads.
    """

    retryable = True

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class HubSpotHTTPError(HubSpotError):
    """HubSpot answered with an error status (in ``response``). Not retryable unless a subclass says so."""

    def __init__(self, message: str, *, response: ErrorResponse) -> None:
        super().__init__(message, response=response)

    @property
    def status(self) -> int:
        """The HTTP status code."""
        assert self.response is not None
        return self.response.status


class HubSpotAuthenticationError(HubSpotHTTPError):
    """401: the token is missing, invalid or expired. Fatal for the whole load; never retry."""


class HubSpotScopeError(HubSpotHTTPError):
    """403: the token lacks a scope the call needs (``required_scopes``). Fatal; never retry."""

    @property
    def required_scopes(self) -> list[str]:
        """Scopes HubSpot says are needed (any one of them), when the body names them."""
        body = self.response.body if self.response else None
        scopes: list[str] = []
        if isinstance(body, dict):
            for item in body.get("errors") or []:
                context = item.get("context") or {} if isinstance(item, dict) else {}
                for key in ("requiredScopes", "missingScopes"):
                    scopes.extend(str(s) for s in context.get(key) or [])
        return scopes


class HubSpotValidationError(HubSpotHTTPError):
    """400 ``VALIDATION_ERROR``: the request itself is wrong. Never retry unchanged."""


class HubSpotNotFoundError(HubSpotHTTPError):
    """404: unknown object, object type or route. Never retry."""


class HubSpotConflictError(HubSpotHTTPError):
    """409 ``CONFLICT``, e.g. a contact with this email exists. Never retry unchanged."""

    @property
    def existing_id(self) -> str | None:
        """The id in ``"... Existing ID: N"``, when HubSpot names one."""
        return parse_existing_id(self.response.message if self.response else "")


class HubSpotRateLimitError(HubSpotHTTPError):
    """429. ``policy`` ``TEN_SECONDLY_ROLLING`` (retryable after the window frees) or ``DAILY`` (not).

    When a load stops on the daily limit, everything loaded so far stays loaded: the batch generator
    has yielded every finished batch before raising, and ``outcomes`` repeats them for convenience.
    Rows of batches never sent must be reported by the caller as not sent.
    """

    def __init__(
        self,
        message: str,
        *,
        response: ErrorResponse,
        policy: str | None,
        outcomes: Sequence[BatchOutcome] = (),
    ) -> None:
        super().__init__(message, response=response)
        self.policy = policy
        self.outcomes: list[BatchOutcome] = list(outcomes)

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Only the rolling ten-second limit is worth waiting for."""
        return self.policy != "DAILY"

    @property
    def daily(self) -> bool:
        """Whether this is the account's daily limit."""
        return self.policy == "DAILY"


class HubSpotServerError(HubSpotHTTPError):
    """5xx (including edge errors such as 524). Retryable; for writes a gateway 5xx may hide a commit."""

    retryable = True


class LoadUsageError(HubSpotLoaderError, ValueError):
    """The load's options do not fit its frame (columns, keys, modes); nothing was sent.

    ``str(error)`` is one line saying what is wrong and what to do.
    """


class DuplicateColumnsError(LoadUsageError):
    """The frame has several columns with the same name (compared as text: ``0`` and ``"0"`` collide).

    ``columns`` lists each repeated name once, as text.
    """

    def __init__(self, message: str, columns: Sequence[str]) -> None:
        super().__init__(message)
        self.columns = list(columns)


class MissingColumnsError(LoadUsageError, KeyError):
    """A column the load names (property, key or association column) is not in the frame.

    Also a ``KeyError``, as before this class existed. ``columns`` are the missing names, ``available``
    the frame's columns (as text).
    """

    def __init__(self, message: str, columns: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(message)
        self.columns = list(columns)
        self.available = list(available)

    def __str__(self) -> str:
        return str(self.args[0])  # not KeyError's repr of the message


class InvalidKeysError(LoadUsageError):
    """The key column holds null, duplicate or unformattable keys (the message names their positions)."""


_MISSING = object()


class ArchiveLimitError(LoadUsageError):
    """Mirror mode: more of the synced records would be archived than the spec's ``archive_limit`` allows.

    Raised before anything is sent. ``would_archive`` and ``synced`` are the counts; raise
    ``archive_limit`` (``1`` allows any share) or check the source when the vanishing is a mistake.
    """

    def __init__(self, message: str, would_archive: int, synced: int) -> None:
        super().__init__(message)
        self.would_archive = would_archive
        self.synced = synced


class InvalidSpecError(LoadUsageError):
    """A field of a :class:`~hubspot_loader.core.spec.HubSpotLoadSpec` has a value that cannot work.

    ``field`` names it (``associations[1].type_id`` for a nested one); ``str(error)`` is one line:
    the field, the reason and the value given.
    """

    def __init__(self, field: str, reason: str, value: object = _MISSING) -> None:
        shown = "" if value is _MISSING else f" (got {_short_repr(value)})"
        super().__init__(f"load spec: {field} {reason}{shown}")
        self.field = field


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_existing_id(message: str) -> str | None:
    """Return ``N`` from ``"Contact already exists. Existing ID: N"``, else ``None``."""
    match = _EXISTING_ID.search(message or "")
    return match.group(1) if match else None


def error_for(response: ErrorResponse, *, what: str = "") -> HubSpotHTTPError:
    """Build the exception class matching ``response.status``, with HubSpot's message and correlation id."""
    status = response.status
    text = response.message or f"HTTP {status}"
    prefix = f"{what}: " if what else ""
    suffix = f" (HTTP {status}"
    if response.category:
        suffix += f" {response.category}"
    if response.correlation_id:
        suffix += f", correlationId {response.correlation_id}"
    suffix += ")"
    message = f"{prefix}{text}{suffix}"
    if status == 401:
        return HubSpotAuthenticationError(message, response=response)
    if status == 403:
        return HubSpotScopeError(message, response=response)
    if status == 404:
        return HubSpotNotFoundError(message, response=response)
    if status == 409:
        return HubSpotConflictError(message, response=response)
    if status == 429:
        policy = response.body.get("policyName") if isinstance(response.body, dict) else None
        return HubSpotRateLimitError(message, response=response, policy=policy)
    if status >= 500:
        return HubSpotServerError(message, response=response)
    if status == 400:
        return HubSpotValidationError(message, response=response)
    return HubSpotHTTPError(message, response=response)


def parse_body(content: bytes | str) -> Any:
    """Parse a response body as JSON, falling back to the (truncated) text.

    The standard library parses it (orjson would turn integers beyond 64 bits into floats).
    """
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        return text[:2000]
