"""Carry out the plans of many keys at once: HubSpot batch calls per object type and association.

The collectors plan each key's records (``shared.mapping.ops``); a round's plans are merged: one
upsert per record however many keys name it, batch calls of 100 per object type (contacts first,
so deals can link to them), then one association read per 1,000 existing parents and one write
per 2,000 missing links, and batch archives for pruned line items. Plans with anything else
(flag a deleted customer, archive a price, skip with a reason) go through ``shared.sync.apply``
one key at a time, as they are rare.

A key the caller calls steady (its events cannot have changed a subscription's items, and no
earlier attempt stopped halfway) leaves an existing deal's line items, their pruning and the
deal's associations to contacts and line items alone: they were written with the deal. That is
what keeps an invoice or a charge event at one or two calls. A deal made now is written in full.

Each key gets its own result:

- a record HubSpot refuses fails alone: a refused batch is split in halves until the refused
  record stands by itself (a contact refused for its email is adopted, as ``apply`` does), and
  only the keys whose plans hold it fail, with its code;
- a transient failure (429s past their retries, 5xx, timeouts) stops the round at that stage:
  keys already complete keep their outcome, the others are reported transient so their keys
  wait a backoff; nothing is partially cleared.
"""

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.drain.parallel import each
from shared.errors import PermanentFailure, TransientError
from shared.hubspot.associations import ASSOCIATION_WRITE_LIMIT, BATCH_LIMIT
from shared.hubspot.calls import HubSpotRejected
from shared.hubspot.gateway import HubSpotGateway, Written
from shared.mapping.ops import Link, Op, Prune, Ref, Upsert, ref
from shared.sync.apply import ORDER, apply, upsert_one
from shared.sync.outcomes import Outcome

ASSOCIATIONS = "associations"
DEALS, LINE_ITEMS = "deals", "line_items"
Result = Outcome | str  # an outcome to record, or the code of a transient failure
_BATCHABLE = (Upsert, Link, Prune)


def _structure(op: Op) -> bool:
    """What a deal's subscription items shape: its line items, their pruning, its links."""
    if isinstance(op, Upsert):
        return op.object_type == LINE_ITEMS
    if isinstance(op, Prune):
        return op.parent.object_type == DEALS
    return isinstance(op, Link) and (
        op.source.object_type == DEALS and op.target.object_type in ("contacts", LINE_ITEMS)
    )


@dataclass
class _Round[K: Hashable]:
    plans: Mapping[K, Sequence[Op]]
    steady: set[K] = field(default_factory=set)
    trimmed: set[K] = field(default_factory=set)
    written: dict[Ref, Written] = field(default_factory=dict)
    refused: dict[Ref, str] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)

    def ops(self, key: K) -> list[Op]:
        plan = self.plans[key]
        return [op for op in plan if not _structure(op)] if key in self.trimmed else list(plan)

    def upserts(self) -> dict[Ref, Upsert]:
        return {ref(op): op for key in self.plans for op in self.ops(key) if isinstance(op, Upsert)}

    def trim(self) -> None:
        """Steady keys whose deals exist already leave their structure alone."""
        for key in self.steady:
            deals = [
                ref(o) for o in self.plans[key] if isinstance(o, Upsert) and o.object_type == DEALS
            ]
            if deals and all(r in self.written and not self.written[r].new for r in deals):
                self.trimmed.add(key)

    def stages(self, key: K) -> set[str]:
        ops = self.ops(key)
        needed = {op.object_type for op in ops if isinstance(op, Upsert)}
        if any(isinstance(op, Link | Prune) for op in ops):
            needed.add(ASSOCIATIONS)
        return needed

    def outcome(self, key: K) -> Outcome:
        refs = [ref(op) for op in self.ops(key) if isinstance(op, Upsert)]
        primary = self.written.get(refs[0]) if refs else None
        hubspot_id = primary.hubspot_id if primary else ""
        refusals = [self.refused[r] for r in refs if r in self.refused]
        if refusals:
            return Outcome("failed", hubspot_id=hubspot_id, error_code=refusals[0])
        if not refs:
            return Outcome("skipped", error_code="nothing_to_sync")
        return Outcome("synced", hubspot_id=hubspot_id)


