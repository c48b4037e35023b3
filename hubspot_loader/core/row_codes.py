"""How :class:`~hubspot_loader.core.row_store.RowOutcomes` encodes a row's fields as integer codes.

A key or HubSpot id that is a canonical decimal (:func:`~hubspot_loader.core.rows.decimal_int`) is stored as
its number, anything else as :data:`ID_TEXT` with the text kept; a trace id that repeats the key or is
``row-{position}`` is a code alone.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from hubspot_loader.core.rows import MAX_DECIMAL_DIGITS, decimal_int

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


# --- many rows at once (RowOutcomes.extend_decided): the same codes as above, computed column by column


def text_codes(texts: Sequence[str]) -> tuple[np.ndarray[Any, Any], list[object] | None]:
    """:func:`text_code` of every ``str`` in ``texts``: the codes (``int64``) and the kept texts.

    The kept texts are a list with the text where the code is :data:`ID_TEXT` and ``None`` elsewhere, or
    ``None`` when no text is kept. Only the texts short enough to be a canonical decimal are looked at
    (as UTF-32 code points, in one array): the others are texts whatever their characters.
    """
    count = len(texts)
    codes = np.full(count, ID_TEXT, dtype=np.int64)
    if not count:
        return codes, None
    if set(map(type, texts)) != {str}:  # rare: code by code, as ``extend`` does
        coded = [text_code(text) for text in texts]
        kept = [text for _, text in coded]
        return np.array([code for code, _ in coded], dtype=np.int64), kept if any(kept) else None
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
    if _all_canonical(texts, lengths):  # HubSpot ids, integer keys: three C-level scans, then int()
        return np.fromiter(map(int, texts), dtype=np.int64, count=count), None
    short = np.flatnonzero((lengths > 0) & (lengths <= MAX_DECIMAL_DIGITS))
    if len(short):
        candidates = np.array([texts[i] for i in short.tolist()], dtype=f"U{MAX_DECIMAL_DIGITS}")
        points = candidates.view(np.uint32).reshape(len(short), MAX_DECIMAL_DIGITS)
        digits = np.count_nonzero((points >= ord("0")) & (points <= ord("9")), axis=1)
        canonical = (digits == lengths[short]) & ((points[:, 0] != ord("0")) | (lengths[short] == 1))
        if canonical.any():
            codes[short[canonical]] = candidates[canonical].astype(np.int64)
    kept = codes == ID_TEXT
    if not kept.any():
        return codes, None
    if kept.all():
        return codes, list(texts)
    column = np.full(count, None, dtype=object)
    column[kept] = np.array(texts, dtype=object)[kept]
    return codes, column.tolist()


def _all_canonical(texts: Sequence[str], lengths: np.ndarray[Any, Any]) -> bool:
    """Whether every text is a canonical decimal (:func:`~hubspot_loader.core.rows.decimal_int`)."""
    if lengths.min() < 1 or lengths.max() > MAX_DECIMAL_DIGITS:
        return False
    joined = "".join(texts)
    if not (joined.isascii() and joined.isdigit()):
        return False
    return sum(map(str.startswith, texts, repeat("0"))) == texts.count("0")  # no leading zero but "0"


def id_codes(ids: Texts) -> tuple[np.ndarray[Any, Any], list[object] | None]:
    """:func:`id_code` of every HubSpot id in ``ids`` (``None``: :data:`ID_NONE`), as :func:`text_codes`."""
    if None not in ids:  # one C-level scan
        return text_codes(ids)  # type: ignore[arg-type]  # no None among them
    present = [i for i, hubspot_id in enumerate(ids) if hubspot_id is not None]
    codes = np.full(len(ids), ID_NONE, dtype=np.int64)
    kept: list[object] = [None] * len(ids)
    found, texts = text_codes([ids[i] for i in present])  # type: ignore[misc]
    codes[present] = found
    if texts is None:
        return codes, None
    for i, text in zip(present, texts, strict=True):
        kept[i] = text
    return codes, kept


def trace_codes(
    traces: Texts, keys: Sequence[str], positions: Sequence[int]
) -> tuple[np.ndarray[Any, Any], list[object] | None]:
    """:func:`trace_code` of every row: the codes (``int8``) and the kept trace ids (or ``None``).

    A load with a key column sends the key as the trace id: that case is one comparison of the lists.
    """
    if all(map(operator.is_, traces, keys)):
        return np.full(len(traces), TRACE_KEY, dtype=np.int8), None
    coded = [
        trace_code(trace, key, position) for trace, key, position in zip(traces, keys, positions, strict=True)
    ]
    codes = np.fromiter((code for code, _ in coded), dtype=np.int8, count=len(coded))
    kept = [text for _, text in coded]
    return codes, kept if any(text is not None for text in kept) else None
