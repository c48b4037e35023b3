"""The object store: objects per type, unique-value indexes, associations, property history and id counters.

:class:`Store` adds updates, upserts, association writes and property history to the state, create, archive
and reads of :class:`~hubspot_loader.sandbox.store_core.StoreCore`. The value classes are in
:mod:`~hubspot_loader.sandbox.store_types`; their names stay importable from here.

Update rules (reference §16.1, §16.2):

- sent values overwrite stored ones; ``""`` clears a value, which then reads back as ``""`` (a value never
  set reads back as ``null``: estuary/connectors#4272; a real PATCH answer carried ``"days_to_close": ""``);
- ``updatedAt`` and ``lastmodifieddate``/``hs_lastmodifieddate`` move only when a value changes (hotglue
  cassettes: a PATCH repeating the stored values left them unchanged). Clearing a value that was never set
  is no change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hubspot_loader.sandbox.catalog import ObjectType
from hubspot_loader.sandbox.persistence import AssociationRow
from hubspot_loader.sandbox.store_core import StoreCore, name_earlier_inputs, unique_key
from hubspot_loader.sandbox.store_types import (
    FIRST_ID,
    AssociationInput,
    ItemFailure,
    StoredObject,
    WriteInput,
    WriteOutcome,
    now_ms,
)
from hubspot_loader.sandbox.validation import format_ms

#: one version of a property value: ``(value, epoch ms, sourceType)``
Version = tuple[str, int, str]


@dataclass
class LinkOutcome:
    """Result of an association write: labels per created input, missing records per failed input."""

    labels: dict[int, list[str]] = field(default_factory=dict)
    missing: dict[int, list[str]] = field(default_factory=dict)
    added: int = 0


class Store(StoreCore):
    """All CRM state of one sandbox."""

    def _forget_history(self) -> None:
        self._history.clear()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._history: dict[tuple[str, int], dict[str, list[Version]]] = defaultdict(dict)
        super().__init__(*args, **kwargs)

    # ----------------------------------------------------------------- property history
    def _merge(
        self, obj: ObjectType, old: StoredObject, values: dict[str, str], source_type: str, ms: int
    ) -> StoredObject:
        """Apply ``values`` to ``old``; return ``old`` itself when nothing changes."""
        props = dict(old.properties)
        changed: list[str] = []
        for name, value in values.items():
            before = props.get(name)
            if value == before or (value == "" and before is None):
                continue
            versions = self._history[(old.type_id, old.id)].setdefault(name, [])
            if not versions and before is not None:
                versions.append((before, old.created_ms, old.properties.get("hs_object_source", "API")))
            versions.append((value, ms, source_type))
            props[name] = value
            changed.append(name)
        if not changed:
            return old
        props[obj.modified_property] = format_ms(ms)
        return StoredObject(old.type_id, old.id, props, old.created_ms, ms)

    def history(
        self, obj: ObjectType, stored: StoredObject, names: list[str]
    ) -> dict[str, list[dict[str, str]]]:
        """``propertiesWithHistory`` of ``stored``: every version of each defined property, newest first.

        A value set when the record was created and never changed has one version, stamped with the creation
        time. History is kept in memory only: after a restart with ``--db`` each value has one version.
        """
        with self.lock:
            known = {n: list(v) for n, v in self._history.get((stored.type_id, stored.id), {}).items()}
        source = stored.properties.get("hs_object_source", "API")
        out: dict[str, list[dict[str, str]]] = {}
        for name in names:
            if name not in obj.properties:
                continue
            versions = known.get(name, [])
            if not versions and stored.properties.get(name) is not None:
                versions = [(stored.properties[name], stored.created_ms, source)]
            out[name] = [
                {"value": value, "timestamp": format_ms(ms), "sourceType": kind}
                for value, ms, kind in reversed(versions)
            ]
        return out

    def _replace(self, obj: ObjectType, old: StoredObject, new: StoredObject) -> None:
        if new is not old:
            self._unindex(obj, old)
            self._objects[obj.type_id][new.id] = new
            self._index(obj, new)

    # ----------------------------------------------------------------- updates
    def _resolve(self, obj: ObjectType, id_property: str, value: str) -> int | None:
        """Find the live record an update input names (lock held); pending records count as existing."""
        if id_property == "hs_object_id":
            found = self._live(obj.type_id, int(value) if value.isdigit() else None)
            return found.id if found else None
        return self._unique.get((obj.type_id, id_property), {}).get(unique_key(id_property, value))

    def update(
        self,
        obj: ObjectType,
        inputs: list[WriteInput],
        *,
        source_type: str,
        conflicts_per_item: bool,
        counters: dict[str, Any] | None = None,
    ) -> WriteOutcome:
        """Update the records each input's ``id_property``/``id_value`` names; unknown go to ``missing``."""
        out = WriteOutcome()
        with self.lock:
            existing: dict[int, int | None] = {}
            found: list[WriteInput] = []
            for inp in inputs:
                oid = self._resolve(obj, inp.id_property or "hs_object_id", inp.id_value or "")
                if oid is None:
                    out.missing.append(inp.index)
                    continue
                existing[inp.index] = oid
                found.append(inp)
            accepted = self._check_conflicts(obj, found, existing, conflicts_per_item, out)
            if out.whole_batch_failure is not None:
                return out
            ms = now_ms()
            changed: list[StoredObject] = []
            for inp in accepted:
                old = self._objects[obj.type_id][existing[inp.index] or 0]
                new = self._merge(obj, old, inp.properties, source_type, ms)
                self._replace(obj, old, new)
                if new is not old:
                    changed.append(new)
                out.results.append((inp.index, new, False))
            self._persist(changed, [], counters)
        name_earlier_inputs(out, {i: oid for i, oid in existing.items() if oid is not None})
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
                existing[inp.index] = self._resolve(obj, id_property, value)
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
            changed: list[StoredObject] = []
            for inp in accepted:
                oid = existing[inp.index]
                if oid is None:
                    stored = self._new_object(obj, inp.properties, source, ms)
                    self._objects[obj.type_id][stored.id] = stored
                    self._index(obj, stored)
                    changed.append(stored)
                    out.results.append((inp.index, stored, True))
                    continue
                old = self._objects[obj.type_id][oid]
                new = self._merge(obj, old, inp.properties, source.get("hs_object_source", "API"), ms)
                self._replace(obj, old, new)
                if new is not old:
                    changed.append(new)
                out.results.append((inp.index, new, False))
            self._persist(changed, [], counters)
        name_earlier_inputs(out, {i: s.id for i, s, _n in out.results})
        return out

    # ----------------------------------------------------------------- association writes
    def _labels(self, from_node: tuple[str, int], to_node: tuple[str, int]) -> list[str]:
        specs = (self.catalog.associations[t] for t in self.links.types(from_node, to_node))
        return [s.label for s in specs if s.label is not None]

    def associate(
        self,
        from_obj: ObjectType,
        to_obj: ObjectType,
        pairs: list[tuple[int, int | None, int | None, list[int]]],
        counters: dict[str, Any] | None = None,
    ) -> LinkOutcome:
        """Create association types between live records: ``(input index, from id, to id, type ids)``.

        An input naming a missing (or archived) record creates nothing and is listed in ``missing`` with
        ``"from"`` and/or ``"to"``. Existing types are left as they are (creating them again is a no-op).
        """
        out = LinkOutcome()
        touched: list[AssociationRow] = []
        with self.lock:
            for index, from_id, to_id, type_ids in pairs:
                gone = [
                    side
                    for side, obj, oid in (("from", from_obj, from_id), ("to", to_obj, to_id))
                    if self._live(obj.type_id, oid) is None
                ]
                if gone:
                    out.missing[index] = gone
                    continue
                assert from_id is not None and to_id is not None
                from_node, to_node = (from_obj.type_id, from_id), (to_obj.type_id, to_id)
                for tid in type_ids:
                    out.added += self.links.add(from_node, to_node, tid, touched, touched)
                out.labels[index] = self._labels(from_node, to_node)
            present, absent = self._net_links(touched)
            self._persist((), present, counters, absent)
        return out

    def dissociate(
        self,
        from_obj: ObjectType,
        to_obj: ObjectType,
        pairs: list[tuple[int, int, list[int] | None]],
        counters: dict[str, Any] | None = None,
    ) -> int:
        """Remove association types (all of a pair for ``None``), ignoring unknown pairs; return the count."""
        touched: list[AssociationRow] = []
        removed = 0
        with self.lock:
            for from_id, to_id, type_ids in pairs:
                removed += self.links.remove(
                    (from_obj.type_id, from_id), (to_obj.type_id, to_id), type_ids, touched
                )
            present, absent = self._net_links(touched)
            self._persist((), present, counters, absent)
        return removed


__all__ = [
    "FIRST_ID",
    "AssociationInput",
    "ItemFailure",
    "LinkOutcome",
    "Store",
    "StoredObject",
    "WriteInput",
    "WriteOutcome",
    "now_ms",
]
