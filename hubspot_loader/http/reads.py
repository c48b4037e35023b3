"""Reads of existing records for online preflight: which unique values and record ids HubSpot holds.

Every request goes through the client's read path (``HubSpotClient.read_request`` and
``HubSpotClient.batch_read``): the same rate limiter and retries as the writes. A :class:`RecordReader`
spends at most ``budget`` requests; the client counts what they cost, retries included
(``HubSpotClient.requests_sent``).

For each object type it picks the cheaper of two ways to learn what exists:

- **batch read** (``POST …/batch/read``, at most 100 inputs a request: "Batch operations are limited to
  100 records at a time", reference §6): the values by ``idProperty`` (reference §8.1), the ids as
  record ids; one request per 100 distinct values or ids;
- **listing** (``GET …/objects/{type}``, 100 records a page, with only the unique properties): when the
  portal holds fewer records of the type than the distinct values and ids to read. The count comes from
  one search (``POST …/search``, whose answer has ``total``, reference §2.2). Search is eventually
  consistent, so the count only chooses the way; the listing itself decides, and absence is only
  concluded from a listing read to its end or a batch read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from hubspot_loader.core.model import MAX_BATCH_SIZE
from hubspot_loader.core.preflight.existing import canonical_id
from hubspot_loader.errors import HubSpotError

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

READ_INPUTS = MAX_BATCH_SIZE
"""Inputs per batch read: HubSpot's documented limit of 100 for CRM object batch requests (reference §6)."""
LIST_PAGE = 100
"""Records per page of ``GET …/objects/{type}`` (its ``limit`` goes up to 100)."""

Normalise = Callable[[str, str], str | None]
"""``(property, value as stored) → value as HubSpot compares it`` (``None``: no value)."""


@dataclass
class RecordsRead:
    """What one object type's reads found."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Unique property → value (as compared) → id of the record holding it, for the values asked."""
    values_checked: dict[str, set[str]] = field(default_factory=dict)
    """Unique property → the values asked for whose answer is known (held by a record or not)."""
    ids_found: set[str] = field(default_factory=set)
    """Record ids asked for that exist (canonical)."""
    ids_checked: set[str] = field(default_factory=set)
    """Record ids asked for whose existence is known (found or not)."""
    complete: bool = True
    """Whether every value and id asked for was answered (``False``: the budget ran out, or ``error``)."""
    error: HubSpotError | None = None
    """The read that failed, when one did (what was read before it is kept)."""
    way: str = "none"
    """How it was read: ``batch read``, ``listing`` or ``none``."""


