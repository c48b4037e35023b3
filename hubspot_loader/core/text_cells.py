"""Text cells as HubSpot property values: the length limit, valid Unicode, and fresh ``str`` objects.

Part of :mod:`hubspot_loader.core.formatting` (which re-exports :data:`MAX_STRING_LENGTH` and
:func:`encodable`): a string is sent unchanged when it is valid Unicode text of at most 65,536
characters; a lone surrogate (no UTF-8 form, so no JSON can carry it) or a longer string is invalid.
Like :mod:`hubspot_loader.core.datetimes`, the column function returns the texts and ``(position, reason)``
for the invalid cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hubspot_loader.errors import HubSpotLoaderError

MAX_STRING_LENGTH = 65_536
"""HubSpot's limit for a string property value (reference §9)."""

TEXT_SLICE_CELLS = 65_536
"""Cells :func:`format_texts` joins at a time (a million 32-character keys joined at once are 33 MiB)."""


class InvalidValue(HubSpotLoaderError, ValueError):
    """A value that has no HubSpot string form (the message says why)."""


def encodable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (no lone surrogate), as JSON, HubSpot and the ledger need."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def too_long_reason(text: str) -> str:
    """Say that ``text`` is longer than HubSpot's limit."""
    return f"string of {len(text):,} characters is longer than HubSpot's {MAX_STRING_LENGTH:,}"


def fresh_text(text: str) -> str:
    """Return an equal new ``str`` for ``text`` (see :func:`format_texts`).

    A surrogate pair (two code units that together make one character, e.g. an emoji decoded as UTF-16
    units) becomes that character.

    Raises:
        InvalidValue: ``text`` has a lone surrogate.

    """
    try:
        return text.encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        pass
    try:
        joined = text.encode("utf-16", "surrogatepass").decode("utf-16")
        joined.encode("utf-8")
    except UnicodeError:
        raise InvalidValue("text with a lone surrogate is not valid Unicode and cannot be sent") from None
    return joined


def format_texts(values: np.ndarray) -> tuple[list[str | None], list[tuple[int, str]]]:
    """Return the cells of a column of ``str`` and nulls as sent, and the cells that cannot be sent.

    The texts are ``None`` for null and invalid cells; the second item lists ``(position, reason)`` for
    each string that cannot be sent (a lone surrogate, or longer than :data:`MAX_STRING_LENGTH`).
    """
    mask = pd.isna(values)
    out: list[str | None] = values.tolist()
    if mask.any():
        for i in np.flatnonzero(mask).tolist():
            out[i] = None
    problems: list[tuple[int, str]] = []
    for start in range(0, len(out), TEXT_SLICE_CELLS):  # a slice at a time: the joined text stays small
        part = out[start : start + TEXT_SLICE_CELLS]
        found = _renew_non_ascii(part)
        problems.extend((start + i, reason) for i, reason in found)
        out[start : start + len(part)] = part
    # The longest string, in one C-level pass (filter drops the nulls); cell by cell only if too long.
    if max(map(len, filter(None, out)), default=0) > MAX_STRING_LENGTH:
        for i, text in enumerate(out):
            if text is not None and len(text) > MAX_STRING_LENGTH:
                out[i] = None
                problems.append((i, too_long_reason(text)))
    return out, problems


def _renew_non_ascii(texts: list[str | None]) -> list[tuple[int, str]]:
    """Replace each non-ASCII string by an equal new ``str`` object, in place; report invalid text.

    The client encodes request bodies with orjson, which stores a UTF-8 copy inside every non-ASCII
    ``str`` it encodes, for as long as that ``str`` lives. The cells of an object or string column are
    the frame's own ``str`` objects, so without this the frame would grow by about the size of its
    non-ASCII text during a load and keep it (16 MiB for a million short names). The new strings belong
    to one chunk of inputs and are freed with it.

    All of it is C-level passes: the cells are joined with NUL; ASCII text is left alone; otherwise the
    joined text is split again, which makes the new strings. Only when a cell contains NUL itself or
    has no UTF-8 form (a lone surrogate: the cell is set to ``None`` and reported) is it done cell by
    cell.
    """
    cells = np.array(texts, dtype=object)
    present = cells.astype(bool)  # not None and not ""
    strings: Sequence[str] = cells[present].tolist()
    joined = "\0".join(strings)
    if joined.isascii():
        return []
    if joined.count("\0") == len(strings) - 1 and encodable(joined):
        cells[present] = joined.split("\0")
        texts[:] = cells.tolist()
        return []
    problems = []
    for i, text in enumerate(texts):
        if text is not None and not text.isascii():
            try:
                texts[i] = fresh_text(text)
            except InvalidValue as exc:
                texts[i] = None
                problems.append((i, str(exc)))
    return problems
