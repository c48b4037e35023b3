"""The object store: objects per type, unique-value indexes, associations and id counters.

One lock guards all state and is held only for the checks and the commit of a write (never during
JSON parsing, validation of values or serialisation). Stored objects are immutable snapshots: an
update replaces the :class:`StoredObject`, so readers can serialise a reference outside the lock.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hubspot_loader.sandbox.catalog import Catalog, ObjectType
from hubspot_loader.sandbox.persistence import AssociationRow, ObjectRow, SqlitePersistence
from hubspot_loader.sandbox.statuses import PendingObjects
from hubspot_loader.sandbox.validation import format_ms

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
    """One input of a write batch after property validation."""

    index: int
    properties: dict[str, str]
    associations: list[AssociationInput] = field(default_factory=list)
    trace_id: str | None = None
    id_value: str | None = None


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
    """Result of a write: committed objects (with their input index and ``new`` flag) and failures."""

    results: list[tuple[int, StoredObject, bool]] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    whole_batch_failure: ItemFailure | None = None


def now_ms() -> int:
    """Return the current time in epoch milliseconds."""
    return int(time.time() * 1000)


class Store:
    """All CRM state of one sandbox."""

    def __init__(self, catalog: Catalog, persistence: SqlitePersistence | None = None) -> None:
        self.catalog = catalog
        self.persistence = persistence
        self.lock = threading.Lock()
        self._objects: dict[str, dict[int, StoredObject]] = defaultdict(dict)
        self._unique: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self._assoc: dict[tuple[str, int], dict[tuple[str, int], set[int]]] = defaultdict(dict)
        self._next_id: dict[str, int] = {}
        self.pending = PendingObjects()
        """Objects created under a PENDING/PROCESSING answer that reads do not see yet."""
        self.loaded_counters: dict[str, Any] = {}
        if persistence is not None:
            self._load(persistence)

    # ----------------------------------------------------------------- loading and reset
    def _load(self, persistence: SqlitePersistence) -> None:
        objects, assocs, next_ids, counters = persistence.load()
        for type_id, oid, props, created, updated, archived in objects:
            obj = self.catalog.types.get(type_id)
            if obj is None:
                continue
            stored = StoredObject(type_id, oid, props, created, updated, archived)
            self._objects[type_id][oid] = stored
            if not archived:
                self._index(obj, stored)
        for from_t, from_id, to_t, to_id, tid in assocs:
            self._assoc[(from_t, from_id)].setdefault((to_t, to_id), set()).add(tid)
        self._next_id.update(next_ids)
        self.loaded_counters = counters

    def reset(self) -> None:
        """Delete every object, association and id counter (also in the SQLite file)."""
        with self.lock:
            self._objects.clear()
            self._unique.clear()
            self._assoc.clear()
            self._next_id.clear()
            self.pending.clear()
            if self.persistence is not None:
                self.persistence.clear()

    # ----------------------------------------------------------------- helpers (lock held)
    @staticmethod
    def _unique_key(name: str, value: str) -> str:
        return value.lower() if name == "email" else value

    def _index(self, obj: ObjectType, stored: StoredObject) -> None:
        for name in obj.unique_properties():
            value = stored.properties.get(name)
            if value:
                self._unique[(obj.type_id, name)][self._unique_key(name, value)] = stored.id

    def _unindex(self, obj: ObjectType, stored: StoredObject) -> None:
        for name in obj.unique_properties():
            value = stored.properties.get(name)
            if value:
                index = self._unique[(obj.type_id, name)]
                key = self._unique_key(name, value)
                if index.get(key) == stored.id:
                    del index[key]

    def _allocate(self, type_id: str) -> int:
        oid = self._next_id.get(type_id, FIRST_ID)
        self._next_id[type_id] = oid + 1
        return oid

    def _live(self, type_id: str, oid: int | None) -> StoredObject | None:
        if oid is None:
            return None
        stored = self._objects.get(type_id, {}).get(oid)
        return stored if stored is not None and not stored.archived else None

    def _conflict_message(self, obj: ObjectType, existing: int | None, name: str, value: str) -> str:
        label = obj.singular.replace("_", " ").capitalize()
        if existing is None:
            return f"{label} already exists. Duplicate {name} in batch input: {value}"
        return f"{label} already exists. Existing ID: {existing}"

    def _check_conflicts(
        self,
        obj: ObjectType,
        inputs: list[WriteInput],
        self_ids: dict[int, int | None],
        per_item: bool,
        out: WriteOutcome,
    ) -> list[WriteInput]:
        """Unique-value conflicts against stored objects and earlier inputs of the same batch."""
        accepted: list[WriteInput] = []
        pending: dict[tuple[str, str], int] = {}
        for inp in inputs:
            conflict: tuple[str, str, int | None, int | None] | None = None
            for name in obj.unique_properties():
                value = inp.properties.get(name)
                if not value:
                    continue
                key = self._unique_key(name, value)
                existing = self._unique.get((obj.type_id, name), {}).get(key)
                if existing is not None and existing != self_ids.get(inp.index):
                    conflict = (name, value, existing, None)
                    break
                if (name, key) in pending:
                    conflict = (name, value, None, pending[(name, key)])
                    break
            if conflict is None:
                for name in obj.unique_properties():
                    value = inp.properties.get(name)
                    if value:
                        pending[(name, self._unique_key(name, value))] = inp.index
                accepted.append(inp)
                continue
            name, value, existing, earlier = conflict
            failure = ItemFailure(
                inp.index, 409, "CONFLICT", self._conflict_message(obj, existing, name, value)
            )
            if earlier is not None:
                failure.context["earlierInputIndex"] = [str(earlier)]
            if not per_item:
                out.whole_batch_failure = failure
                return []
            out.failures.append(failure)
        return accepted

    def _check_associations(
        self, obj: ObjectType, inputs: list[WriteInput], per_item: bool, out: WriteOutcome
    ) -> list[WriteInput]:
        accepted: list[WriteInput] = []
        for inp in inputs:
            invalid: list[tuple[str, str]] = []
            unknown_types: list[str] = []
            for assoc in inp.associations:
                for tid in assoc.type_ids:
                    spec = self.catalog.associations.get(tid)
                    if spec is None:
                        unknown_types.append(str(tid))
                        continue
                    if spec.from_type == obj.type_id:
                        target = self.catalog.types[spec.to_type]
                        if self._live(spec.to_type, assoc.to_id) is not None:
                            continue
                    else:
                        target = self.catalog.types[spec.from_type]
                    invalid.append((target.error_name, assoc.raw_id))
            if not invalid and not unknown_types:
                accepted.append(inp)
                continue
            context: dict[str, list[str]] = {}
            if invalid:
                context["INVALID_OBJECT_IDS"] = [f"{t}={i} is not valid" for t, i in invalid]
                context["objectId"] = [i for _t, i in invalid]
                context["objectType"] = [t for t, _i in invalid]
            if unknown_types:
                context["INVALID_ASSOCIATION_TYPE_IDS"] = unknown_types
            failure = ItemFailure(
                inp.index, 400, "VALIDATION_ERROR", "One or more associations are invalid", context
            )
            if not per_item:
                out.whole_batch_failure = failure
                return []
            out.failures.append(failure)
        return accepted

    def _add_association(
        self, from_t: str, from_id: int, to_t: str, to_id: int, tid: int, rows: list[AssociationRow]
    ) -> int:
        spec = self.catalog.associations[tid]
        added = 0
        for type_id in (tid, spec.implies):
            if type_id is None:
                continue
            inverse = self.catalog.associations[type_id].inverse_id
            for a_t, a_id, b_t, b_id, t in (
                (from_t, from_id, to_t, to_id, type_id),
                (to_t, to_id, from_t, from_id, inverse),
            ):
                bucket = self._assoc[(a_t, a_id)].setdefault((b_t, b_id), set())
                if t not in bucket:
                    bucket.add(t)
                    rows.append((a_t, a_id, b_t, b_id, t))
                    if a_t == from_t and a_id == from_id:
                        added += 1
        return added

    def _defaults(self, obj: ObjectType, oid: int, ts: str, source: dict[str, str]) -> dict[str, str]:
        props = {"hs_object_id": str(oid), "createdate": ts, obj.modified_property: ts, **source}
        if obj.name == "companies":
            props["hs_pipeline"] = "companies-lifecycle-pipeline"
        elif obj.name == "tickets":
            props["hs_ticket_id"] = str(oid)
            props["hs_pipeline"] = "0"
        return props

    def _persist(
        self,
        objects: Iterable[StoredObject],
        assoc_rows: list[AssociationRow],
        counters: dict[str, Any] | None,
    ) -> None:
        if self.persistence is not None:
            self.persistence.write([o.row() for o in objects], assoc_rows, dict(self._next_id), counters)

    # ----------------------------------------------------------------- writes
    def create(
        self,
        obj: ObjectType,
        inputs: list[WriteInput],
        *,
        source: dict[str, str],
        conflicts_per_item: bool,
        associations_per_item: bool,
        counters: dict[str, Any] | None = None,
    ) -> WriteOutcome:
        """Create objects atomically per input; a whole-batch failure creates nothing."""
        out = WriteOutcome()
        with self.lock:
            accepted = self._check_conflicts(obj, inputs, {}, conflicts_per_item, out)
            if out.whole_batch_failure is None:
                accepted = self._check_associations(obj, accepted, associations_per_item, out)
            if out.whole_batch_failure is not None:
                return out
            ms = now_ms()
            ts = format_ms(ms)
            assoc_rows: list[AssociationRow] = []
            ids_by_index: dict[int, int] = {}
            for inp in accepted:
                oid = self._allocate(obj.type_id)
                props = self._defaults(obj, oid, ts, source)
                props.update((k, v) for k, v in inp.properties.items() if v != "")
                if obj.name == "companies" and props.get("domain") and "website" not in props:
                    props["website"] = props["domain"]
                stored = StoredObject(obj.type_id, oid, props, ms, ms)
                self._objects[obj.type_id][oid] = stored
                self._index(obj, stored)
                ids_by_index[inp.index] = oid
                for assoc in inp.associations:
                    for tid in assoc.type_ids:
                        spec = self.catalog.associations[tid]
                        assert assoc.to_id is not None
                        self._add_association(obj.type_id, oid, spec.to_type, assoc.to_id, tid, assoc_rows)
                out.results.append((inp.index, stored, True))
            self._persist((s for _i, s, _n in out.results), assoc_rows, counters)
        for failure in out.failures:
            earlier = failure.context.pop("earlierInputIndex", None)
            if earlier is not None and int(earlier[0]) in ids_by_index:
                failure.message = (
                    failure.message.split(". ")[0] + f". Existing ID: {ids_by_index[int(earlier[0])]}"
                )
        return out

    def upsert(
        self,
        obj: ObjectType,
        id_property: str,
        inputs: list[WriteInput],
        *,
        source: dict[str, str],
        allow_create: bool,
        conflicts_per_item: bool,
        counters: dict[str, Any] | None = None,
    ) -> WriteOutcome:
        """Update objects found by ``id_property`` (input ``id_value``); create missing ones if allowed."""
        out = WriteOutcome()
        with self.lock:
            existing: dict[int, int | None] = {}
            remaining: list[WriteInput] = []
            for inp in inputs:
                value = inp.id_value or ""
                if id_property == "hs_object_id":
                    oid = int(value) if value.isdigit() else None
                    found = self._live(obj.type_id, oid)
                    existing[inp.index] = found.id if found else None
                else:
                    existing[inp.index] = self._unique.get((obj.type_id, id_property), {}).get(
                        self._unique_key(id_property, value)
                    )
                if existing[inp.index] is None and (not allow_create or id_property == "hs_object_id"):
                    failure = ItemFailure(
                        inp.index,
                        404,
                        "OBJECT_NOT_FOUND",
                        f"Could not find {obj.singular} with {id_property} {value}",
                        {"ids": [value]},
                    )
                    if not conflicts_per_item:
                        out.whole_batch_failure = failure
                        return out
                    out.failures.append(failure)
                    continue
                remaining.append(inp)
            accepted = self._check_conflicts(obj, remaining, existing, conflicts_per_item, out)
            if out.whole_batch_failure is not None:
                return out
            ms = now_ms()
            ts = format_ms(ms)
            changed: list[StoredObject] = []
            for inp in accepted:
                oid = existing[inp.index]
                if oid is None:
                    oid = self._allocate(obj.type_id)
                    props = self._defaults(obj, oid, ts, source)
                    props.update((k, v) for k, v in inp.properties.items() if v != "")
                    stored = StoredObject(obj.type_id, oid, props, ms, ms)
                    new = True
                else:
                    old = self._objects[obj.type_id][oid]
                    self._unindex(obj, old)
                    props = dict(old.properties)
                    for k, v in inp.properties.items():
                        if v == "":
                            props.pop(k, None)
                        else:
                            props[k] = v
                    props[obj.modified_property] = ts
                    stored = StoredObject(obj.type_id, oid, props, old.created_ms, ms)
                    new = False
                self._objects[obj.type_id][oid] = stored
                self._index(obj, stored)
                changed.append(stored)
                out.results.append((inp.index, stored, new))
            self._persist(changed, [], counters)
        return out

    def archive(self, obj: ObjectType, ids: list[int], counters: dict[str, Any] | None = None) -> int:
        """Archive objects (missing ids are ignored, as HubSpot does); returns how many were archived."""
        changed: list[StoredObject] = []
        with self.lock:
            ms = now_ms()
            for oid in ids:
                old = self._live(obj.type_id, oid)
                if old is None:
                    continue
                self._unindex(obj, old)
                stored = StoredObject(obj.type_id, oid, old.properties, old.created_ms, ms, True)
                self._objects[obj.type_id][oid] = stored
                changed.append(stored)
            self._persist(changed, [], counters)
        return len(changed)

    # ----------------------------------------------------------------- reads
    def get(
        self, obj: ObjectType, oid: int | None, archived: bool = False, *, include_pending: bool = False
    ) -> StoredObject | None:
        """One object by id (archived objects only if ``archived``; not-yet-revealed ones if asked)."""
        with self.lock:
            stored = self._objects.get(obj.type_id, {}).get(oid) if oid is not None else None
        if stored is None or stored.archived != archived:
            return None
        if not include_pending and not self.pending.visible(stored.type_id, stored.id):
            return None
        return stored

    def find(self, obj: ObjectType, id_property: str, value: str) -> StoredObject | None:
        """One live object by ``hs_object_id`` or a unique property value."""
        if id_property == "hs_object_id":
            return self.get(obj, int(value) if value.isdigit() else None)
        with self.lock:
            oid = self._unique.get((obj.type_id, id_property), {}).get(self._unique_key(id_property, value))
            stored = self._live(obj.type_id, oid)
        return stored if stored is not None and self.pending.visible(stored.type_id, stored.id) else None

    def all(
        self, obj: ObjectType, archived: bool = False, *, include_pending: bool = False
    ) -> list[StoredObject]:
        """Snapshot of the objects of a type in creation order (not-yet-revealed ones only if asked)."""
        with self.lock:
            values = list(self._objects.get(obj.type_id, {}).values())
        visible = self.pending.visible
        return [o for o in values if o.archived == archived and (include_pending or visible(o.type_id, o.id))]

    def associations(self, type_id: str, oid: int) -> list[tuple[str, int, list[int]]]:
        """Associations of one object: ``(to type id, to id, sorted association type ids)``."""
        with self.lock:
            targets = self._assoc.get((type_id, oid), {})
            items = [(t, i, sorted(tids)) for (t, i), tids in targets.items()]
        return [
            (t, i, tids)
            for t, i, tids in items
            if self._live(t, i) is not None and self.pending.visible(t, i)
        ]

    def counts(self) -> dict[str, int]:
        """Live objects per type name (every known type, zero included; not-yet-revealed ones too)."""
        with self.lock:
            return {
                obj.name: sum(1 for o in self._objects.get(tid, {}).values() if not o.archived)
                for tid, obj in self.catalog.types.items()
            }

    def save_counters(self, counters: dict[str, Any]) -> None:
        """Persist request counters (no-op without SQLite)."""
        if self.persistence is not None:
            self.persistence.write_counters(counters)
