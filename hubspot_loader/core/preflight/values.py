"""Vectorized value checks on wire strings: the HubSpot error code each value would get.

The strings are those the loader sends (see :mod:`hubspot_loader.core.preflight.cells`); they are checked
with pandas string operations, ``isin`` and one ``to_datetime`` over the distinct values. The rules
follow HubSpot's documented property formats (reference §9) and its error codes (§5.5).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from hubspot_loader.core.formatting import MAX_STRING_LENGTH
from hubspot_loader.core.preflight.codes import (
    INVALID_DATE,
    INVALID_DATETIME,
    INVALID_EMAIL,
    INVALID_INTEGER,
    INVALID_OPTION,
    INVALID_STRING_LENGTH,
)
from hubspot_loader.core.preflight.properties import PropertyDefinition

EMAIL = re.compile(
    r"[^@\s\"<>(),;:]+"  # local part: no spaces, quotes, brackets or separators
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # first domain label
    r"(?:\.[A-Za-z0-9-]+)*"  # more labels
    r"\.[A-Za-z]{2,}"  # a top-level domain of letters
)
NUMBER = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")
"""HubSpot's ``number``: "digits with at most one decimal point" (reference §9, Properties guide). No
limit on the count of digits is documented: a value is checked on its exact text, whatever its size; like
every value it may not be longer than 65,536 characters (``INVALID_STRING_LENGTH``; the limit documented
for strings, which the sandbox applies to every value)."""
_EPOCH_MS = re.compile(r"-?\d+")
_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


def text_codes(texts: np.ndarray, format_codes: np.ndarray, prop: PropertyDefinition) -> np.ndarray:
    """Return the code each cell would get as a value of ``prop`` (``None``: accepted or omitted).

    ``texts`` are the wire strings (``None``: omitted or no wire form); ``format_codes`` the codes of
    the cells that have no wire form, which are kept.
    """
    codes = format_codes.copy()
    check = np.flatnonzero(pd.notna(texts) & pd.isna(codes))
    if not len(check):
        return codes
    values = pd.Series(texts[check], dtype=object)
    out = np.full(len(values), None, dtype=object)
    lengths = values.str.len().to_numpy()
    out[lengths > MAX_STRING_LENGTH] = INVALID_STRING_LENGTH
    todo = pd.isna(out) & (lengths > 0)  # "" means "no value": nothing more to check
    if todo.any():
        sub = values[todo].reset_index(drop=True)
        out[todo] = _type_codes(prop, sub)
    codes[check] = out
    return codes


def _type_codes(prop: PropertyDefinition, texts: pd.Series) -> np.ndarray:
    out = np.full(len(texts), None, dtype=object)
    if prop.name == "email":
        out[~texts.str.fullmatch(EMAIL.pattern).to_numpy(dtype=bool)] = INVALID_EMAIL
        return out
    kind = prop.type
    if kind == "number":
        out[~texts.str.fullmatch(NUMBER.pattern).to_numpy(dtype=bool)] = INVALID_INTEGER
    elif kind in ("enumeration", "bool") and not prop.external_options:
        out[_option_codes(prop, texts)] = INVALID_OPTION
    elif kind == "date":
        valid, midnight = instants(texts)
        out[~(valid & midnight)] = INVALID_DATE
    elif kind == "datetime":
        valid, _ = instants(texts)
        out[~valid] = INVALID_DATETIME
    return out


def _option_codes(prop: PropertyDefinition, texts: pd.Series) -> np.ndarray:
    """Mark the enumeration/bool values that are not allowed options."""
    allowed = frozenset(prop.options)
    if prop.type == "bool":
        lowered = texts.str.lower()
        texts = lowered.where(lowered.isin(("true", "false")), texts)
    if not prop.multi:
        return ~texts.isin(list(allowed)).to_numpy(dtype=bool)
    codes, uniques = pd.factorize(texts)
    bad = np.array([any(part and part not in allowed for part in str(u).split(";")) for u in uniques])
    return bad[codes] if len(bad) else np.zeros(len(texts), dtype=bool)


def instants(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse HubSpot date/datetime strings: (parsed, at midnight UTC) per value, by distinct value."""
    codes, uniques = pd.factorize(texts)
    distinct = pd.Series(uniques, dtype=object)
    epoch = distinct.str.fullmatch(_EPOCH_MS.pattern).fillna(False).to_numpy(dtype=bool)
    iso = distinct.str.fullmatch(_ISO_INSTANT.pattern).fillna(False).to_numpy(dtype=bool)
    stamps = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns, UTC]")
    # Epoch milliseconds of up to 16 characters are within pandas' range (years 1677-2262) or not far past;
    # longer ones (or a failure of pandas on odd input) go to Python below.
    short = epoch & (distinct.str.len().fillna(0).to_numpy() <= 16)
    try:
        if short.any():
            millis = pd.to_numeric(distinct[short], errors="coerce")
            stamps[short] = pd.to_datetime(millis, unit="ms", utc=True, errors="coerce")
        if iso.any():
            stamps[iso] = pd.to_datetime(distinct[iso], format="ISO8601", utc=True, errors="coerce")
    except (OverflowError, ValueError):
        stamps[:] = pd.NaT
    valid = stamps.notna().to_numpy()
    midnight = valid & (stamps.dt.normalize() == stamps).to_numpy(dtype=bool)
    # Outside pandas' nanosecond range (years 1677-2262): parse those few in Python.
    for i in np.flatnonzero(~valid & (epoch | iso)).tolist():
        instant = _python_instant(str(distinct.iloc[i]), bool(epoch[i]))
        if instant is not None:
            valid[i] = True
            midnight[i] = instant.time() == dt.time(0)
    return valid[codes], midnight[codes]


def _python_instant(text: str, epoch: bool) -> dt.datetime | None:
    try:
        if epoch:
            return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.timezone.utc)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
