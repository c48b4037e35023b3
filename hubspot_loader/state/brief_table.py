"""An object type's ledger rows as a few arrays, so that a large sync diffs without a lookup per key.

A sync reads each row's brief (status, HubSpot id, digest) from the ledger. Looked up by key, 2,000 keys a
statement, that costs SQLite about 2.4 µs of search per key and the reading of a tuple and a dict entry
per key (4.5 s of CPU for 1M keys). When a load sends about as many rows as the object type has in the
ledger, reading the object type's briefs in one scan and matching them in arrays costs less than half of
that (2.1 s; ``benchmarks/diff_cost.py``). :class:`BriefTable` holds that scan, 33 bytes a ledger row:

- two independent 64-bit hashes of the row key: Python's own ``hash`` (SipHash-1-3, keyed per process)
  and :func:`~hubspot_loader.core.fingerprints.hash_texts` (SipHash-2-4, a fixed key). A key of the frame
  matches a ledger row only when both agree, so two different keys are taken for one with a chance of
  about 2⁻¹²⁸ per pair;
- what the row tells without the ledger being asked again (:data:`ABSENT` is a frame key with no row):
  :data:`CREATED` with its id code (a canonical decimal id, as the row store keeps it) and its digest
  (``fp1:`` and 16 hex digits, or none), :data:`OTHER` (pending or failed, or created without an id: the
  sync reads its full entry anyway), or :data:`EXACT`: anything the arrays cannot say exactly (an id that
  is not a canonical decimal, a digest of another form, a key hash that two ledger rows share). The brief
  of an :data:`EXACT` row is then looked up by its key, as without the table.

The table is a snapshot: a row another load writes after the scan is seen by the write-ahead claim
(:meth:`~hubspot_loader.state.sql_ledger.SqlLedger.mark_pending`), exactly as a row written after a
per-key lookup is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from hubspot_loader.core import row_codes
from hubspot_loader.core.fingerprints import DIGEST_PREFIX, hash_texts

ABSENT, CREATED, OTHER, EXACT = 0, 1, 2, 3
"""What a key's brief says: no ledger row; created with an id; another status; look it up by key."""

_DIGEST_HEX = 16
_DIGEST_LENGTH = len(DIGEST_PREFIX) + _DIGEST_HEX
_PREFIX = np.frombuffer(DIGEST_PREFIX.encode("ascii"), dtype=np.uint8)

BriefRow = tuple[str, Any, "str | None", "str | None"]
"""One scanned ledger row: (row key, whether its status is ``created`` (true or 1), HubSpot id, content
hash)."""


@dataclass(frozen=True)
class ChunkBriefs:
    """The briefs of a chunk's keys, one entry per key in the order given.

    ``kind`` is :data:`ABSENT`, :data:`CREATED`, :data:`OTHER` or :data:`EXACT`; ``id_codes`` and ``digests``
    are meaningful where ``kind`` is :data:`CREATED` (``has_digest``: the ledger holds a digest for it).
    """

    kind: np.ndarray
    id_codes: np.ndarray
    digests: np.ndarray
    has_digest: np.ndarray


