"""The values the object store keeps and exchanges: stored records, write inputs, failures and outcomes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hubspot_loader.sandbox.persistence import ObjectRow

FIRST_ID = 10_000_000_001


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One CRM record (immutable; updates replace it)."""

    type_id: str
    id: int
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False

    def row(self) -> ObjectRow:
        """Return the persistence row."""
        return (self.type_id, self.id, self.properties, self.created_ms, self.updated_ms, self.archived)


@dataclass
class AssociationInput:
    """One validated-by-shape association of a write input: target id and requested type ids."""

    raw_id: str
    to_id: int | None
    type_ids: list[int]


@dataclass
class WriteInput:
    """One input of a write batch after property validation.

    ``id_value`` is the record's id or unique value (updates and upserts); ``id_property`` names the
    property it is a value of (``hs_object_id`` for record ids) when it differs per input (batch update).
    """

    index: int
    properties: dict[str, str]
    associations: list[AssociationInput] = field(default_factory=list)
    trace_id: str | None = None
    id_value: str | None = None
    id_property: str | None = None


@dataclass
class ItemFailure:
    """A per-input failure that is either reported in a 207 or fails the whole batch."""

    index: int
    status: int
    category: str
    message: str
    context: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class WriteOutcome:
    """Result of a write: committed objects (with their input index and ``new`` flag) and failures.

    ``missing`` lists the inputs whose record does not exist (batch update: one ``OBJECT_NOT_FOUND``
    item, never a whole-batch failure).
    """

    results: list[tuple[int, StoredObject, bool]] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    whole_batch_failure: ItemFailure | None = None
    missing: list[int] = field(default_factory=list)


def now_ms() -> int:
    """Return the current time in epoch milliseconds."""
    return int(time.time() * 1000)
