"""Fingerprints of what a chunk of rows sends: per property, per row, computed column by column.

The sync modes (issue #13) must know, per row, whether anything it sends changed since the last sync,
which properties changed (only those are sent with ``batch/update``) and which associations were added
or removed. :class:`ChunkPrints` answers that for one converted chunk
(:class:`~hubspot_loader.core.inputs.PreparedChunk.prints`), from the formatted property columns the
chunk was built from:

- each property column is hashed in one vectorized pass (:func:`pandas.util.hash_array`: SipHash-2-4 of the
  UTF-8 text under a fixed key, the same in every process, machine and run; never Python's ``hash()``),
  giving a 64-bit *value hash* per cell; a null cell (``None``: the property is omitted) gets
  :data:`NULL_HASH`, so it differs from ``""`` (which clears a value, reference §16.2);
- a row's *digest* combines every property's name and value hash (order-independent: reordering the
  mapping changes nothing) with the row's associations (sorted: their order changes nothing). Equal
  digests ⇔ nothing the row sends changed, up to 64-bit hash collisions.

Rows are addressed by their position in the source frame (``PreparedInput.position``): the chunk's
``inputs`` skip rejected rows, the prints do not.

What the ledger stores (:mod:`hubspot_loader.state.ledger`):

``content_hash``
    :meth:`ChunkPrints.digest`: ``"fp1:"`` and 16 hex digits, e.g. ``"fp1:9f86d081884c7d65"``. A hash
    from an older loader (a SHA-256 hex digest, no prefix) never equals one, so such rows count as changed.
``sent_fingerprint``
    :meth:`ChunkPrints.record`: compact JSON, version 1::

        {"v":1,"p":{"email":"1a2b3c4d5e6f7081","phone":null},"a":["HUBSPOT_DEFINED/279/123"]}

    ``p``: property name → value hash as 16 hex digits, ``null`` for a null cell (not sent); ``a``: the
    association targets as ``"<associationCategory>/<associationTypeId>/<to id>"``, sorted and distinct
    (omitted when there are none). The target object type is not in an association input (reference §3.1),
    so it is not stored: the type id belongs to one object-type pair (§11.1), which the caller maps back.
    ``u`` (only in a record written ahead of an update, :func:`in_flight_record`): association targets
    being created or removed when the record was written, whose state in HubSpot is unknown until the
    answer: whatever the row holds next time, they count as changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

DIGEST_PREFIX = "fp1:"
"""How every digest starts (the version of the digest scheme)."""
RECORD_VERSION = 1
"""The ``"v"`` of the records :meth:`ChunkPrints.record` writes; others are unreadable (``None``)."""
NULL_HASH = np.uint64(2**64 - 1)
"""The value hash of a null cell (the property is not sent); the same as pandas' hash of a missing value."""
HASH_KEY = "0123456789123456"
"""The SipHash key (16 bytes): pandas' default, fixed here so that a change of that default changes none."""

_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_ASSOCIATION_SALT = np.uint64(0x6173736F63696174)  # "associat": the association part of a digest
_SEPARATOR = "\x1f"  # between the sorted association targets of a row when they are hashed
_NONE_TEXT_HASH = pd.util.hash_array(np.array(["None"], dtype=object), hash_key=HASH_KEY, categorize=False)[0]

Triple = tuple[str, int, str]
"""A stored association target: (associationCategory, associationTypeId, to id)."""


def _mix(values: np.ndarray) -> np.ndarray:
    """Apply the SplitMix64 finalizer in place to a ``uint64`` array (wrapping arithmetic); return it."""
    values ^= values >> np.uint64(30)
    values *= _MIX_1
    values ^= values >> np.uint64(27)
    values *= _MIX_2
    values ^= values >> np.uint64(31)
    return values


