"""The drainer: a portal's dirty keys to HubSpot, under the portal's one budget.

``drain(project_id)`` takes the lease of the project's HubSpot portal (or returns at once when
someone else holds it: that holder drains what is due), then goes round after round until no key
of the portal's projects is due: take up to ``round_limit`` due keys, read Stripe for them in
pages (``reads``), plan each key with the collectors, write the plans in batches (``writer``),
then clear the keys HubSpot committed (a key marked again meanwhile stays dirty), put the ones
that failed for now back with a backoff, and record an outcome per settled key. The next round
is taken, read and planned while the last one writes (``_rounds``), from the pages the last one
read when every key of it may be served by them (a backfill's keys: ``Taken.read_after``). After
releasing the lease it looks once more: a key marked just before the release, whose wake-up found
the lease taken, is drained by the same call.

The Stripe account is always the project's own (``stripe_account`` of its document): never one a
message or a key names, so no message can make one tenant's Stripe data reach another's portal.
"""

import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared import logs, tokens
from shared.billing.mrr import BillingDataError
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.drain import reads
from shared.drain.budget import WINDOW_SECONDS, Budget
from shared.drain.dirty import DirtyKeys, Taken
from shared.drain.lease import LEASE_SECONDS, Lease, Leases, owner_id
from shared.drain.snapshot import Snapshot
from shared.drain.writer import BatchWriter, Result
from shared.errors import NotFound, PermanentFailure, TransientError
from shared.hubspot.calls import HubSpotRejected, Pacer
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Op
from shared.oauth import hubspot_tokens
from shared.oauth.hubspot_tokens import TokenRevoked
from shared.project_settings import ProjectSettings
from shared.repair import health
from shared.store.base import Doc, Store
from shared.stripe_gateway import StripeGateway
from shared.sync import outcomes
from shared.sync.collect import COLLECTORS, Source
from shared.sync.outcomes import Outcome

ROUND_LIMIT = 5000
# A backfill's rounds (keys only a walk of existing objects marked): they read on from the last
# round's pages, so a small round costs no more Stripe reads, and its writes start sooner — a
# round of 5,000 planned for 4 s before its first write, and HubSpot's first window went unused.
# Later rounds double, up to ROUND_LIMIT: a round writes its associations in calls of its own,
# so 30 rounds of 1,000 made 20 association calls where rounds that grow make 12.
HISTORY_ROUND = 1000
# Kinds whose events never change a subscription's items: their keys leave an existing deal's
# line items and associations alone (a subscription's key does too when its events say the
# items did not change).
ITEMS_UNTOUCHED = frozenset({"customer", "invoice", "charge", "refund"})
DAILY_WAIT = 3600.0  # HubSpot's daily limit resets at midnight in the portal's time zone
LAGGING = 900.0  # a round taking keys marked this long ago says so (an alert)
REUSE_SECONDS = 300.0  # how long a project's pages may serve later rounds (memory, not truth)
DAILY = "hubspot_daily_limit"
NOT_CONNECTED = "project_not_connected"
RECONNECT = "hubspot_reconnect_needed"


@dataclass
class DrainDeps:
    store: Store
    envelope: Envelope
    stripe: StripeGateway
    hubspot: Callable[[str, Pacer], HubSpotGateway]  # access token, pacer -> gateway
    clock: Clock
    refresher: tokens.Refresher | None = None  # HubSpot OAuth refresh; None: private apps only
    calls_per_window: int = 100  # a portal's budget per ten seconds (headers may lower it)
    window: float = WINDOW_SECONDS
    round_limit: int = ROUND_LIMIT
    history_round: int = HISTORY_ROUND
    time_limit: float | None = None  # seconds a drain call may start rounds for (a deadline)
    lease_seconds: float = LEASE_SECONDS  # how long a dead holder keeps its portal locked
    budgets: dict[str, Budget] = field(default_factory=dict)  # per portal, in this process
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def budget(self, portal: str) -> Budget:
        with self._lock:
            if portal not in self.budgets:
                self.budgets[portal] = Budget(self.calls_per_window, self.clock, self.window)
            return self.budgets[portal]


