"""The tunables of a :class:`~hubspot_loader.http.client.HubSpotClient`, in one checked, frozen object.

:class:`ClientSettings` holds everything about *how* the client talks to HubSpot (API version, timeouts,
concurrency, rate budget, batch size, retries, split budget, resending after ambiguous failures); the
client itself takes only what it cannot do without: the token, the API root, and optionally a session and
a shared rate limiter. A wrong value raises :class:`~hubspot_loader.errors.HubSpotConfigurationError` when
the settings are made, before any client or connection exists.

:func:`settings_from_keywords` keeps the old keyword form (``HubSpotClient(token, max_in_flight=4, ...)``)
working for one release, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hubspot_loader.core.model import MAX_BATCH_SIZE
from hubspot_loader.errors import HubSpotConfigurationError
from hubspot_loader.http.ratelimit import DEFAULT_REQUESTS_PER_10S
from hubspot_loader.http.retry import RetryPolicy

DEFAULT_API_VERSION = "2026-03"
"""HubSpot's date-versioned API the client speaks unless told otherwise (``v3``: the legacy paths)."""

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 60.0)
"""Seconds to connect and to read, per HTTP request."""

DEFAULT_MAX_IN_FLIGHT = 160
"""The most batches in flight by default: an upper bound; how many are in flight follows the round trip
and the budget (:mod:`~hubspot_loader.http.concurrency`). 160 covers 3 s round trips at the 250/10 s
tier (25 requests/s x 3 s x 2 headroom + 1). Threads and pooled connections are made only when used."""

LEARN: Literal["learn"] = "learn"
"""``requests_per_10s="learn"`` (the default): start at 100 per 10 s (HubSpot's lowest tier, reference
§7.1) and adopt the ``X-HubSpot-RateLimit-Max`` the answers state (§5.8, §16.9)."""

DEFAULT_MAX_SPLIT_REQUESTS = 1000
"""Default bound on extra requests per load spent isolating whole-batch failures by splitting."""

