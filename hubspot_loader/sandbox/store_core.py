"""The object store's state and its create, archive and read operations.

One lock guards all state and is held only for the checks and the commit of a write (never during
JSON parsing, validation of values or serialisation). Stored objects are immutable snapshots: an
update replaces the :class:`StoredObject`, so readers can serialise a reference outside the lock.
Updates, upserts, association writes and property history are in :mod:`~hubspot_loader.sandbox.store`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from hubspot_loader.sandbox.catalog import Catalog, ObjectType
from hubspot_loader.sandbox.links import AssociationLinks
from hubspot_loader.sandbox.persistence import AssociationRow, SqlitePersistence
from hubspot_loader.sandbox.statuses import PendingObjects
from hubspot_loader.sandbox.store_types import (
    FIRST_ID,
    ItemFailure,
    StoredObject,
    WriteInput,
    WriteOutcome,
    now_ms,
)
from hubspot_loader.sandbox.validation import format_ms


def unique_key(name: str, value: str) -> str:
    """Return the index key of a unique value: emails compare case-insensitively (stored lowercased)."""
    return value.lower() if name == "email" else value


def name_earlier_inputs(out: WriteOutcome, ids_by_index: dict[int, int]) -> None:
    """Conflicts with an earlier input of the same batch name that input's record once it has an id."""
    for failure in out.failures:
        earlier = failure.context.pop("earlierInputIndex", None)
        if earlier is not None and int(earlier[0]) in ids_by_index:
            failure.message = (
                failure.message.split(". ")[0] + f". Existing ID: {ids_by_index[int(earlier[0])]}"
            )