def hash_texts(values: Sequence[str | None]) -> np.ndarray:
    """Return each cell's value hash (``uint64``): SipHash of its UTF-8 text, :data:`NULL_HASH` for ``None``.

    One vectorized pass (:func:`pandas.util.hash_array`, not categorized: the cells of a chunk are mostly
    distinct). Text that has no UTF-8 form (a lone surrogate) is hashed by its ``surrogatepass`` bytes.
    """
    cells = _cells(values)
    try:
        hashed = pd.util.hash_array(cells, encoding="utf8", hash_key=HASH_KEY, categorize=False)
    except UnicodeEncodeError:
        raw = [v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v for v in values]
        hashed = pd.util.hash_array(_cells(raw), encoding="utf8", hash_key=HASH_KEY, categorize=False)
    # pandas hashes None as the text "None": only the cells with that hash can be null (one vector compare
    # instead of a scan of the list for None)
    maybe = np.flatnonzero(hashed == _NONE_TEXT_HASH)
    if len(maybe):
        nulls = [i for i in maybe.tolist() if values[i] is None]
        hashed[nulls] = NULL_HASH
    return hashed


def _cells(values: Sequence[object]) -> np.ndarray:
    """Return a 1-d object array of ``values`` (one cell per value, whatever the values are)."""
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    return cells


def association_text(category: object, type_id: object, to_id: object) -> str:
    """Return the stored form of one association target: ``"<category>/<type id>/<to id>"``."""
    return f"{category}/{type_id}/{to_id}"


