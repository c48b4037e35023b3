"""The batch endpoints a sync uses besides create: update, archive and read (``…/{objectType}/batch/…``).

Both path families (``/crm/v3/objects`` and ``/crm/objects/2026-03``; reference §16.1, §16.4, §8.1).
What HubSpot documents and what is our choice is listed per handler and in ``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route, refuse_duplicate_ids
from hubspot_loader.sandbox.catalog import ObjectType
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.store import now_ms

#: "at most 50 inputs" with ``propertiesWithHistory`` (reference §6)
MAX_HISTORY_INPUTS = 50


class BatchSyncEndpoints(AppCore):
    """Handlers of ``batch/update``, ``batch/archive`` and ``batch/read``."""

    def _update_target(self, obj: ObjectType, raw: dict[str, Any]) -> tuple[str, str]:
        """``(idProperty, id)`` of one update input; ``idProperty`` is per input (Spec repo objects.json)."""
        name = raw.get("idProperty")
        id_property = self._id_property(obj, str(name)) if name is not None else "hs_object_id"
        return id_property, str(raw.get("id", ""))

    def h_batch_update(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/update``: 200, or 207 with per-input errors.

        - ``id`` is a record id, or a value of the unique property the input's ``idProperty`` names; a
          non-unique or read-only ``idProperty`` (``hs_object_id`` included) fails the whole batch with 400
          ``Unable to perform update/upsert by non-unique …`` (hubspot-api-nodejs#548, segment PR #3957);
        - the same id twice: whole-batch 400 ``Duplicate IDs found in batch input: [..]. IDs must be unique``;
        - invalid values (unknown or read-only properties included): 207 items with trace ids on every
          input, otherwise a whole-batch 400, as for batch create;
        - ids that name no record: 207 ``OBJECT_NOT_FOUND`` with ``context.ids`` (one item for all of them;
          with trace ids, one item per input, also carrying ``context.objectWriteTraceId``); the others
          are updated;
        - a unique value another record holds: 409 ``<Object> already exists. Existing ID: N`` for the
          whole batch, or a 207 item with ``conflicts_as_207`` and trace ids (as for batch create).
        """
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        targets = [self._update_target(obj, raw) for raw in inputs]
        refuse_duplicate_ids(targets)
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(obj, inputs, trace_mode, creating=False)
        for w in valid:
            w.id_property, w.id_value = targets[w.index]
        outcome = self.store.update(
            obj,
            valid,
            source_type=self._source(token)["hs_object_source"],
            conflicts_per_item=trace_mode and self.config.conflicts_as_207,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        self.counters.writes(obj.name, updated=len(outcome.results))
        traces = {w.index: w.trace_id for w in valid}
        results = [self.render(obj, s, trace_id=traces.get(i)) for i, s, _n in outcome.results]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        if outcome.missing:
            if trace_mode:
                error_items += [
                    errors.objects_not_found_item(obj.error_name, [targets[i][1]], [str(traces[i])])
                    for i in outcome.missing
                ]
            else:
                ids = [targets[i][1] for i in outcome.missing]
                error_items.append(errors.objects_not_found_item(obj.error_name, ids))
        return self._batch_body(results, error_items, started, 200)

    def h_batch_archive(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/archive``: 204, whatever the records' state.

        "This method will return a 204 No Content response on success regardless of the initial state of the
        object (e.g. active, already archived, non-existent)" (HubSpot's generated SDK docs of the objects
        batch archive: older Node SDK ``BatchApi.archive``, hubspot-api-ruby 2.3.2). Record ids only: the
        input has no ``idProperty`` (Spec repo ``BatchInputSimplePublicObjectId``).
        """
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        ids = [int(str(i.get("id"))) for i in inputs if str(i.get("id", "")).isdigit()]
        archived = self.store.archive(obj, ids, counters=self._counter_snapshot())
        self.counters.writes(obj.name, archived=archived)
        return Response(204)

    def _read_id_property(self, obj: ObjectType, name: Any) -> str:
        id_property = str(name) if name else "hs_object_id"
        prop = obj.properties.get(id_property)
        if prop is None or not prop.unique:
            raise errors.validation(
                f"Unable to perform batch read by non-unique {obj.type_id} property "
                f"{id_property} in portal ID {self.config.portal_id}"
            )
        return id_property

    def h_batch_read(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/read``: by record id or by the unique property ``idProperty`` names.

        Ids that name no record: 207 with one ``OBJECT_NOT_FOUND`` item listing them all in ``context.ids``
        as sent (a 2023 capture lists two emails in one item). ``archived=true`` reads only archived records
        ("Whether to return only results that have been archived", Spec repo). Emails match whatever their
        case (HubSpot stores them lowercased: segment PR #1514, a third-party live probe). At most 50 inputs
        with ``propertiesWithHistory`` (reference §6); its versions come newest first.
        """
        started = now_ms()
        obj = self._object_type(route, token, write=False)
        data, inputs = self._inputs(req)
        id_property = self._read_id_property(obj, data.get("idProperty"))
        history = [p for p in data.get("propertiesWithHistory") or [] if isinstance(p, str)]
        if history and len(inputs) > MAX_HISTORY_INPUTS:
            raise errors.validation(
                "The maximum number of inputs supported in a batch request for property "
                f"histories is {MAX_HISTORY_INPUTS}. Please reduce the number of items and try again"
            )
        properties = [p for p in data.get("properties") or [] if isinstance(p, str)]
        archived = req.flag("archived")
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for raw in inputs:
            value = str(raw.get("id", ""))
            stored = self.store.find(obj, id_property, value, archived=archived)
            if stored is None:
                missing.append(value)
                continue
            item = self.render(obj, stored, properties=properties)
            if history:
                item["propertiesWithHistory"] = self.store.history(obj, stored, history)
            results.append(item)
        error_items = [errors.objects_not_found_item(obj.error_name, missing)] if missing else []
        return self._batch_body(results, error_items, started, 200)