@dataclass
class Report:
    """What one ``drain`` call did (for tests, the bench and logs)."""

    rounds: int = 0
    settled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retried: int = 0
    busy: bool = False  # another drainer held the portal's lease
    unfinished: bool = False  # stopped at the time limit with keys still due


@dataclass
class _Pages:
    """A project's Stripe pages, kept for its next round."""

    snapshot: Snapshot
    account: str
    read_from: float  # when the first of them was asked for (this drainer's clock)


def _pages(
    kept: dict[str, _Pages], project_id: str, account: str, taken: list[Taken], deps: DrainDeps
) -> Snapshot:
    """The last round's pages when they may serve every key taken (each was marked for reads
    begun before them), else new ones. A round's keys share one snapshot: two keys writing the
    same contact must not read it as of two moments. And the pages kept only get newer, so no
    round writes a record from older pages than a round before it did."""
    now = deps.clock.now()
    last = kept.get(project_id)
    if (
        last is not None
        and last.account == account
        and now - last.read_from <= REUSE_SECONDS
        and all(t.read_after <= last.read_from for t in taken)
    ):
        return last.snapshot
    kept[project_id] = _Pages(reads.snapshot(deps.stripe, account), account, now)
    return kept[project_id].snapshot


class _Pacer:
    """The portal's budget, refusing to send once the lease is lost."""

    def __init__(self, budget: Budget, lease: Lease) -> None:
        self._budget, self._lease = budget, lease

    def before(self, kind: str = "crm") -> None:
        self._lease.check()
        self._budget.before(kind)

    def after(self, headers: Mapping[str, str] | None) -> None:
        self._budget.after(headers)

    def refused(self, seconds: float) -> None:
        self._budget.refused(seconds)


def portal_of(project_id: str, project: Doc) -> str:
    """The budget a project writes under: its HubSpot portal (one project alone if unknown)."""
    portal = str(project.get("hubspot_portal_id") or "")
    return f"portal:{portal}" if portal else f"project:{project_id}"


def projects_on(store: Store, portal: str, project_id: str) -> list[str]:
    if not portal.startswith("portal:"):
        return [project_id]
    found = [pid for pid, _ in store.find("projects", "hubspot_portal_id", portal[7:])]
    return sorted({project_id, *found})


def drain(project_id: str, deps: DrainDeps) -> Report:
    """Drain the dirty keys of every project on this project's portal, if nobody else is."""
    report = Report()
    project = deps.store.get("projects", project_id)
    if project is None:
        return report
    portal = portal_of(project_id, project)
    projects = projects_on(deps.store, portal, project_id)
    keys = DirtyKeys(deps.store, deps.clock)
    leases = Leases(deps.store, deps.clock, deps.lease_seconds)
    owner = owner_id()
    started = deps.clock.now()
    while True:
        lease = leases.acquire(portal, owner)
        if lease is None:
            report.busy = True
            return report
        budget = deps.budget(portal)
        budget.seed(lease.calls)
        pacer = _Pacer(budget, lease)
        clean = False
        try:
            with leases.renewing(lease, budget.recent):
                _rounds(projects, keys, pacer, lease, started, deps, report)
            clean = True
        finally:
            leases.release(lease, budget.recent(), clean)
        if report.unfinished or lease.lost.is_set() or not keys.take(projects, 1):
            return report


