"""The writes of the sync modes (``upsert``, ``update``, ``mirror``; ``docs/sync-modes.md``).

:func:`hubspot_loader.load.load_dataframe` hands every converted row whose key the ledger knows, or that
carries a unique value, to :class:`SyncWrites` instead of creating it:

- a row the ledger holds as created is *diffed*: its fingerprint (:mod:`hubspot_loader.core.fingerprints`)
  equal to the one stored → ``unchanged``, nothing sent; otherwise only the properties whose value changed are
  sent with ``batch/update`` by the id the ledger holds (a value that became null is cleared with ``""``,
  reference §16.2, unless the spec says ``null_values="ignore"``), and associations added in the source are
  created with the associations API (removed ones are removed in ``mirror`` mode only);
- a row unknown to the ledger with a unique value is looked up by it (``batch/read`` with ``idProperty``,
  reference §8.1, one request per 100 rows): found → *adopted* (the id is recorded; the record is updated
  where its values differ from the row's); not found → created (``upsert``/``mirror``) or reported
  ``skipped_no_match`` (``update``). A create answered 409 "Existing ID" is adopted the same way;
- ``mirror`` archives the records the ledger holds for keys that left the source, within the spec's
  ``archive_limit`` (:mod:`hubspot_loader.mirror_step`).

The ledger is written only after HubSpot answered: an update that got no answer leaves the row's stored
fingerprint as it was, so the next run sends it again (updates are idempotent); an adopted id is recorded
at once, with an empty fingerprint, so a crash before its update makes the next run update it in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubspot_loader.core.fingerprints import ChunkPrints, association_text, in_flight_record
from hubspot_loader.core.model import (
    ADOPTED,
    ADOPTED_UPDATED,
    FAILED,
    NO_MATCH,
    UNCHANGED,
    UPDATED,
    AssociationChange,
    BatchOutcome,
    LoadResult,
    PreparedInput,
    RowError,
    RowOutcome,
    UpdateInput,
)
from hubspot_loader.core.plan import LoadPlan
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotError,
    HubSpotScopeError,
    parse_existing_id,
)
from hubspot_loader.http.association_writes import create_associations, remove_associations
from hubspot_loader.state import ledger as ledger_mod
from hubspot_loader.state.ledger import LedgerEntry, Settlement
from hubspot_loader.state.sync import LoadSync

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.load_request import ProgressCallback

OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
"""HubSpot's category for an update of a record that does not exist (reference §16.1)."""
_READ_CHUNK = 100


@dataclass(slots=True)
class _Write:
    """One row whose record this run writes (update, associations), until it is settled."""

    item: PreparedInput
    hubspot_id: str
    digest: str
    record: str
    adopted: bool
    properties: dict[str, str]
    stored: str | None = None
    """The record the ledger held before this run (``None``: none to keep, e.g. adopted or full refresh)."""
    added: Sequence[AssociationChange] = ()
    """The associations to create (an empty tuple, shared, when none: a sync may hold many writes)."""
    removed: Sequence[AssociationChange] = ()
    error: RowError | None = None


@dataclass
class _Candidate:
    """A row unknown to the ledger, to be looked up by its unique value before it is created."""

    item: PreparedInput
    digest: str
    record: str