class StoreCore:
    """All CRM state of one sandbox, with create, archive and the reads."""

    def __init__(self, catalog: Catalog, persistence: SqlitePersistence | None = None) -> None:
        self.catalog = catalog
        self.persistence = persistence
        self.lock = threading.Lock()
        self._objects: dict[str, dict[int, StoredObject]] = defaultdict(dict)
        self._unique: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self.links = AssociationLinks(catalog)
        self._next_id: dict[str, int] = {}
        self.pending = PendingObjects()
        """Objects created under a PENDING/PROCESSING answer that reads do not see yet."""
        self.loaded_counters: dict[str, Any] = {}
        if persistence is not None:
            self._load(persistence)

    def set_catalog(self, catalog: Catalog) -> None:
        """Use another catalog (sandbox reset)."""
        self.catalog = catalog
        self.links.catalog = catalog

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
        self.links.load(assocs)
        self._next_id.update(next_ids)
        self.loaded_counters = counters

    def reset(self) -> None:
        """Delete every object, association and id counter (also in the SQLite file)."""
        with self.lock:
            self._objects.clear()
            self._unique.clear()
            self.links.clear()
            self._next_id.clear()
            self.pending.clear()
            self._forget_history()
            if self.persistence is not None:
                self.persistence.clear()

    def _forget_history(self) -> None:
        """Forget per-object state kept by subclasses (a hook)."""

    # ----------------------------------------------------------------- helpers (lock held)
    def _index(self, obj: ObjectType, stored: StoredObject, names: tuple[str, ...] | None = None) -> None:
        for name in obj.unique_properties() if names is None else names:
            value = stored.properties.get(name)
            if value:
                self._unique[(obj.type_id, name)][unique_key(name, value)] = stored.id

    def _unindex(self, obj: ObjectType, stored: StoredObject) -> None:
        for name in obj.unique_properties():
            value = stored.properties.get(name)
            if value:
                index = self._unique[(obj.type_id, name)]
                key = unique_key(name, value)
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

    def _first_conflict(
        self,
        obj: ObjectType,
        names: tuple[str, ...],
        inp: WriteInput,
        self_id: int | None,
        pending: dict[tuple[str, str], int],
    ) -> tuple[str, str, int | None, int | None] | None:
        for name in names:
            value = inp.properties.get(name)
            if not value:
                continue
            key = unique_key(name, value)
            existing = self._unique.get((obj.type_id, name), {}).get(key)
            if existing is not None and existing != self_id:
                return name, value, existing, None
            if (name, key) in pending:
                return name, value, None, pending[(name, key)]
        return None

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
        names = obj.unique_properties()  # once per batch: a property created meanwhile waits for the next
        for inp in inputs:
            conflict = self._first_conflict(obj, names, inp, self_ids.get(inp.index), pending)
            if conflict is None:
                for name in names:
                    value = inp.properties.get(name)
                    if value:
                        pending[(name, unique_key(name, value))] = inp.index
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

    def _invalid_association_targets(
        self, obj: ObjectType, inp: WriteInput
    ) -> tuple[list[tuple[str, str]], list[str]]:
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
        return invalid, unknown_types

    def _check_associations(
        self, obj: ObjectType, inputs: list[WriteInput], per_item: bool, out: WriteOutcome
    ) -> list[WriteInput]:
        accepted: list[WriteInput] = []
        for inp in inputs:
            invalid, unknown_types = self._invalid_association_targets(obj, inp)
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

    def _defaults(self, obj: ObjectType, oid: int, ts: str, source: dict[str, str]) -> dict[str, str]:
        props = {"hs_object_id": str(oid), "createdate": ts, obj.modified_property: ts, **source}
        if obj.name == "companies":
            props["hs_pipeline"] = "companies-lifecycle-pipeline"
        elif obj.name == "tickets":
            props["hs_ticket_id"] = str(oid)
            props["hs_pipeline"] = "0"
        return props

    def _new_object(
        self, obj: ObjectType, values: dict[str, str], source: dict[str, str], ms: int
    ) -> StoredObject:
        oid = self._allocate(obj.type_id)
        props = self._defaults(obj, oid, format_ms(ms), source)
        props.update((k, v) for k, v in values.items() if v != "")
        if obj.name == "companies" and props.get("domain") and "website" not in props:
            props["website"] = props["domain"]
        return StoredObject(obj.type_id, oid, props, ms, ms)

    def _persist(
        self,
        objects: Iterable[StoredObject],
        assoc_rows: list[AssociationRow],
        counters: dict[str, Any] | None,
        removed_rows: Iterable[AssociationRow] = (),
    ) -> None:
        if self.persistence is not None:
            self.persistence.write(
                [o.row() for o in objects], assoc_rows, dict(self._next_id), counters, removed_rows
            )

    def _net_links(self, touched: list[AssociationRow]) -> tuple[list[AssociationRow], list[AssociationRow]]:
        """Return the net effect of association changes: ``(rows present now, rows gone)``."""
        present: list[AssociationRow] = []
        absent: list[AssociationRow] = []
        for row in dict.fromkeys(touched):
            a_t, a_id, b_t, b_id, tid = row
            (present if tid in self.links.types((a_t, a_id), (b_t, b_id)) else absent).append(row)
        return present, absent

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
            touched: list[AssociationRow] = []
            ids_by_index: dict[int, int] = {}
            names = obj.unique_properties()
            for inp in accepted:
                stored = self._new_object(obj, inp.properties, source, ms)
                self._objects[obj.type_id][stored.id] = stored
                self._index(obj, stored, names)
                ids_by_index[inp.index] = stored.id
                for assoc in inp.associations:
                    for tid in assoc.type_ids:
                        spec = self.catalog.associations[tid]
                        assert assoc.to_id is not None
                        target = (spec.to_type, assoc.to_id)
                        self.links.add((obj.type_id, stored.id), target, tid, touched, touched)
                out.results.append((inp.index, stored, True))
            present, absent = self._net_links(touched)
            self._persist((s for _i, s, _n in out.results), present, counters, absent)
        name_earlier_inputs(out, ids_by_index)
        return out

    def archive(self, obj: ObjectType, ids: list[int], counters: dict[str, Any] | None = None) -> int:
        """Archive objects (missing and already archived ids are ignored); returns how many were archived."""
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

    def find(
        self, obj: ObjectType, id_property: str, value: str, archived: bool = False
    ) -> StoredObject | None:
        """One object by ``hs_object_id`` or a unique property value (only archived ones if ``archived``).

        Emails compare case-insensitively. Archived records leave the unique index, so an archived one is
        found by scanning the archived records of the type.
        """
        if id_property == "hs_object_id":
            return self.get(obj, int(value) if value.isdigit() else None, archived=archived)
        key = unique_key(id_property, value)
        if archived:
            for candidate in self.all(obj, archived=True):
                stored_value = candidate.properties.get(id_property)
                if stored_value and unique_key(id_property, stored_value) == key:
                    return candidate
            return None
        with self.lock:
            oid = self._unique.get((obj.type_id, id_property), {}).get(key)
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
        """Associations of one object to live, visible records: ``(to type id, to id, sorted type ids)``."""
        with self.lock:
            items = self.links.targets(type_id, oid)
            live = [(t, i, tids) for t, i, tids in items if self._live(t, i) is not None]
        return [(t, i, tids) for t, i, tids in live if self.pending.visible(t, i)]

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