class BatchWriter:
    def __init__(self, hubspot: HubSpotGateway, parallel: int = 4) -> None:
        self._hubspot = hubspot
        self._parallel = parallel

    def write[K: Hashable](
        self, plans: Mapping[K, Sequence[Op]], steady: Collection[K] = ()
    ) -> dict[K, Result]:
        """Write every plan; a result per key. ``HubSpotRejected`` 401 propagates (the caller
        refreshes the token and writes again: every write is an upsert)."""
        batched = {
            key: plan
            for key, plan in plans.items()
            if plan and all(isinstance(op, _BATCHABLE) for op in plan)
        }
        state = _Round(batched, {key for key in steady if key in batched})
        results: dict[K, Result] = {}
        try:
            self._batches(state)
        except TransientError as exc:
            failure = getattr(exc, "code", "") or str(exc) or type(exc).__name__
            for key in batched:
                results[key] = state.outcome(key) if state.stages(key) <= state.done else failure
        else:
            results.update({key: state.outcome(key) for key in batched})
        for key, plan in plans.items():
            if key in batched:
                continue
            try:
                results[key] = apply(list(plan), self._hubspot)
            except PermanentFailure as exc:
                if isinstance(exc, HubSpotRejected) and exc.status == 401:
                    raise
                results[key] = Outcome("failed", error_code=exc.code)
            except TransientError as exc:
                results[key] = str(exc) or type(exc).__name__
        return results

    # -- stages ----------------------------------------------------------------------------

    def _batches[K: Hashable](self, state: _Round[K]) -> None:
        groups = sorted(
            {(u.object_type, u.id_property) for u in state.upserts().values()},
            key=lambda g: (ORDER.index(g[0]) if g[0] in ORDER else len(ORDER), g[1]),
        )
        for index, (object_type, id_property) in enumerate(groups):
            if object_type == LINE_ITEMS and not state.trimmed:
                state.trim()
            ops = [
                u
                for u in state.upserts().values()
                if (u.object_type, u.id_property) == (object_type, id_property)
            ]
            if not ops:
                state.done.add(object_type)
                continue
            chunks = [ops[i : i + BATCH_LIMIT] for i in range(0, len(ops), BATCH_LIMIT)]
            for written, refused in each(self._upsert_chunk, chunks, self._parallel):
                state.written.update(written)
                state.refused.update(refused)
            if object_type not in {t for t, _ in groups[index + 1 :]}:
                state.done.add(object_type)
        self._associations(state)
        state.done.add(ASSOCIATIONS)

    def _upsert_chunk(self, chunk: Sequence[Upsert]) -> tuple[dict[Ref, Written], dict[Ref, str]]:
        """Upsert a chunk; a refused chunk is halved until each refusal is one record's."""
        written: dict[Ref, Written] = {}
        refused: dict[Ref, str] = {}
        try:
            for result in self._hubspot.upsert(chunk):
                written[Ref(chunk[0].object_type, chunk[0].id_property, result.stripe_id)] = result
        except HubSpotRejected as exc:
            if exc.status == 401:
                raise
            if exc.status == 400 and "PROPERTY_DOESNT_EXIST" in exc.detail:
                self._hubspot.ensure_schema([chunk[0].object_type])
            elif len(chunk) > 1:
                half = len(chunk) // 2
                for part in (chunk[:half], chunk[half:]):
                    more_written, more_refused = self._upsert_chunk(part)
                    written.update(more_written)
                    refused.update(more_refused)
                return written, refused
        # Inputs a batch did not write (refused alone, missing from a 207) go one by one.
        for op in chunk:
            if ref(op) in written:
                continue
            try:
                written[ref(op)] = upsert_one(op, self._hubspot)
            except PermanentFailure as exc:
                if isinstance(exc, HubSpotRejected) and exc.status == 401:
                    raise
                refused[ref(op)] = exc.code
        return written, refused

    def _associations[K: Hashable](self, state: _Round[K]) -> None:
        """Read what existing parents are associated with, archive pruned children, link."""
        if not state.trimmed:
            state.trim()  # a round without line items decides here
        links: list[Link] = []
        prunes: list[tuple[Prune, set[str]]] = []
        for key in state.plans:
            plan = state.ops(key)
            kept = {ref(op) for op in plan if isinstance(op, Upsert)}
            for op in plan:
                if isinstance(op, Link):
                    links.append(op)
                elif isinstance(op, Prune):
                    keep = {
                        state.written[r].hubspot_id
                        for r in kept
                        if r.object_type == op.child_type and r in state.written
                    }
                    prunes.append((op, keep))
        wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
        for link in links:
            wanted[(link.source.object_type, link.target.object_type)].add(link.source.id)
        for prune, _ in prunes:
            wanted[(prune.parent.object_type, prune.child_type)].add(prune.parent.id)
        current: dict[tuple[str, str, str], set[str]] = {}  # (from type, stripe id, to type)
        reads = []
        for (from_type, to_type), stripe_ids in sorted(wanted.items()):
            existing = {
                done.hubspot_id: r.id
                for r, done in state.written.items()
                if r.object_type == from_type
                and r.id in stripe_ids
                and not done.new  # a record made now has no associations yet
            }
            if existing:
                reads.append((from_type, to_type, existing))
        answers = each(
            lambda r: self._hubspot.associated(r[0], r[1], list(r[2])), reads, self._parallel
        )
        for (from_type, to_type, existing), found in zip(reads, answers, strict=True):
            for hubspot_id, targets in found.items():
                current[(from_type, existing[hubspot_id], to_type)] = targets
        stale: dict[str, set[str]] = defaultdict(set)
        for prune, keep in prunes:
            there = current.get(
                (prune.parent.object_type, prune.parent.id, prune.child_type), set()
            )
            if prune.parent in state.written:
                stale[prune.child_type] |= there - keep
        for child_type, ids in sorted(stale.items()):
            if ids:
                self._hubspot.archive(child_type, sorted(ids))
        pairs: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for link in links:
            source, target = state.written.get(link.source), state.written.get(link.target)
            if source is None or target is None:
                continue  # an end HubSpot refused: its key fails with that code
            linked = current.get((link.source.object_type, link.source.id, link.target.object_type))
            if linked is None or target.hubspot_id not in linked:
                pair = (link.source.object_type, link.target.object_type)
                pairs[pair].add((source.hubspot_id, target.hubspot_id))
        jobs = sorted((types, sorted(found)) for types, found in pairs.items())
        chunks = [
            (types, found[i : i + ASSOCIATION_WRITE_LIMIT])
            for types, found in jobs
            for i in range(0, len(found), ASSOCIATION_WRITE_LIMIT)
        ]
        each(
            lambda job: self._hubspot.associate(
                job[0][0], job[0][1], job[1], ASSOCIATION_WRITE_LIMIT
            ),
            chunks,
            self._parallel,
        )