def association_texts(associations: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the targets of a row's association inputs (``{"to": {"id": …}, "types": […]}``), sorted."""
    return sorted({text for link in associations for text in _link_texts(link)})


def _link_texts(link: Mapping[str, Any]) -> list[str]:
    to_id = (link.get("to") or {}).get("id")
    return [
        association_text(kind.get("associationCategory"), kind.get("associationTypeId"), to_id)
        for kind in link.get("types") or ()
    ]


def parse_association(text: str) -> Triple | None:
    """Parse a stored target back into ``(category, type_id, to_id)``; ``None`` when it is malformed."""
    parts = text.split("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[2]:
        return None
    try:
        type_id = int(parts[1])
    except ValueError:
        return None
    return parts[0], type_id, parts[2]


class ChunkPrints:
    """The fingerprints of one chunk's rows (see the module docstring), addressed by row position.

    The hashes are computed on first use, all at once (about 70-90 ns per cell on one core): a load
    without a ledger never pays for them, and a conversion stays as fast as without fingerprints. Until
    then the prints hold the chunk's formatted columns (the same strings the inputs hold); after, only
    8 bytes per cell and per row.

    Args:
        base: the position of the chunk's first row in the source frame.
        rows: how many rows the chunk has (rejected ones included).
        properties: the HubSpot property names, one per column of ``columns`` (distinct).
        columns: the formatted values, one list per property with one ``str | None`` per row; not copied
            (do not change them afterwards).
        associations: position → the row's association inputs (rows without any may be left out).

    Raises:
        ValueError: the columns do not match ``properties`` or ``rows``, or a property name repeats.

    """

    __slots__ = (
        "_columns", "_hashes", "_last_hexes", "_links", "_names", "_parsed", "base", "properties", "rows"
    )  # fmt: skip

    def __init__(
        self,
        base: int,
        rows: int,
        properties: Sequence[str],
        columns: Sequence[Sequence[str | None]],
        associations: Mapping[int, Sequence[dict[str, Any]]] | None = None,
    ) -> None:
        if len(columns) != len(properties) or any(len(c) != rows for c in columns):
            raise ValueError(f"{len(columns)} columns for {len(properties)} properties and {rows} rows")
        if len(set(properties)) != len(properties):
            raise ValueError(f"property names repeat: {list(properties)}")
        self.base = base
        self.rows = rows
        self.properties: tuple[str, ...] = tuple(properties)
        self._columns: Sequence[Sequence[str | None]] | None = columns
        self._links = associations
        self._hashes: tuple[np.ndarray, np.ndarray] | None = None
        self._names: list[str] | None = None
        self._parsed: tuple[str, Any] | None = None
        self._last_hexes: tuple[int, list[str | None]] | None = None

    def _computed(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (value hashes: properties x rows, digests: one per row), computing them on first use."""
        # Read the inputs before the result: a thread that finds them released (another one finished)
        # then finds the result too, since it is stored before they are released.
        columns, links = self._columns, self._links
        hashes = self._hashes
        if hashes is not None:
            return hashes
        assert columns is not None
        values = np.empty((len(self.properties), self.rows), dtype=np.uint64)
        for j, column in enumerate(columns):
            values[j] = hash_texts(column)
        hashes = (values, self._digest_all(values, links or {}))
        self._hashes = hashes
        self._columns, self._links = None, None
        return hashes

    def _digest_all(
        self, values: np.ndarray, associations: Mapping[int, Sequence[dict[str, Any]]]
    ) -> np.ndarray:
        """Return each row's digest: the sum of its mixed (name, value hash) pairs, associations mixed in."""
        if len(self.properties):
            names = hash_texts(self.properties)[:, np.newaxis]
            digests = _mix(values ^ names).sum(axis=0, dtype=np.uint64)
        else:
            digests = np.zeros(self.rows, dtype=np.uint64)
        linked = np.zeros(self.rows, dtype=np.uint64)
        offsets, texts = [], []
        for position, links in associations.items():
            targets = association_texts(links)
            if targets:
                offsets.append(self._offset(position))
                texts.append(_SEPARATOR.join(targets))
        if texts:
            linked[np.asarray(offsets, dtype=np.intp)] = hash_texts(texts)
        digests += _mix(linked ^ _ASSOCIATION_SALT)
        return _mix(digests)

    def _offset(self, position: int) -> int:
        offset = position - self.base
        if not 0 <= offset < self.rows:
            last = self.base + self.rows - 1
            raise IndexError(f"position {position} is not in this chunk (positions {self.base} to {last})")
        return offset

    def __len__(self) -> int:
        """Return the number of rows (rejected ones included)."""
        return self.rows

    def digest(self, position: int) -> str:
        """Return the row's digest for the ledger's ``content_hash``: ``"fp1:"`` and 16 hex digits.

        Raises:
            IndexError: ``position`` is not a row of this chunk.

        """
        offset = self._offset(position)
        return f"{DIGEST_PREFIX}{int(self._computed()[1][offset]):016x}"

    def digest_values(self) -> np.ndarray:
        """Return every row's digest as the ``uint64`` :meth:`digest` writes in hex, in position order."""
        return self._computed()[1]

    def digests(self) -> list[str]:
        """Return every row's digest, in position order (``digests()[i]`` is ``digest(base + i)``)."""
        return [f"{DIGEST_PREFIX}{d:016x}" for d in self._computed()[1].tolist()]

    def value_hashes(self, position: int) -> dict[str, str | None]:
        """Return property → the row's value hash as 16 hex digits (``None``: a null cell, not sent)."""
        return dict(zip(self.properties, self._hexes(self._offset(position)), strict=True))

    def _hexes(self, offset: int) -> list[str | None]:
        last = self._last_hexes  # a changed row's hexes are read twice (changed properties, record)
        if last is not None and last[0] == offset:
            return last[1]
        null = int(NULL_HASH)
        hexes = [None if h == null else f"{h:016x}" for h in self._computed()[0][:, offset].tolist()]
        self._last_hexes = (offset, hexes)
        return hexes

    def record(self, position: int, associations: Sequence[dict[str, Any]]) -> str:
        """Return the JSON the ledger keeps in ``sent_fingerprint`` for the row (format: module docstring).

        Args:
            position: the row's position.
            associations: the row's association inputs (``PreparedInput.associations``).

        Raises:
            IndexError: ``position`` is not a row of this chunk.

        """
        hexes = self._hexes(self._offset(position))
        names = self._names
        if names is None:
            names = self._names = [json.dumps(name) + ":" for name in self.properties]
        props = ",".join(
            name + ("null" if h is None else f'"{h}"') for name, h in zip(names, hexes, strict=True)
        )
        targets = association_texts(associations)
        links = f',"a":{json.dumps(targets, separators=(",", ":"))}' if targets else ""
        return f'{{"v":{RECORD_VERSION},"p":{{{props}}}{links}}}'

    def _parse(self, stored: str | None) -> tuple[dict[str, Any], list[str], list[str]] | None:
        """Return the stored record's (property → hash, targets, uncertain targets); ``None``: unreadable."""
        if not stored:
            return None
        last = self._parsed
        if last is not None and last[0] is stored:
            return last[1]
        parsed = _read_record(stored)
        self._parsed = (stored, parsed)
        return parsed

    def changed_properties(self, position: int, stored: str | None) -> frozenset[str] | None:
        """Return the properties whose value differs from the stored record (``None``: no record).

        A property of the chunk that the record lacks counts as changed; a property of the record that is
        not in the chunk any more does not (the load no longer sends it). A changed property may be null
        now (its value hash was a text's): the caller decides whether to clear it. ``None`` when ``stored``
        is ``None``, empty or unreadable: send every property.

        Raises:
            IndexError: ``position`` is not a row of this chunk.

        """
        hexes = self._hexes(self._offset(position))
        parsed = self._parse(stored)
        if parsed is None:
            return None
        held = parsed[0]
        missing = object()
        return frozenset(
            name
            for name, h in zip(self.properties, hexes, strict=True)
            if held.get(name, missing) != h
        )

    def association_changes(
        self, position: int, associations: Sequence[dict[str, Any]], stored: str | None
    ) -> tuple[list[dict[str, Any]], list[Triple]]:
        """Return the row's associations added and removed since the stored record.

        Returns:
            ``(added, removed)``: the current association inputs with a target the record lacks, and the
            stored targets not current any more as ``(category, type_id, to_id)`` (sorted). Without a
            readable record: every current input is added and nothing is removed.

        Raises:
            IndexError: ``position`` is not a row of this chunk.

        """
        self._offset(position)
        parsed = self._parse(stored)
        if parsed is None:
            return list(associations), []
        uncertain = set(parsed[2])
        held = set(parsed[1]) - uncertain
        added = [link for link in associations if not held.issuperset(_link_texts(link))]
        current = set(association_texts(associations))
        removed = [t for t in map(parse_association, sorted((held | uncertain) - current)) if t is not None]
        return added, removed


def in_flight_record(
    stored: str | None, sending: Iterable[str], created: Iterable[str], removed: Iterable[str]
) -> str:
    """Return the record to write ahead of an update whose answer is not known yet (``""``: none to keep).

    The properties being sent are dropped, so whatever the row holds next time they count as changed (an
    update HubSpot applied without an answer is then sent again even when the source went back to the old
    value); the association targets being created or removed (``"<category>/<type id>/<to id>"``) are kept
    as uncertain (``u``), so each is created again if the row has it and removed again (mirror) if not.
    """
    parsed = _read_record(stored) if stored else None
    if parsed is None:
        return ""
    props, links, uncertain = parsed
    sent = set(sending)
    kept = {name: h for name, h in props.items() if name not in sent}
    unsure = sorted(set(uncertain) | set(created) | set(removed))
    record: dict[str, Any] = {"v": RECORD_VERSION, "p": kept}
    if links:
        record["a"] = sorted(links)
    if unsure:
        record["u"] = unsure
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def _read_record(stored: str) -> tuple[dict[str, Any], list[str], list[str]] | None:
    try:
        record = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("v") != RECORD_VERSION:
        return None
    props = record.get("p")
    links = record.get("a", [])
    uncertain = record.get("u", [])
    if not isinstance(props, dict) or not isinstance(links, list) or not isinstance(uncertain, list):
        return None
    return props, [t for t in links if isinstance(t, str)], [t for t in uncertain if isinstance(t, str)]


__all__ = [
    "DIGEST_PREFIX",
    "HASH_KEY",
    "NULL_HASH",
    "RECORD_VERSION",
    "ChunkPrints",
    "Triple",
    "association_text",
    "association_texts",
    "hash_texts",
    "in_flight_record",
    "parse_association",
]
