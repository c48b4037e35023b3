"""What happened to one row: :class:`RowOutcome`, with a :class:`RowError` when it failed.

Pure data, no I/O. :mod:`hubspot_loader.core.model` re-exports every public name here; the column store of
many outcomes is :class:`hubspot_loader.core.row_store.RowOutcomes`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was not created."""

    category: str
    """HubSpot's error category (``VALIDATION_ERROR``, ``CONFLICT`` ...) or one of the loader's own."""
    message: str
    code: str | None = None
    """HubSpot's error code, e.g. ``INVALID_EMAIL`` or ``PROPERTY_DOESNT_EXIST``."""
    property: str | None = None
    """The property (or column) the error is about, when known."""
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What happened to one input row."""

    key: str
    position: int
    status: str
    """One of :data:`CREATED`, :data:`RECONCILED`, :data:`FAILED`, :data:`SKIPPED`."""
    hubspot_id: str | None = None
    error: RowError | None = None
    trace_id: str | None = None
    batch_index: int | None = None


MAX_DECIMAL_DIGITS = 18
"""Decimal strings up to this many digits fit a signed 64-bit integer."""


def decimal_int(text: object) -> int | None:
    """``int(text)`` when ``text`` is a canonical decimal string (``str(int(text)) == text``), else ``None``.

    Canonical means ASCII digits only, at most 18 of them, and no leading zero (except ``"0"``), so the
    string can be rebuilt exactly as ``str(value)``.
    """
    if (
        type(text) is str
        and 0 < len(text) <= MAX_DECIMAL_DIGITS
        and text.isascii()
        and text.isdigit()
        and (text[0] != "0" or len(text) == 1)
    ):
        return int(text)
    return None
