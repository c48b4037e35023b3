"""One line for each way a load can go wrong, saying what happened and what to do, with its exit code.

The library reports problems with its documented exceptions (:mod:`hubspot_loader.errors`,
:class:`~hubspot_loader.core.stops.LoadAborted`, :class:`~hubspot_loader.core.preflight.PreflightError`); this
module turns each into a message for a person. A stopped load's own line is used as it is: it already
names the step and the scope that step needs (:mod:`hubspot_loader.core.stops`). Errors before the load (the
first read) get the command's own wording, which names its options (``--base-url``,
``$HUBSPOT_ACCESS_TOKEN``). No message contains the access token: HubSpot's errors never carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubspot_loader.cli.exits import EXIT_ROWS_FAILED, EXIT_STOPPED, EXIT_USAGE
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.core.stops import LoadAborted, schema_read_scope, stop_reason
from hubspot_loader.core.stops import one_line as collapse_whitespace
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotConfigurationError,
    HubSpotError,
    HubSpotHTTPError,
    HubSpotNotFoundError,
    HubSpotRateLimitError,
    HubSpotScopeError,
    HubSpotTransportError,
    HubSpotValidationError,
)

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
PRIVATE_APP_SETTINGS = "Settings → Integrations → Private apps"


@dataclass(frozen=True)
class Explained:
    """What to tell the user and how the command exits."""

    exit_code: int
    message: str


def one_line(text: str, limit: int = 600) -> str:
    """Collapse whitespace as :func:`hubspot_loader.core.stops.one_line` does; cut at ``limit`` characters."""
    flat = collapse_whitespace(str(text))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _status(exc: HubSpotHTTPError) -> str:
    category = exc.response.category if exc.response is not None else None
    return f"HTTP {exc.status}" + (f" {category}" if category else "")


def _transport_reason(text: str) -> str:
    lowered = text.lower()
    if "refused" in lowered:
        return "the connection was refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "no answer in time"
    if "name or service not known" in lowered or "nameresolution" in lowered or "resolve" in lowered:
        return "the host name does not resolve"
    if "certificate" in lowered or "ssl" in lowered:
        return "the TLS certificate was not accepted"
    return "the connection failed"


def explain_hubspot_error(exc: HubSpotError, *, object_type: str, base_url: str) -> Explained:
    """Explain an error the client raised before the load: on the first read, of the property definitions."""
    if isinstance(exc, HubSpotAuthenticationError):
        return Explained(
            EXIT_STOPPED,
            f"HubSpot refused the access token ({_status(exc)}): it is wrong, expired or revoked; set "
            f"${TOKEN_ENV} to the access token of your private app ({PRIVATE_APP_SETTINGS} → your app)",
        )
    if isinstance(exc, HubSpotScopeError):  # the first read is of the property definitions
        doing = f"reading the {object_type} property definitions"
        return Explained(
            EXIT_STOPPED, stop_reason(exc, object_type, doing=doing, scope=schema_read_scope(object_type))
        )
    if isinstance(exc, HubSpotRateLimitError) and exc.daily:
        return Explained(
            EXIT_STOPPED,
            f"HubSpot's daily API limit for this account is used up ({_status(exc)}); it resets at midnight "
            "in the account's time zone: run the same command again then (rows already created are skipped)",
        )
    if isinstance(exc, HubSpotTransportError):
        return Explained(
            EXIT_STOPPED,
            f"cannot reach HubSpot at {base_url}: {_transport_reason(exc.message)}; check --base-url and "
            "the network, then run again",
        )
    if isinstance(exc, HubSpotConfigurationError):
        return Explained(EXIT_USAGE, one_line(str(exc)))
    if isinstance(exc, (HubSpotValidationError, HubSpotNotFoundError)) and "object type" in exc.message:
        return Explained(
            EXIT_USAGE,
            f"HubSpot has no object type {object_type!r} in this account ({_status(exc)}); check "
            "--object-type (custom objects: p_NAME or their 2-N type id)",
        )
    if isinstance(exc, (HubSpotValidationError, HubSpotNotFoundError)):
        return Explained(EXIT_USAGE, f"HubSpot refused the request: {one_line(exc.message)}")
    return Explained(
        EXIT_STOPPED, f"the load stopped: {one_line(exc.message)}; run the same command again later"
    )


def explain_stop(exc: LoadAborted) -> Explained:
    """Explain a :class:`~hubspot_loader.core.stops.LoadAborted` with its own line, as it is.

    That line names the step that stopped and what to do: a valid token, the read or write scope that
    step needs (:func:`~hubspot_loader.core.stops.stop_reason`), the daily reset, the network.
    """
    return Explained(EXIT_STOPPED, collapse_whitespace(str(exc)))


def explain_preflight(exc: PreflightError) -> Explained:
    """Preflight refused the file: a configuration problem (exit 2) or rows it would reject (exit 1)."""
    report = exc.report
    if report.blocking:
        first = report.blocking[0]
        more = f" (and {len(report.blocking) - 1} more problem(s))" if len(report.blocking) > 1 else ""
        return Explained(EXIT_USAGE, f"{one_line(first.message)}{more}; nothing was sent")
    return Explained(
        EXIT_ROWS_FAILED,
        f"preflight predicts HubSpot would reject {report.rows_failed} of {report.rows_total} row(s) and "
        "--preflight block refuses the whole file; nothing was sent. Fix those rows (see the failed-rows "
        "file) or use --preflight quarantine to load the others",
    )
