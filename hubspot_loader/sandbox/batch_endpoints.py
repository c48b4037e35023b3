"""The batch create and upsert endpoints (``…/{objectType}/batch/create``, ``…/batch/upsert``).

Batch update, archive and read are in :mod:`~hubspot_loader.sandbox.batch_sync_endpoints`.
"""

from __future__ import annotations

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route, refuse_duplicate_ids
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.statuses import CANCELED, COMPLETE, listed_count
from hubspot_loader.sandbox.store import StoredObject, now_ms


class BatchEndpoints(AppCore):
    """Handlers of the CRM batch endpoints (reference §3-§5)."""

    def h_batch_create(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/create``: 201, 207 with trace ids, whole-batch 400/409 otherwise.

        The answer's ``status`` comes from the status faults (:mod:`~hubspot_loader.sandbox.statuses`):
        ``COMPLETE`` unless configured otherwise. It is drawn before the store is asked (``CANCELED``
        decides what is created) and given back when the batch then fails whole, so a 400/409 batch
        uses up no entry of ``status_sequence``.
        """
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(obj, inputs, trace_mode, creating=True)
        status = self.statuses.draw() if valid else COMPLETE
        listed = {
            w.index for w in valid[: listed_count(len(valid), self.faults.config.incomplete_listed_share)]
        }
        to_create = [w for w in valid if w.index in listed] if status == CANCELED else valid
        outcome = self.store.create(
            obj,
            to_create,
            source=self._source(token),
            conflicts_per_item=trace_mode and self.config.conflicts_as_207,
            associations_per_item=trace_mode and self.config.invalid_associations_as_207,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            self.statuses.give_back(status)
            raise self._whole(outcome.whole_batch_failure)
        traces = {w.index: w.trace_id for w in valid}
        n_assoc = sum(len(a.type_ids) for w in to_create for a in w.associations)
        self.counters.writes(obj.name, created=len(outcome.results), associations=n_assoc)
        created = outcome.results
        if status != COMPLETE:
            created = self._incomplete(obj.type_id, status, outcome.results, listed)
        results = [self.render(obj, s, trace_id=traces.get(i)) for i, s, _new in created]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        completed_at = status in (COMPLETE, CANCELED) or not self.faults.config.omit_completed_at
        return self._batch_body(results, error_items, started, 201, status=status, completed_at=completed_at)

    def _incomplete(
        self, type_id: str, status: str, results: list[tuple[int, StoredObject, bool]], listed: set[int]
    ) -> list[tuple[int, StoredObject, bool]]:
        """Apply a non-COMPLETE status: hide the unlisted objects of PENDING/PROCESSING; return the listed."""
        cfg = self.faults.config
        self.counters.fault(f"answer_{status}")
        unlisted = [s.id for i, s, _new in results if i not in listed]
        if status != CANCELED and unlisted:
            self.store.pending.hide(
                type_id,
                unlisted,
                after_requests=cfg.pending_reveal_after_requests,
                after_ms=cfg.pending_reveal_after_ms,
            )
        return [r for r in results if r[0] in listed]

    def h_batch_upsert(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/upsert``: ``idProperty`` in each input; 200 with ``new`` on results."""
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        names = {i.get("idProperty") or req.param("idProperty") for i in inputs}
        if len(names) > 1:
            raise errors.validation("All inputs of a batch upsert must use the same idProperty")
        id_property = self._id_property(obj, names.pop() if names else None)
        refuse_duplicate_ids([(id_property, str(i.get("id", ""))) for i in inputs])
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(
            obj, inputs, trace_mode, creating=False, id_property=id_property
        )
        outcome = self.store.upsert(
            obj,
            id_property,
            valid,
            source=self._source(token),
            allow_create=True,
            conflicts_per_item=trace_mode and self.config.conflicts_as_207,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        created = sum(1 for _i, _s, new in outcome.results if new)
        self.counters.writes(obj.name, created=created, updated=len(outcome.results) - created)
        traces = {w.index: w.trace_id for w in valid}
        results = [self.render(obj, s, trace_id=traces.get(i), new=new) for i, s, new in outcome.results]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        return self._batch_body(results, error_items, started, 200)