class BriefTable:
    """The briefs of every ledger row of one portal and object type, sorted by key hash (see the module)."""

    __slots__ = ("_checks", "_digests", "_flags", "_hashes", "_ids", "_kinds")

    def __init__(self, pages: Iterable[Sequence[BriefRow]]) -> None:
        """Build the table from the scanned rows, a page (a few thousand rows) at a time."""
        parts: list[tuple[np.ndarray, ...]] = [_page_arrays(page) for page in pages if len(page)]
        if parts:
            hashes, checks, kinds, ids, digests, flags = (np.concatenate(p) for p in zip(*parts, strict=True))
        else:
            hashes = checks = ids = np.zeros(0, dtype=np.int64)
            kinds = flags = np.zeros(0, dtype=np.int8)
            digests = np.zeros(0, dtype=np.uint64)
        order = np.argsort(hashes, kind="stable")
        hashes, checks, kinds = hashes[order], checks[order], kinds[order]
        ids, digests, flags = ids[order], digests[order], flags[order]
        if len(hashes) > 1:  # a hash two rows share: both are looked up by key
            shared = np.flatnonzero(hashes[1:] == hashes[:-1])
            kinds[shared] = EXACT
            kinds[shared + 1] = EXACT
        self._hashes, self._checks, self._kinds = hashes, checks, kinds
        self._ids, self._digests, self._flags = ids, digests, flags

    def __len__(self) -> int:
        """Return the number of ledger rows in the table."""
        return len(self._hashes)

    @property
    def nbytes(self) -> int:
        """Return the bytes the table's arrays hold."""
        arrays = (self._hashes, self._checks, self._kinds, self._ids, self._digests, self._flags)
        return sum(a.nbytes for a in arrays)

    def match(self, keys: Sequence[str]) -> ChunkBriefs:
        """Return the briefs of ``keys`` (distinct row keys), one entry per key in their order."""
        count = len(keys)
        kind = np.zeros(count, dtype=np.int8)
        id_codes = np.full(count, row_codes.ID_NONE, dtype=np.int64)
        digests = np.zeros(count, dtype=np.uint64)
        has_digest = np.zeros(count, dtype=bool)
        if count == 0 or len(self._hashes) == 0:
            return ChunkBriefs(kind, id_codes, digests, has_digest)
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=count)
        order = np.argsort(hashes)  # searched in order: each search starts where the last one ended
        at = np.empty(count, dtype=np.intp)
        at[order] = np.minimum(np.searchsorted(self._hashes, hashes[order]), len(self._hashes) - 1)
        found = np.flatnonzero(self._hashes[at] == hashes)
        if len(found) == 0:
            return ChunkBriefs(kind, id_codes, digests, has_digest)
        rows = at[found]
        some = keys if len(found) == count else [keys[i] for i in found.tolist()]
        checks = hash_texts(some).view(np.int64)
        same = checks == self._checks[rows]
        # the first hash alone matched: most likely no ledger row, but only a lookup by key says so exactly
        kind[found] = np.where(same, self._kinds[rows], EXACT)
        id_codes[found] = self._ids[rows]
        digests[found] = self._digests[rows]
        has_digest[found] = self._flags[rows] != 0
        return ChunkBriefs(kind, id_codes, digests, has_digest)


def _page_arrays(page: Sequence[BriefRow]) -> tuple[np.ndarray, ...]:
    """Return (hash, check, kind, id code, digest, has-digest flag) of each scanned row of ``page``."""
    count = len(page)
    keys = [row[0] for row in page]  # a comprehension per column: zip(*page) is several times slower
    hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=count)
    checks = hash_texts(keys).view(np.int64)
    ids, _ = row_codes.id_codes([row[2] for row in page])
    digests, readable, present = digest_values([row[3] for row in page])
    created = np.array([row[1] for row in page], dtype=bool) & (ids != row_codes.ID_NONE)
    kinds = np.where(created, CREATED, OTHER).astype(np.int8)
    # an id that is not a canonical decimal (the row store keeps its text; "" is no id) or a digest of
    # another form: the brief is looked up by key
    kinds[created & ((ids == row_codes.ID_TEXT) | (present & ~readable))] = EXACT
    return hashes, checks, kinds, ids, digests, present.astype(np.int8)


def digest_values(texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read digests ``"fp1:"`` + 16 lowercase hex digits as ``uint64``, all at once.

    Returns the values, which texts are such digests, and which are present at all (not ``None`` or
    ``""``); a present text of another form has value 0 and is not readable.
    """
    count = len(texts)
    if None in texts:  # one C-level scan; the lengths then without a generator
        lengths = np.fromiter((len(t) if t is not None else 0 for t in texts), dtype=np.int64, count=count)
    else:
        lengths = np.fromiter(map(len, cast("Sequence[str]", texts)), dtype=np.int64, count=count)
    present = lengths > 0
    values = np.zeros(count, dtype=np.uint64)
    readable = np.zeros(count, dtype=bool)
    candidates = np.flatnonzero(lengths == _DIGEST_LENGTH)
    if len(candidates) == len(texts):
        joined = "".join(cast("Sequence[str]", texts))
    else:
        joined = "".join([cast(str, texts[i]) for i in candidates.tolist()])
    if not candidates.size or not joined.isascii():
        return values, readable, present  # a digest is ASCII: these are of another form (looked up by key)
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(candidates), _DIGEST_LENGTH)
    hexes = chars[:, len(DIGEST_PREFIX) :]
    digit = (hexes >= ord("0")) & (hexes <= ord("9"))
    letter = (hexes >= ord("a")) & (hexes <= ord("f"))
    ok = (chars[:, : len(DIGEST_PREFIX)] == _PREFIX).all(axis=1) & (digit | letter).all(axis=1)
    nibbles = np.where(digit, hexes - ord("0"), hexes - (ord("a") - 10)).astype(np.uint8)
    octets = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]  # 8 bytes a digest, most significant first
    numbers = np.ascontiguousarray(octets).view(">u8").ravel().astype(np.uint64)
    values[candidates[ok]] = numbers[ok]
    readable[candidates[ok]] = True
    return values, readable, present