def _rounds(
    projects: list[str],
    keys: DirtyKeys,
    pacer: Pacer,
    lease: Lease,
    started: float,
    deps: DrainDeps,
    report: Report,
) -> None:
    """Round after round while keys are due. A round's two halves need different things —
    reading Stripe and planning need Stripe and the CPU, writing needs the portal's HubSpot
    budget — so the next round is taken, read and planned while the last one writes (one
    writer: rounds reach HubSpot in the order they read Stripe). Keys being written are not
    taken again until their round has settled them."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drain-writer") as writer:
        writing: Future[None] | None = None
        flying: set[str] = set()
        kept: dict[str, _Pages] = {}  # per project
        growing = deps.history_round  # the next round of history keys takes this many
        limit = deps.round_limit
        while not lease.lost.is_set():
            if deps.time_limit is not None and deps.clock.now() - started >= deps.time_limit:
                report.unfinished = True
                break
            taken = keys.take(projects, limit, besides=flying)
            history = bool(taken) and all(t.history for t in taken)
            if history:
                taken = taken[:growing]
                growing = limit = min(2 * growing, deps.round_limit)
            else:
                growing, limit = deps.history_round, deps.round_limit
            if not taken:
                if writing is None:
                    break
                writing.result()  # keys marked meanwhile may be due now: look again
                writing, flying = None, set()
                continue
            report.rounds += 1
            by_project: dict[str, list[Taken]] = defaultdict(list)
            for t in taken:
                by_project[t.key.project_id].append(t)
            prepared = [
                _prepare(pid, group, pacer, lease.recovering, kept, deps)
                for pid, group in sorted(by_project.items())
            ]
            if writing is not None:
                writing.result()
            flying = {t.key.doc_id for t in taken}
            writing = writer.submit(_finish, prepared, keys, deps, report)
        if writing is not None:
            writing.result()


def settled(taken: Taken, recovering: bool) -> bool:
    """Whether this key may leave an existing deal's line items and associations alone: its
    events cannot have changed them, and no earlier attempt may have stopped halfway."""
    if recovering or taken.attempts or taken.partial:
        return False
    if taken.key.kind in ITEMS_UNTOUCHED:
        return True
    return taken.key.kind == "subscription" and (
        taken.changed is not None and "items" not in taken.changed
    )


@dataclass
class _Prepared:
    """A round of one project, read and planned, waiting for its turn to write."""

    project_id: str
    taken: list[Taken]
    results: dict[Taken, Result] = field(default_factory=dict)  # settled before writing
    plans: dict[Taken, list[Op]] = field(default_factory=dict)
    steady: set[Taken] = field(default_factory=set)
    write: Callable[[dict[Taken, list[Op]], set[Taken]], dict[Taken, Result]] | None = None
    timings: dict[str, Any] = field(default_factory=dict)  # for the round's log line


def _prepare(
    project_id: str,
    taken: list[Taken],
    pacer: Pacer,
    recovering: bool,
    kept: dict[str, _Pages],
    deps: DrainDeps,
) -> _Prepared:
    oldest = min(t.marked_at for t in taken)
    if deps.clock.now() - oldest > LAGGING:
        logs.alert("drain lagging", project_id=project_id, seconds=round(deps.clock.now() - oldest))
    prepared = _Prepared(project_id, taken)
    project = deps.store.get("projects", project_id)
    if project is None or project.get("hubspot_status") != "connected":
        prepared.results = dict.fromkeys(taken, Outcome("skipped", error_code=NOT_CONNECTED))
        return prepared
    try:
        token = _token(deps, project_id)
    except NotFound:
        prepared.results = dict.fromkeys(taken, Outcome("skipped", error_code=NOT_CONNECTED))
    except TokenRevoked:
        hubspot_tokens.mark_reconnect(deps.store, project_id)
        prepared.results = dict.fromkeys(taken, Outcome("failed", error_code=RECONNECT))
    else:
        prepared.steady = {t for t in taken if settled(t, recovering)}
        _plan(prepared, project, kept, deps)
        prepared.write = functools.partial(_send, project_id, token, pacer, deps)
    return prepared


def _plan(prepared: _Prepared, project: Doc, kept: dict[str, _Pages], deps: DrainDeps) -> None:
    """Read Stripe for the round in pages and plan every key (or its failure)."""
    taken, results = prepared.taken, prepared.results
    account = str(project.get("stripe_account") or "")
    settings = ProjectSettings.from_doc(project.get("settings"))
    pages = _pages(kept, prepared.project_id, account, taken, deps)
    source = Source(pages, account, settings, deps.clock.now())
    began, reads_before, listed_before = deps.clock.now(), pages.reads, pages.listed
    try:
        reads.prime(pages, [t.key for t in taken], settings.syncs("payments"))
    except TransientError as exc:
        kept.pop(prepared.project_id, None)
        results.update({t: str(exc) for t in taken})
        return
    read = deps.clock.now()
    for t in taken:
        collect = COLLECTORS.get(t.key.kind)
        if collect is None:
            results[t] = Outcome("skipped", error_code=f"unsupported_object_{t.key.kind}")
            continue
        try:
            prepared.plans[t] = collect(source, t.key.object_id)
        except PermanentFailure as exc:
            results[t] = Outcome("failed", error_code=exc.code)
        except BillingDataError:
            # A Stripe object lacked what MRR needs: a bug of ours, never a guessed number.
            logs.alert(
                "billing data incomplete", project_id=prepared.project_id, stripe_id=t.key.object_id
            )
            results[t] = Outcome("failed", error_code="billing_data_incomplete")
        except TransientError as exc:
            # Stripe is failing: the rest of the round waits with this key.
            kept.pop(prepared.project_id, None)
            results.update({k: str(exc) for k in taken if k not in results})
            prepared.plans.clear()
            return
    prepared.timings = {
        "stripe_reads": pages.reads - reads_before,
        "stripe_listed": pages.listed - listed_before,
        "read_seconds": round(read - began, 3),
        "plan_seconds": round(deps.clock.now() - read, 3),
    }


def _send(
    project_id: str,
    token: str,
    pacer: Pacer,
    deps: DrainDeps,
    plans: dict[Taken, list[Op]],
    steady: set[Taken],
) -> dict[Taken, Result]:
    try:
        return BatchWriter(deps.hubspot(token, pacer)).write(plans, steady)
    except HubSpotRejected as exc:
        if exc.status != 401 or deps.refresher is None:
            raise
        # Expired mid-flight (row 23): one forced refresh, one more try; writes are upserts.
        token = _token(deps, project_id, rejected=token)
        return BatchWriter(deps.hubspot(token, pacer)).write(plans, steady)


def _finish(prepared: list[_Prepared], keys: DirtyKeys, deps: DrainDeps, report: Report) -> None:
    """Write each project's plans, then settle its keys (the writer thread)."""
    for round_ in prepared:
        results = dict(round_.results)
        if round_.write is not None and round_.plans:
            began = deps.clock.now()
            results.update(round_.write(round_.plans, round_.steady))
            # Where a round's time goes, for whoever tunes the drain (counts and seconds only).
            logs.info(
                "drain round",
                project_id=round_.project_id,
                keys=len(round_.taken),
                **round_.timings,
                write_seconds=round(deps.clock.now() - began, 3),
            )
        _settle(round_.taken, results, keys, deps, report)