class SyncWrites:
    """The sync-mode writes of one load: diff, adoption, updates, association changes, archiving."""

    def __init__(
        self, spec: HubSpotLoadSpec, plan: LoadPlan, sync: LoadSync, result: LoadResult, full_refresh: bool
    ) -> None:
        self.spec, self.plan, self.sync, self.result = spec, plan, sync, result
        self.full_refresh = full_refresh
        self.writes: list[_Write] = []
        self.candidates: list[_Candidate] = []
        self._conflicts: list[tuple[PreparedInput, str]] = []
        self.targets = {(a.category, a.type_id): a.to_object_type for a in plan.associations}

    # ------------------------------------------------------------------ choosing what each row needs

    def take(self, item: PreparedInput, entry: LedgerEntry | None, prints: ChunkPrints) -> bool:
        """Decide what ``item`` needs; ``True``: create it (otherwise it is queued or already reported)."""
        if entry is not None and entry.status == ledger_mod.CREATED and entry.hubspot_id:
            self._diff(item, entry, prints)
            return False
        if self._unique_value(item) is not None:
            digest = prints.digest(item.position)
            self.candidates.append(_Candidate(item, digest, prints.record(item.position, item.associations)))
            return False
        if self.spec.write_mode == "update":
            self._no_match(item)
            return False
        return True

    def _diff(self, item: PreparedInput, entry: LedgerEntry, prints: ChunkPrints) -> None:
        hubspot_id = str(entry.hubspot_id)
        digest = prints.digest(item.position)
        if not self.full_refresh and entry.content_hash == digest:
            self.result.rows.append(_outcome(item, UNCHANGED, hubspot_id))
            return
        stored = None if self.full_refresh else entry.sent_fingerprint
        changed = prints.changed_properties(item.position, stored)
        names = list(self.plan.properties.values()) if changed is None else sorted(changed)
        properties = self._values(item, names)
        added, removed = prints.association_changes(item.position, item.associations, stored)
        record = prints.record(item.position, item.associations)
        write = _Write(item, hubspot_id, digest, record, adopted=False, properties=properties, stored=stored)
        write.added = self._changes(item.key, hubspot_id, added)
        if self.spec.write_mode == "mirror":
            changes = (self._change(item.key, hubspot_id, cat, tid, to) for cat, tid, to in removed)
            write.removed = [c for c in changes if c is not None] or ()
        self.writes.append(write)

    def _values(self, item: PreparedInput, names: Iterable[str]) -> dict[str, str]:
        """Return the row's values of ``names``: a null one as ``""`` (clears it) unless nulls are ignored."""
        clear = self.spec.null_values == "clear"
        values = {}
        for name in names:
            value = item.properties.get(name)
            if value is not None:
                values[name] = value
            elif clear:
                values[name] = ""
        return values

    def _unique_value(self, item: PreparedInput) -> str | None:
        prop = self.sync.unique_property
        if prop is None:
            return None
        value = str(item.properties.get(prop) or "").strip()
        return value or None

    def _change(
        self, key: str, from_id: str, category: str, type_id: int, to_id: str
    ) -> AssociationChange | None:
        to_type = self.targets.get((category, int(type_id)))
        if to_type is None:  # an association column no longer in the spec: not ours any more
            return None
        return AssociationChange(key, from_id, to_type, str(to_id), int(type_id), category)

    def _changes(
        self, key: str, from_id: str, links: Sequence[dict[str, Any]]
    ) -> Sequence[AssociationChange]:
        if not links:
            return ()
        changes = []
        for link in links:
            to_id = str((link.get("to") or {}).get("id"))
            for kind in link.get("types") or []:
                change = self._change(
                    key, from_id, str(kind.get("associationCategory")), int(kind["associationTypeId"]), to_id
                )
                if change is not None:
                    changes.append(change)
        return changes

    def _no_match(self, item: PreparedInput) -> None:
        self.result.rows.append(_outcome(item, NO_MATCH))

    # ------------------------------------------------------------------ adoption

    def adopt_candidates(self, client: HubSpotClient) -> list[PreparedInput]:
        """Look the queued rows up by their unique value; adopt those found; return the rest to create.

        In ``update`` mode the rest are reported ``skipped_no_match`` instead (nothing is returned).

        Raises:
            HubSpotAuthenticationError, HubSpotScopeError: the read was refused (the load stops).

        """
        candidates, self.candidates = self.candidates, []
        prop = self.sync.unique_property
        if not candidates or prop is None:
            return [c.item for c in candidates]
        found: dict[str, dict[str, Any]] = {}
        names = list(dict.fromkeys([prop, *self.plan.properties.values()]))
        for start in range(0, len(candidates), _READ_CHUNK):
            part = candidates[start : start + _READ_CHUNK]
            values = list(dict.fromkeys(self._unique_value(c.item) or "" for c in part))
            try:
                records = client.batch_read(self.plan.object_type, values, id_property=prop, properties=names)
            except (HubSpotAuthenticationError, HubSpotScopeError):
                raise
            except HubSpotError as exc:  # not known whether they exist: create them; a 409 adopts them
                self.result.warnings.append(
                    f"{len(part)} row(s) could not be looked up by {prop} before creating them ({exc}); "
                    "they were sent to batch create, which adopts any that exist (409)"
                )
                continue
            for obj in records:
                value = str((obj.get("properties") or {}).get(prop) or "").strip().casefold()
                if value and obj.get("id") is not None:
                    found[value] = obj
        to_create: list[PreparedInput] = []
        for candidate in candidates:
            match = found.get((self._unique_value(candidate.item) or "").casefold())
            if match is not None:
                self._adopt(candidate.item, match, candidate.digest, candidate.record)
            elif self.spec.write_mode == "update":
                self._no_match(candidate.item)
            else:
                to_create.append(candidate.item)
        return to_create

    def _adopt(self, item: PreparedInput, obj: dict[str, Any], digest: str, record: str) -> None:
        """Record ``obj``'s id for ``item`` now; queue an update of the properties whose values differ."""
        hubspot_id = str(obj["id"])
        held = obj.get("properties") or {}
        differ = [
            name
            for name in self.plan.properties.values()
            if not _same(held.get(name), item.properties.get(name))
        ]
        properties = self._values(item, differ)
        self.sync.ledger.settle(
            self.sync.portal,
            self.sync.object_type,
            [
                Settlement(
                    item.key, ledger_mod.CREATED, hubspot_id=hubspot_id, content_hash="", fingerprint=""
                )
            ],
            run_id=self.sync.run_id,
            partition=self.sync.partition,
        )
        write = _Write(item, hubspot_id, digest, record, adopted=True, properties=properties)
        write.added = self._changes(item.key, hubspot_id, item.associations)
        self.writes.append(write)

    def held_conflicts(self, rows: Sequence[RowOutcome], items: dict[str, PreparedInput]) -> list[RowOutcome]:
        """Take the rows HubSpot answered 409 "Existing ID" out of ``rows``, for adoption by that id."""
        kept, conflicts = [], []
        for row in rows:
            error = row.error
            existing = (
                parse_existing_id(error.message)
                if error is not None and error.category == "CONFLICT"
                else None
            )
            item = items.get(row.trace_id or "") if existing is not None else None
            if existing is None or item is None:
                kept.append(row)
            else:  # no longer the load's in-flight input: adopt_conflicts accounts for it
                conflicts.append((items.pop(row.trace_id or ""), existing))
        self._conflicts.extend(conflicts)
        return kept

    def adopt_conflicts(self, client: HubSpotClient, prints_of: dict[str, tuple[str, str]]) -> None:
        """Adopt the records named by 409 answers (read by id, compared, queued for update)."""
        conflicts, self._conflicts = self._conflicts, []
        names = list(self.plan.properties.values())
        for start in range(0, len(conflicts), _READ_CHUNK):
            part = conflicts[start : start + _READ_CHUNK]
            try:
                records = client.batch_read(self.plan.object_type, [i for _, i in part], properties=names)
            except (HubSpotAuthenticationError, HubSpotScopeError):
                raise
            except HubSpotError as exc:
                records = []
                self.result.warnings.append(f"could not read {len(part)} existing record(s) to adopt ({exc})")
            by_id = {str(r.get("id")): r for r in records}
            for item, existing in part:
                digest, record = prints_of.get(item.key, ("", ""))
                obj = by_id.get(existing)
                if obj is None:
                    message = (
                        f"HubSpot holds this row's unique value in record {existing}, which could not be read"
                    )
                    error = RowError(category="CONFLICT", message=message)
                    self.result.rows.append(_outcome(item, FAILED, error=error))
                else:
                    self._adopt(item, obj, digest, record)

    # ------------------------------------------------------------------ writing and settling

    def write(self, client: HubSpotClient, on_batch: ProgressCallback | None, batch_size: int | None) -> None:
        """Send the queued updates and association changes; settle every queued row (ledger and result)."""
        writes, self.writes = self.writes, []
        self._write_ahead(writes)
        by_trace = {w.item.trace_id: w for w in writes}
        updates = [
            UpdateInput(w.item.position, w.item.key, w.item.trace_id, w.hubspot_id, w.properties)
            for w in writes
            if w.properties
        ]
        if updates:
            for outcome in client.batch_update(self.plan.object_type, updates, batch_size=batch_size):
                self._record_batch(outcome, on_batch)
                for row in outcome.rows:
                    write = by_trace.get(row.trace_id or "")
                    if write is not None and row.status != UPDATED:
                        write.error = row.error or RowError(category=FAILED, message=row.status)
        self._associations(client, writes)
        self._settle(writes)

    def _write_ahead(self, writes: list[_Write]) -> None:
        """Before sending, record that these rows' records are being written (:func:`in_flight_record`).

        A run that ends without the answers (a crash, a lost answer) leaves each row with no digest and a
        record without the properties and associations being written, so the next run sends them again
        whatever the source holds then (HubSpot may have applied them: the source may have gone back).
        """
        settlements = [
            Settlement(
                w.item.key, ledger_mod.CREATED, hubspot_id=w.hubspot_id, content_hash="",
                fingerprint=in_flight_record(w.stored, w.properties, _texts(w.added), _texts(w.removed)),
            )
            for w in writes
            if w.properties or w.added or w.removed
        ]  # fmt: skip
        if settlements:
            self.sync.ledger.settle(
                self.sync.portal, self.sync.object_type, settlements, run_id=self.sync.run_id,
                partition=self.sync.partition,
            )  # fmt: skip

    def _record_batch(self, outcome: BatchOutcome, on_batch: ProgressCallback | None) -> None:
        outcome.record.index = len(self.result.batches)
        self.result.batches.append(outcome.record)
        if on_batch is not None:
            on_batch(outcome)

    def _associations(self, client: HubSpotClient, writes: list[_Write]) -> None:
        by_key = {w.item.key: w for w in writes}
        for changes_of, send in (
            (lambda w: w.added, create_associations),
            (lambda w: w.removed, remove_associations),
        ):
            changes = [c for w in writes if w.error is None for c in changes_of(w)]
            if not changes:
                continue
            done = send(client, self.plan.object_type, changes)
            for change, error in done.failed:
                write = by_key.get(change.key)
                if write is not None and write.error is None:
                    message = f"association to {change.to_object_type} {change.to_id}: {error.message}"
                    write.error = RowError(
                        category=error.category,
                        message=message,
                        code=error.code,
                        http_status=error.http_status,
                    )

    def _settle(self, writes: list[_Write]) -> None:
        settlements = []
        for w in writes:
            if w.error is None:
                status = (ADOPTED_UPDATED if w.properties else ADOPTED) if w.adopted else UPDATED
                if not w.adopted and not w.properties and not w.added and not w.removed:
                    status = UNCHANGED
                settlements.append(
                    Settlement(
                        w.item.key, ledger_mod.CREATED, hubspot_id=w.hubspot_id, content_hash=w.digest,
                        fingerprint=w.record,
                    )
                )  # fmt: skip
                self.result.rows.append(_outcome(w.item, status, w.hubspot_id))
                continue
            if w.error.category == OBJECT_NOT_FOUND:  # deleted in HubSpot: the next run creates it again
                note = f"{w.error.message} (the record is gone from HubSpot; the next sync creates it again)"
                w.error = RowError(category=OBJECT_NOT_FOUND, message=note, http_status=w.error.http_status)
                settlements.append(Settlement(w.item.key, ledger_mod.FAILED, error=note))
            else:  # the stored fingerprint stays as it was: the next run sends the changes again
                settlements.append(
                    Settlement(w.item.key, ledger_mod.CREATED, hubspot_id=w.hubspot_id, error=w.error.message)
                )
            self.result.rows.append(_outcome(w.item, FAILED, w.hubspot_id, error=w.error))
        if settlements:
            self.sync.ledger.settle(
                self.sync.portal, self.sync.object_type, settlements, run_id=self.sync.run_id,
                partition=self.sync.partition,
            )  # fmt: skip


def unchanged_if_same(
    item: PreparedInput, entry: LedgerEntry | None, prints: ChunkPrints | None
) -> RowOutcome | None:
    """Dry run of a sync mode: ``unchanged`` when the ledger's fingerprint of the row equals its own."""
    if entry is None or entry.status != ledger_mod.CREATED or not entry.hubspot_id or prints is None:
        return None
    if entry.content_hash != prints.digest(item.position):
        return None
    return _outcome(item, UNCHANGED, str(entry.hubspot_id))


def _texts(changes: Iterable[AssociationChange]) -> list[str]:
    return [association_text(c.category, c.type_id, c.to_id) for c in changes]


def _same(held: Any, sent: str | None) -> bool:
    """Whether HubSpot's value ``held`` equals the row's value (null and ``""`` are the same: unset)."""
    return str(held if held is not None else "").strip() == str(sent if sent is not None else "").strip()


def _outcome(
    item: PreparedInput, status: str, hubspot_id: str | None = None, *, error: RowError | None = None
) -> RowOutcome:
    return RowOutcome(
        key=item.key, position=item.position, status=status, hubspot_id=hubspot_id, error=error,
        trace_id=item.trace_id,
    )  # fmt: skip
