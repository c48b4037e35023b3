"""The associations between records: both directions, implied unlabeled types and one primary per record.

Rules (reference §11.1, §16.5):

- every association type has an inverse, and both directions are always kept together;
- a primary type (1, 2, 5, 6, 25, 26) implies the unlabeled type of the same pair (HubSpot returns both:
  ``{"typeId":1,"label":"Primary"}`` and ``{"typeId":279,"label":null}``, Associations guide);
- "a record with several associated companies can have only one primary" (Associations guide): giving a
  contact, deal or ticket a new primary company moves the primary label there; the previous company keeps
  the unlabeled association (moving rather than refusing is our choice, HubSpot documents no error);
- removing an unlabeled type removes every labelled type between the two records ("Deleting an unlabeled
  association will also delete all labeled associations between those two objects", Spec repo
  ``Associations/…/associations.json``, ``batch/labels/archive``).

:class:`AssociationLinks` holds no lock of its own: the store calls it with its lock held.
"""

from __future__ import annotations

from collections import defaultdict

from hubspot_loader.sandbox.catalog import Catalog
from hubspot_loader.sandbox.persistence import AssociationRow

#: contact → primary company, deal → primary company, ticket → primary company (reference §11.1)
SINGLE_PRIMARY_TYPES = frozenset({1, 5, 26})

Node = tuple[str, int]


class AssociationLinks:
    """Association type ids per ordered pair of records, both directions."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._edges: dict[Node, dict[Node, set[int]]] = defaultdict(dict)

    def load(self, rows: list[AssociationRow]) -> None:
        """Add persisted rows (each one direction, as written)."""
        for from_t, from_id, to_t, to_id, tid in rows:
            self._edges[(from_t, from_id)].setdefault((to_t, to_id), set()).add(tid)

    def clear(self) -> None:
        """Forget every association."""
        self._edges.clear()

    def targets(self, type_id: str, oid: int) -> list[tuple[str, int, list[int]]]:
        """Every record linked from ``(type_id, oid)``: ``(to type id, to id, sorted type ids)``."""
        return [(t, i, sorted(tids)) for (t, i), tids in self._edges.get((type_id, oid), {}).items()]

    def types(self, from_node: Node, to_node: Node) -> list[int]:
        """Return the type ids from one record to another, sorted."""
        return sorted(self._edges.get(from_node, {}).get(to_node, set()))

    def _put(self, a: Node, b: Node, tid: int, rows: list[AssociationRow]) -> bool:
        bucket = self._edges[a].setdefault(b, set())
        if tid in bucket:
            return False
        bucket.add(tid)
        rows.append((a[0], a[1], b[0], b[1], tid))
        return True

    def _drop(self, a: Node, b: Node, tid: int, rows: list[AssociationRow]) -> bool:
        bucket = self._edges.get(a, {}).get(b)
        if not bucket or tid not in bucket:
            return False
        bucket.discard(tid)
        if not bucket:
            del self._edges[a][b]
        rows.append((a[0], a[1], b[0], b[1], tid))
        return True

    def _move_primary(self, from_node: Node, to_node: Node, tid: int, removed: list[AssociationRow]) -> None:
        inverse = self.catalog.associations[tid].inverse_id
        for other, tids in list(self._edges.get(from_node, {}).items()):
            if other != to_node and other[0] == to_node[0] and tid in tids:
                self._drop(from_node, other, tid, removed)
                self._drop(other, from_node, inverse, removed)

    def add(
        self,
        from_node: Node,
        to_node: Node,
        tid: int,
        added: list[AssociationRow],
        removed: list[AssociationRow],
    ) -> int:
        """Add type ``tid``, its implied unlabeled type and the inverses; return the new from-side rows."""
        spec = self.catalog.associations[tid]
        if tid in SINGLE_PRIMARY_TYPES:
            self._move_primary(from_node, to_node, tid, removed)
        count = 0
        for type_id in (tid, spec.implies):
            if type_id is None:
                continue
            inverse = self.catalog.associations[type_id].inverse_id
            count += self._put(from_node, to_node, type_id, added)
            self._put(to_node, from_node, inverse, added)
        return count

    def remove(
        self, from_node: Node, to_node: Node, type_ids: list[int] | None, removed: list[AssociationRow]
    ) -> int:
        """Remove the listed types (all for ``None`` or an unlabeled one); return the from-side count."""
        present = set(self.types(from_node, to_node))
        if type_ids is None or any(
            self.catalog.associations[t].label is None for t in type_ids if t in self.catalog.associations
        ):
            wanted = present
        else:
            wanted = present & set(type_ids)
        count = 0
        for tid in sorted(wanted):
            count += self._drop(from_node, to_node, tid, removed)
            self._drop(to_node, from_node, self.catalog.associations[tid].inverse_id, removed)
        return count