class RecordReader:
    """Reads existing records for preflight, within a budget of requests.

    Args:
        client: the load's client.
        budget: the most requests the reads may take.

    """

    def __init__(self, client: HubSpotClient, *, budget: int) -> None:
        self.client = client
        self.budget = max(0, budget)
        self.taken = 0
        self.seconds = 0.0
        self._sent_at_start = client.requests_sent

    @property
    def requests(self) -> int:
        """Requests the reads have sent so far, retries included."""
        return self.client.requests_sent - self._sent_at_start

    def _take(self) -> bool:
        if self.taken >= self.budget:
            return False
        self.taken += 1
        return True

    def read(
        self,
        object_type: str,
        *,
        values: Mapping[str, Sequence[str]],
        ids: Sequence[str],
        normalise: Normalise,
    ) -> RecordsRead:
        """Find which ``values`` (per unique property) and ``ids`` (record ids) exist in ``object_type``."""
        started = time.monotonic()
        out = RecordsRead(values={prop: {} for prop in values})
        needed = sum(math.ceil(len(v) / READ_INPUTS) for v in (*values.values(), ids))
        try:
            if needed == 0:
                return out
            if needed >= 3 and self.budget - self.taken >= 2:
                total = self._total(object_type)
                if total is not None and max(1, math.ceil(total / LIST_PAGE)) < needed:
                    self._list(object_type, values, ids, normalise, out)
                    return out
            self._batch(object_type, values, ids, normalise, out)
        except HubSpotError as exc:
            out.error, out.complete = exc, False
        finally:
            self.seconds += time.monotonic() - started
        return out

    def _total(self, object_type: str) -> int | None:
        """How many records of ``object_type`` exist, per one search (``None``: no count answered)."""
        if not self._take():
            return None
        body = {"filterGroups": [], "properties": ["hs_object_id"], "limit": 1}
        path = self.client.objects_root(object_type) + "/search"
        answer = self.client.read_request("POST", path, body, what=f"count of {object_type} (preflight)")
        total = answer.body.get("total") if isinstance(answer.body, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def _list(
        self,
        object_type: str,
        values: Mapping[str, Sequence[str]],
        ids: Sequence[str],
        normalise: Normalise,
        out: RecordsRead,
    ) -> None:
        """Page through every record of ``object_type``, keeping the ids and values asked for."""
        out.way = "listing"
        wanted = {prop: set(v) for prop, v in values.items()}
        wanted_ids = set(ids)
        after: str | None = None
        while True:
            if not self._take():
                out.complete = False  # only what was found is known
                out.ids_checked = set(out.ids_found)
                out.values_checked = {prop: set(found) for prop, found in out.values.items()}
                return
            query: dict[str, Any] = {"limit": LIST_PAGE, "archived": "false"}
            if values:
                query["properties"] = ",".join(values)
            if after:
                query["after"] = after
            path = f"{self.client.objects_root(object_type)}?{urlencode(query)}"
            answer = self.client.read_request("GET", path, what=f"list of {object_type} (preflight)")
            body = answer.body if isinstance(answer.body, dict) else {}
            for record in _records(body):
                record_id = canonical_id(str(record["id"]))
                if record_id in wanted_ids:
                    out.ids_found.add(record_id)
                _keep_values(record, record_id, wanted, normalise, out)
            after = _next_after(body)
            if not after:
                out.ids_checked = wanted_ids
                out.values_checked = wanted
                return

    def _batch(
        self,
        object_type: str,
        values: Mapping[str, Sequence[str]],
        ids: Sequence[str],
        normalise: Normalise,
        out: RecordsRead,
    ) -> None:
        """Batch-read the values by ``idProperty`` and the ids as record ids, 100 a request."""
        out.way = "batch read"
        for prop, texts in values.items():
            wanted = {prop: set(texts)}
            for chunk in _chunks(texts):
                if not self._take():
                    out.complete = False
                    return
                found = self.client.batch_read(object_type, chunk, id_property=prop, properties=[prop])
                out.values_checked.setdefault(prop, set()).update(chunk)
                for record in found:
                    if record.get("id") is not None:
                        _keep_values(record, canonical_id(str(record["id"])), wanted, normalise, out)
        for chunk in _chunks(ids):
            if not self._take():
                out.complete = False
                return
            found = self.client.batch_read(object_type, chunk)
            out.ids_found.update(canonical_id(str(r["id"])) for r in found if r.get("id") is not None)
            out.ids_checked.update(chunk)


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), READ_INPUTS):
        yield list(items[start : start + READ_INPUTS])


def _records(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for record in body.get("results") or []:
        if isinstance(record, Mapping) and record.get("id") is not None:
            yield record


def _next_after(body: Mapping[str, Any]) -> str | None:
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    return str(after) if after not in (None, "") else None


def _keep_values(
    record: Mapping[str, Any],
    record_id: str,
    wanted: Mapping[str, set[str]],
    normalise: Normalise,
    out: RecordsRead,
) -> None:
    """Record which asked-for values ``record`` holds."""
    properties = record.get("properties")
    if not isinstance(properties, Mapping):
        return
    for prop, asked in wanted.items():
        stored = properties.get(prop)
        if stored is None or stored == "":
            continue
        value = normalise(prop, str(stored))
        if value is not None and value in asked:
            out.values.setdefault(prop, {})[value] = record_id
