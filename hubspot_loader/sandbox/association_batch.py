"""The associations API's batch endpoints: create (labelled), create default, archive, archive labels, read.

Paths ``/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/…`` and
``/crm/associations/2026-03/{fromObjectType}/{toObjectType}/batch/…`` (Spec repo
``CRM/Associations/Rollouts/130902/{v4,2026-03}/associations.json``; reference §16.5). Bodies are the
same in both versions; the archive answers differ (v4 204, 2026-03 200 ``BatchResponse``).

Documented facts and our choices are listed per handler and in ``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route, association_type_ids
from hubspot_loader.sandbox.catalog import AssociationType, ObjectType
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.store import now_ms

#: inputs per batch create/archive (Associations guide §Limits: 2,000; reference §6, §15 #16)
MAX_ASSOCIATION_INPUTS = 2000
#: inputs per batch read (Associations guide §Limits, changelog of Feb 10, 2025)
MAX_ASSOCIATION_READ_INPUTS = 1000
#: associations per record and page of a batch read (as the single-record read's limit)
MAX_TARGETS_PAGE = 500
V4_PREFIX = "/crm/v4/associations"

#: one parsed input: ``(index, from id, to id, raw from id, raw to id, type ids)``
Pair = tuple[int, int | None, int | None, str, str, list[int]]


def _record_id(value: Any, what: str) -> str:
    if not isinstance(value, dict) or "id" not in value:
        raise errors.bad_input(f"Missing required creator property '{what}'")
    return str(value["id"])


def _as_int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def _type_ids(raw: Any) -> list[int]:
    if not isinstance(raw, list):
        raise errors.bad_input("Missing required creator property 'types'")
    return association_type_ids(raw)


def invalid_records_item(targets: list[tuple[ObjectType, str]]) -> dict[str, Any]:
    """Build the error of an input naming a record that does not exist (as for object create, §5.6)."""
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": "One or more associations are invalid",
        "context": {
            "INVALID_OBJECT_IDS": [f"{t.error_name}={i} is not valid" for t, i in targets],
            "objectId": [i for _t, i in targets],
            "objectType": [t.error_name for t, _i in targets],
        },
    }


def invalid_type_item(type_id: int, from_obj: ObjectType, to_obj: ObjectType) -> dict[str, Any]:
    """Build the error of a type id that is no type from ``from_obj`` to ``to_obj`` (public mocks' shape)."""
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "subCategory": "crm.associations.INVALID_ASSOCIATION_TYPE",
        "message": f"{type_id} is not a valid association type between {from_obj.error_name} and "
        f"{to_obj.error_name}",
        "context": {
            "type": [str(type_id)],
            "fromObjectType": [from_obj.error_name],
            "toObjectType": [to_obj.error_name],
        },
    }