DEPRECATED_KEYWORDS_MESSAGE = (
    "HubSpotClient(access_token, **settings) is deprecated and goes in the next release; pass the settings "
    "as one object: HubSpotClient(access_token, base_url=..., settings=ClientSettings(...)) "
    "(from hubspot_loader import ClientSettings)"
)
"""The warning of the old keyword form; ``pyproject.toml`` turns it into an error in the test run."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """How a :class:`~hubspot_loader.http.client.HubSpotClient` talks to HubSpot.

    Every field's description is in its ``metadata["doc"]``; in short:

    Args:
        api_version: ``"2026-03"`` (date-versioned paths, default) or ``"v3"`` (legacy paths).
        timeout: seconds, or ``(connect, read)`` seconds, per HTTP request.
        max_in_flight: the most batches in flight (also sizes the thread and connection pools); how
            many are in flight follows the measured round trip and the budget (Little's law,
            :mod:`hubspot_loader.http.concurrency`) unless ``adaptive_concurrency`` is off.
        adaptive_concurrency: follow the round trip and the budget (default) or keep exactly
            ``max_in_flight`` batches in flight.
        requests_per_10s: the app's rolling 10-second budget, a hard cap (100 Free/Starter, 190
            Pro/Enterprise, 250 with the limit increase), or ``"learn"`` (default): start at 100 and
            adopt the server's ``X-HubSpot-RateLimit-Max`` once an answer states it. The server's
            ``Max`` is never exceeded either way. Unused when the client is given a shared
            ``rate_limiter``.
        batch_size: default inputs per batch-create request (1-100).
        retry: the retry policy (:class:`~hubspot_loader.http.retry.RetryPolicy`).
        max_split_requests: extra requests one ``batch_create`` call may spend isolating whole-batch
            failures; rows left unisolated fail with "not isolated: split budget exhausted".
        resend_ambiguous: without a ``unique_property``, resend rows after an ambiguous failure or a
            ``CANCELED`` answer (default, recorded as a batch warning) or fail them as possibly created.
            Never after a ``PENDING``/``PROCESSING`` answer (see :mod:`hubspot_loader.http.reconcile`).

    Raises:
        HubSpotConfigurationError: a field has a wrong value (the message names the field).

    """

    api_version: str = field(
        default=DEFAULT_API_VERSION,
        metadata=_doc('HubSpot API version in the paths: "2026-03" (date-versioned) or "v3" (legacy).'),
    )
    timeout: float | tuple[float, float] = field(
        default=DEFAULT_TIMEOUT, metadata=_doc("Seconds, or (connect, read) seconds, per HTTP request.")
    )
    max_in_flight: int = field(
        default=DEFAULT_MAX_IN_FLIGHT,
        metadata=_doc(
            "The most batches in flight (sizes the thread and connection pools); at least 1. How many "
            "are in flight follows the round trip and the budget unless adaptive_concurrency is off."
        ),
    )
    adaptive_concurrency: bool = field(
        default=True,
        metadata=_doc(
            "Keep round trip x budget x 2 + 1 batches in flight, within max_in_flight, fewer after "
            "429s or risen latency (True), or always max_in_flight (False)."
        ),
    )
    requests_per_10s: int | Literal["learn"] = field(
        default=LEARN,
        metadata=_doc(
            f"The app's rolling 10-second request budget, a hard cap (100 Free/Starter, 190 "
            f"Pro/Enterprise, 250 limit increase), or 'learn': start at {DEFAULT_REQUESTS_PER_10S} and "
            "adopt the server's X-HubSpot-RateLimit-Max. Unused when the client shares a rate limiter."
        ),
    )
    batch_size: int = field(
        default=MAX_BATCH_SIZE,
        metadata=_doc(f"Default inputs per batch-create request (1-{MAX_BATCH_SIZE})."),
    )
    retry: RetryPolicy = field(
        default_factory=RetryPolicy,
        metadata=_doc("What is retried, how long to wait, and when to give up (a RetryPolicy)."),
    )
    max_split_requests: int = field(
        default=DEFAULT_MAX_SPLIT_REQUESTS,
        metadata=_doc(
            "Extra requests one batch_create call may spend isolating whole-batch failures by splitting; "
            "rows left unisolated fail with 'not isolated: split budget exhausted'."
        ),
    )
    resend_ambiguous: bool = field(
        default=True,
        metadata=_doc(
            "Without a unique_property: resend rows after an ambiguous failure or a CANCELED answer "
            "(recorded as a batch warning), or fail them as possibly created. Never after PENDING/PROCESSING."
        ),
    )

    def __post_init__(self) -> None:
        """Check every field; raise :class:`HubSpotConfigurationError` naming the first wrong one."""
        if not isinstance(self.api_version, str) or not self.api_version or "/" in self.api_version:
            raise HubSpotConfigurationError(f"bad api_version {self.api_version!r}")
        _check_timeout(self.timeout)
        if _count(self.max_in_flight, "max_in_flight") < 1:
            raise HubSpotConfigurationError("max_in_flight must be at least 1")
        if not isinstance(self.adaptive_concurrency, bool):
            raise HubSpotConfigurationError(
                f"adaptive_concurrency must be True or False, got {self.adaptive_concurrency!r}"
            )
        budget = self.requests_per_10s
        if isinstance(budget, str) and budget != LEARN:
            raise HubSpotConfigurationError(f"requests_per_10s must be an integer or 'learn', got {budget!r}")
        if budget != LEARN and _count(budget, "requests_per_10s") < 1:
            raise HubSpotConfigurationError("requests_per_10s must be at least 1")
        check_batch_size(self.batch_size)
        if not isinstance(self.retry, RetryPolicy):
            raise HubSpotConfigurationError(f"retry must be a RetryPolicy, got {type(self.retry).__name__}")
        if _count(self.max_split_requests, "max_split_requests") < 0:
            raise HubSpotConfigurationError("max_split_requests must not be negative")
        if not isinstance(self.resend_ambiguous, bool):
            raise HubSpotConfigurationError(
                f"resend_ambiguous must be True or False, got {self.resend_ambiguous!r}"
            )


def check_batch_size(batch_size: int) -> int:
    """Return ``batch_size`` if it is a count from 1 to 100, else raise :class:`HubSpotConfigurationError`."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise HubSpotConfigurationError(f"batch_size must be an integer, got {batch_size!r}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise HubSpotConfigurationError(
            f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}"
        )
    return batch_size


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise HubSpotConfigurationError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _is_seconds(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _check_timeout(timeout: object) -> None:
    pair = isinstance(timeout, tuple) and len(timeout) == 2 and all(_is_seconds(p) for p in timeout)
    if not (pair or _is_seconds(timeout)):
        raise HubSpotConfigurationError(
            f"timeout must be seconds > 0, or a (connect, read) pair of them, got {timeout!r}"
        )


_SETTING_NAMES = frozenset(f.name for f in dataclasses.fields(ClientSettings))


def settings_from_keywords(settings: ClientSettings | None, keywords: Mapping[str, Any]) -> ClientSettings:
    """Return the client's settings: ``settings``, or those the deprecated keyword form gave (warning).

    ``retry=None`` in the old form meant the default policy, and still does.

    Raises:
        TypeError: ``settings`` is not a :class:`ClientSettings`, a keyword is not a setting, or old
            keywords are given beside ``settings``.

    """
    if settings is not None and not isinstance(settings, ClientSettings):
        raise TypeError(f"HubSpotClient() settings must be a ClientSettings, got {type(settings).__name__}")
    unknown = sorted(set(keywords) - _SETTING_NAMES)
    if unknown:
        raise TypeError(f"HubSpotClient() got an unexpected keyword argument {unknown[0]!r}")
    if not keywords:
        return settings if settings is not None else ClientSettings()
    if settings is not None:
        raise TypeError(
            f"HubSpotClient() got keyword settings {sorted(keywords)} beside settings=; "
            "put them in the ClientSettings"
        )
    warnings.warn(DEPRECATED_KEYWORDS_MESSAGE, DeprecationWarning, stacklevel=3)
    given = {name: value for name, value in keywords.items() if not (name == "retry" and value is None)}
    return ClientSettings(**given)


__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_MAX_SPLIT_REQUESTS",
    "DEFAULT_TIMEOUT",
    "LEARN",
    "ClientSettings",
    "check_batch_size",
    "settings_from_keywords",
]