def _settle(
    taken: list[Taken],
    results: Mapping[Taken, Result],
    keys: DirtyKeys,
    deps: DrainDeps,
    report: Report,
) -> None:
    """Clear what is settled (recording its outcome), put back what failed for now."""
    now = deps.clock.now()
    done = [t for t in taken if isinstance(results.get(t), Outcome)]
    cleared = keys.clear(done)
    settled = [(t, results[t]) for t in cleared]
    waiting: dict[str, list[Taken]] = defaultdict(list)
    for t in taken:
        result = results.get(t, "drain_round_incomplete")
        if isinstance(result, str):
            waiting[result].append(t)
    given_up: set[Taken] = set()
    for code, group in sorted(waiting.items()):
        report.retried += len(group)
        if code == DAILY:
            logs.alert("hubspot daily limit reached", project_id=group[0].key.project_id)
            keys.defer(group, DAILY_WAIT)
            continue
        for t in keys.fail(group, code):
            logs.alert("dirty key given up", project_id=t.key.project_id, error_code=code)
            settled.append((t, Outcome("failed", error_code=code)))
            given_up.add(t)
    recorded = [(t, o) for t, o in settled if isinstance(o, Outcome)]
    outcomes.record_keys(deps.store, recorded, now)
    health.count_settled(deps.store, recorded, given_up, now)  # sync health (issue 11)
    for t, outcome in settled:
        if not isinstance(outcome, Outcome):
            continue
        report.settled[outcome.status] += 1
        logs.info(
            "push done",
            project_id=t.key.project_id,
            kind=t.key.kind,
            stripe_id=t.key.object_id,
            event_id=t.events[-1] if t.events else "",
            events=t.event_count,
            status=outcome.status,
            error_code=outcome.error_code,
            hubspot_id=outcome.hubspot_id,
        )


def _token(deps: DrainDeps, project_id: str, rejected: str | None = None) -> str:
    if deps.refresher is None:
        return tokens.load(deps.store, deps.envelope, project_id).access_token
    return tokens.access_token(
        deps.store, deps.envelope, deps.clock, project_id, deps.refresher, rejected
    )
