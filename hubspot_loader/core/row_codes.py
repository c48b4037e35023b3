"""How :class:`~hubspot_loader.core.row_store.RowOutcomes` encodes a row's fields as integer codes.

A key or HubSpot id that is a canonical decimal (:func:`~hubspot_loader.core.rows.decimal_int`) is stored as
its number, anything else as :data:`ID_TEXT` with the text kept; a trace id that repeats the key or is
``row-{position}`` is a code alone.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from hubspot_loader.core.rows import decimal_int

ID_NONE = -1
ID_TEXT = -2
NO_ERROR = -1
TRACE_NONE, TRACE_KEY, TRACE_ROW, TRACE_TEXT = 0, 1, 2, 3
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Texts = Sequence[str | None]
Encoded = tuple[int, object, int, int, int, object, int, object, int, int]
"""One row as stored: key code, key text, position, status code, id code, id text, trace code, trace
text, error code, batch code (the texts are ``None`` unless the code says a text is kept)."""


def batch_code(batch: int | None) -> int:
    """Store ``None`` as 0, an index ``b >= 0`` as ``b + 1`` and a negative one as itself."""
    if batch is None:
        return 0
    return batch + 1 if batch >= 0 else batch


def in_int64(value: int, what: str) -> int:
    """Return ``value`` as an ``int``; ``OverflowError`` (naming ``what``) if it needs more than 64 bits."""
    value = operator.index(value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError(f"{what} {value} does not fit a signed 64-bit integer")
    return value


def decided_row(key: str, position: int, trace: str | None, status: int, hubspot_id: str | None) -> Encoded:
    """Encode a row of :meth:`RowOutcomes.extend_decided` (as ``_encode`` would its ``RowOutcome``)."""
    key_number, key_text = text_code(key)
    id_number, id_text = id_code(hubspot_id)
    trace_number, trace_text = trace_code(trace, key, position)
    return key_number, key_text, position, status, id_number, id_text, trace_number, trace_text, NO_ERROR, 0


def text_code(text: str) -> tuple[int, object]:
    """Return a key or HubSpot id as stored: its number if a canonical decimal, else ``ID_TEXT`` and it."""
    number = decimal_int(text)
    return (ID_TEXT, text) if number is None else (number, None)


def trace_code(trace: str | None, key: str, position: int) -> tuple[int, object]:
    """Return a trace id as stored: a code alone when it is none, the key or ``row-{position}``."""
    if trace is None:
        return TRACE_NONE, None
    if trace is key or trace == key:
        return TRACE_KEY, None
    if type(trace) is str and trace == f"row-{position}":
        return TRACE_ROW, None
    return TRACE_TEXT, trace


def texts_or_numbers(codes: np.ndarray[Any, Any], texts: list[object] | None) -> np.ndarray[Any, Any]:
    """Return a key or id column as strings: ``str(code)`` for a number, else the kept text or ``None``."""
    out = np.full(len(codes), None, dtype=object)
    numeric = codes >= 0
    out[numeric] = [str(c) for c in codes[numeric].tolist()]
    if texts is not None:
        kept = codes == ID_TEXT
        out[kept] = np.fromiter(texts, dtype=object, count=len(codes))[kept]
    return out


def id_code(hubspot_id: str | None) -> tuple[int, object]:
    """Return a HubSpot id as stored: :data:`ID_NONE` for none, else as :func:`text_code` stores it."""
    return (ID_NONE, None) if hubspot_id is None else text_code(hubspot_id)