class AssociationBatchEndpoints(AppCore):
    """Handlers of the associations API's batch endpoints."""

    def _pair_types(self, route: Route, token: TokenConfig) -> tuple[ObjectType, ObjectType]:
        """Both object types of the path; any read or write scope of either type admits (see docs)."""
        from_obj = self.catalog.resolve(route.object_ref or "")
        to_obj = self.catalog.resolve(route.to_ref or "")
        if from_obj is None or to_obj is None:
            raise errors.unknown_object_type((route.object_ref if from_obj is None else route.to_ref) or "")
        scopes = from_obj.read_scopes + from_obj.write_scopes + to_obj.read_scopes + to_obj.write_scopes
        if not token.has_any_scope(scopes):
            raise errors.missing_scopes(from_obj.write_scopes + to_obj.write_scopes)
        return from_obj, to_obj

    def _association_inputs(self, req: Request, limit: int) -> list[dict[str, Any]]:
        data = self._json(req)
        if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
            raise errors.bad_input("Missing required creator property 'inputs'")
        inputs = data["inputs"]
        if len(inputs) > limit:
            raise errors.validation(self.config.too_many_inputs_message.format(max=limit, count=len(inputs)))
        if not all(isinstance(i, dict) for i in inputs):
            raise errors.bad_input("Cannot deserialize batch input: each input must be an object")
        return inputs

    def _pairs(self, inputs: list[dict[str, Any]], with_types: bool) -> list[Pair]:
        pairs: list[Pair] = []
        for index, raw in enumerate(inputs):
            from_raw, to_raw = _record_id(raw.get("from"), "from"), _record_id(raw.get("to"), "to")
            type_ids = _type_ids(raw.get("types")) if with_types else []
            pairs.append((index, _as_int(from_raw), _as_int(to_raw), from_raw, to_raw, type_ids))
        return pairs

    def _write_pairs(
        self, from_obj: ObjectType, to_obj: ObjectType, pairs: list[Pair]
    ) -> tuple[dict[int, list[str]], list[dict[str, Any]]]:
        """Create the pairs' types; return the labels per created input and the error items."""
        error_items: list[dict[str, Any]] = []
        good: list[tuple[int, int | None, int | None, list[int]]] = []
        for index, from_id, to_id, _fr, _tr, type_ids in pairs:
            wrong = [t for t in type_ids if not self._fits(t, from_obj, to_obj)]
            if wrong:
                error_items.append(invalid_type_item(wrong[0], from_obj, to_obj))
            else:
                good.append((index, from_id, to_id, type_ids))
        outcome = self.store.associate(from_obj, to_obj, good, counters=self._counter_snapshot())
        raw_ids = {p[0]: (p[3], p[4]) for p in pairs}
        for index, sides in sorted(outcome.missing.items()):
            from_raw, to_raw = raw_ids[index]
            named = {"from": (from_obj, from_raw), "to": (to_obj, to_raw)}
            error_items.append(invalid_records_item([named[side] for side in sides]))
        self.counters.writes(from_obj.name, associations=outcome.added)
        return outcome.labels, error_items

    def _fits(self, type_id: int, from_obj: ObjectType, to_obj: ObjectType) -> bool:
        spec = self.catalog.associations.get(type_id)
        return spec is not None and spec.from_type == from_obj.type_id and spec.to_type == to_obj.type_id

    def h_association_batch_create(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/create``: 201 ``BatchResponseLabelsBetweenObjectPair``, 207 with per-input errors.

        Each result is the pair with numeric ids (as a real v4 answer has them) and the labels the pair holds
        afterwards (unlabeled types have none: a real v4 PUT of type 279 answered ``labels: []``, hotglue
        cassette). Errors (our choice of per-input 207 items; HubSpot documents none): a record that does not
        exist gets the object-create association error (reference §5.6), a type id that is not a type
        between the two object types ``crm.associations.INVALID_ASSOCIATION_TYPE``. Creating an existing
        association again succeeds and changes nothing.
        """
        started = now_ms()
        from_obj, to_obj = self._pair_types(route, token)
        pairs = self._pairs(self._association_inputs(req, MAX_ASSOCIATION_INPUTS), with_types=True)
        labels, error_items = self._write_pairs(from_obj, to_obj, pairs)
        ids = {p[0]: (p[1], p[2]) for p in pairs}
        results = [
            {
                "fromObjectTypeId": from_obj.type_id,
                "fromObjectId": ids[index][0],
                "toObjectTypeId": to_obj.type_id,
                "toObjectId": ids[index][1],
                "labels": names,
            }
            for index, names in sorted(labels.items())
        ]
        return self._batch_body(results, error_items, started, 201)

    def _default_type(self, from_obj: ObjectType, to_obj: ObjectType) -> AssociationType:
        """Return the most generic type: the unlabeled HubSpot-defined one, else the lowest type id."""
        between = sorted(
            (
                a
                for a in self.catalog.associations.values()
                if a.from_type == from_obj.type_id and a.to_type == to_obj.type_id
            ),
            key=lambda a: (not (a.category == "HUBSPOT_DEFINED" and a.label is None), a.type_id),
        )
        if not between:
            raise errors.validation(
                f"No association type is defined between {from_obj.error_name} and {to_obj.error_name}",
                subCategory="crm.associations.INVALID_ASSOCIATION_TYPE",
            )
        return between[0]

    def h_association_batch_default(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/associate/default``: 200 ``BatchResponsePublicDefaultAssociation``.

        The spec lists only 200, with ``errors``/``numErrors`` in its schema, so failed inputs are listed
        there under a 200. Each created pair gives two results, one per direction with its own type id (a
        public test fixture of a real answer: ticket → contact 16 and contact → ticket 15).
        """
        started = now_ms()
        from_obj, to_obj = self._pair_types(route, token)
        default = self._default_type(from_obj, to_obj)
        pairs = [
            (i, f, t, fr, tr, [default.type_id])
            for i, f, t, fr, tr, _ in self._pairs(
                self._association_inputs(req, MAX_ASSOCIATION_INPUTS), False
            )
        ]
        labels, error_items = self._write_pairs(from_obj, to_obj, pairs)
        inverse = self.catalog.associations[default.inverse_id]
        results: list[dict[str, Any]] = []
        for index, from_id, to_id, _fr, _tr, _types in pairs:
            if index not in labels:
                continue
            for a, b, spec in ((from_id, to_id, default), (to_id, from_id, inverse)):
                results.append(
                    {
                        "from": {"id": str(a)},
                        "to": {"id": str(b)},
                        "associationSpec": {
                            "associationCategory": spec.category,
                            "associationTypeId": spec.type_id,
                        },
                    }
                )
        response = self._batch_body(results, error_items, started, 200)
        response.status = 200
        return response

    def _archive_answer(self, route: Route, started: int) -> Response:
        """v4: 204 without a body; 2026-03: 200 ``BatchResponse`` with no results (reference §16.5)."""
        if route.prefix == V4_PREFIX:
            return Response(204)
        return self._batch_body([], [], started, 200)

    def h_association_batch_archive(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/archive``: remove every type between each ``from`` and each of its ``to`` records.

        Pairs that are not associated, and records that do not exist, are ignored (our choice, as for the
        objects' batch archive).
        """
        started = now_ms()
        from_obj, to_obj = self._pair_types(route, token)
        removals: list[tuple[int, int, list[int] | None]] = []
        for raw in self._association_inputs(req, MAX_ASSOCIATION_INPUTS):
            from_id = _as_int(_record_id(raw.get("from"), "from"))
            targets = raw.get("to")
            if not isinstance(targets, list):
                raise errors.bad_input("Missing required creator property 'to'")
            for target in targets:
                to_id = _as_int(_record_id(target, "to"))
                if from_id is not None and to_id is not None:
                    removals.append((from_id, to_id, None))
        removed = self.store.dissociate(from_obj, to_obj, removals, counters=self._counter_snapshot())
        self.counters.writes(from_obj.name, associations_archived=removed)
        return self._archive_answer(route, started)

    def h_association_batch_labels_archive(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/labels/archive``: remove the listed types only.

        Removing the unlabeled type removes every labelled one too ("Deleting an unlabeled association will
        also delete all labeled associations between those two objects", Spec repo). Unknown pairs and types
        are ignored (our choice).
        """
        started = now_ms()
        from_obj, to_obj = self._pair_types(route, token)
        pairs = self._pairs(self._association_inputs(req, MAX_ASSOCIATION_INPUTS), with_types=True)
        removals: list[tuple[int, int, list[int] | None]] = [
            (f, t, types) for _i, f, t, _fr, _tr, types in pairs if f is not None and t is not None
        ]
        removed = self.store.dissociate(from_obj, to_obj, removals, counters=self._counter_snapshot())
        self.counters.writes(from_obj.name, associations_archived=removed)
        return self._archive_answer(route, started)

    def _read_one(
        self, from_obj: ObjectType, to_obj: ObjectType, raw: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One batch-read input: ``(result, None)`` or ``(None, error item)``."""
        value = str(raw.get("id", ""))
        from_id = _as_int(value)
        if from_id is None:
            return None, {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "subCategory": "crm.associations.INVALID_IDENTIFIER",
                "message": f"{value} is not a valid {from_obj.singular} id",
                "context": {"fromObjectId": [value], "fromObjectType": [from_obj.singular]},
            }
        after = _as_int(str(raw.get("after") or "0")) or 0
        exists = self.store.get(from_obj, from_id) is not None
        links = sorted(
            (to_id, tids)
            for to_t, to_id, tids in (self.store.associations(from_obj.type_id, from_id) if exists else [])
            if to_t == to_obj.type_id and to_id > after
        )
        if not links:
            return None, {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No {to_obj.singular} is associated with {from_obj.singular} {value}.",
                "context": {
                    "fromObjectId": [value],
                    "fromObjectType": [from_obj.singular],
                    "toObjectType": [to_obj.singular],
                },
            }
        page = links[:MAX_TARGETS_PAGE]
        result: dict[str, Any] = {
            "from": {"id": value},
            "to": [
                {
                    "toObjectId": to_id,
                    "associationTypes": [self.catalog.associations[t].to_label() for t in tids],
                }
                for to_id, tids in page
            ],
        }
        if len(links) > MAX_TARGETS_PAGE:
            result["paging"] = {"next": {"after": str(page[-1][0])}}
        return result, None

    def h_association_batch_read(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/read``: 200 ``BatchResponsePublicAssociationMultiWithLabel``, 207 with errors.

        A record without associations to the type, or that does not exist, is a 207 item
        ``OBJECT_NOT_FOUND`` / ``crm.associations.NO_ASSOCIATIONS_FOUND`` ``No company is associated with deal
        515690208449.`` with ``context.fromObjectId``, ``fromObjectType``, ``toObjectType`` (several public
        captures, 2025-2026); a malformed id is ``VALIDATION_ERROR`` /
        ``crm.associations.INVALID_IDENTIFIER`` (captured, message not published: ours). Target ids are
        numbers, as in the single-record read; ``paging.next.after`` continues one record's targets.
        """
        started = now_ms()
        from_obj, to_obj = self._pair_types(route, token)
        results: list[dict[str, Any]] = []
        error_items: list[dict[str, Any]] = []
        for raw in self._association_inputs(req, MAX_ASSOCIATION_READ_INPUTS):
            result, error = self._read_one(from_obj, to_obj, raw)
            if result is not None:
                results.append(result)
            if error is not None:
                error_items.append(error)
        return self._batch_body(results, error_items, started, 200)


__all__ = ["AssociationBatchEndpoints", "invalid_records_item", "invalid_type_item"]
