"""The operator's history-and-repair commands, registered into ``tooling.cli``.

    backfill PROJECT_ID [--kinds customers,subscriptions,invoices,products]
                        [--resume | --status | --cancel] [--detach]
                                    import what existed before the project was connected:
                                    marks every object's key for the drainer, with a
                                    progress bar; Ctrl-C stops it resumable (--resume);
                                    --detach (gcp) leaves it to the repair function
    preview  PROJECT_ID [--kinds ...] [--start]
                                    what a backfill would do in HubSpot (contacts created,
                                    adopted by email, in conflict; deals, line items,
                                    products), writing nothing; --start then runs the
                                    backfill with the preview's counts as its estimate
    reconcile [PROJECT_ID ...]      the scheduled job, now: marks the objects of events Stripe
                                    reports undelivered (3 days) and of records that drifted
                                    (per the project's reconcile_drift setting); every
                                    connected project when none is named
    replay   PROJECT_ID [--id ID | --code CODE | --all]
                                    failed and dead-lettered events and keys, put back on
                                    the write path; without an option, lists them by code
    health   PROJECT_ID [--days N]  per day: events received, synced, skipped, failed,
                                    dead-lettered, replayed, and the backfill/reconcile runs

Exit codes (scripts may rely on them; ``tooling.cli`` documents the same table):

    0  done
    1  the work ran and ended failed (a backfill that Stripe refused, failures replayed again)
    2  refused: bad arguments, unknown project, a backfill already running
    3  infrastructure unavailable (store, Stripe, HubSpot): nothing lost, run it again
    4  stopped before the end (cancelled, interrupted): resumable
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from shared.clock import SystemClock
from shared.repair import backfill, health, preview, reconcile, replay
from shared.repair.deps import RepairDeps
from shared.repair.progress import Progress
from shared.store.base import Store
from shared.stripe_gateway import StripeGateway
from tooling.progress import Bar

DONE, FAILED, REFUSED, UNAVAILABLE, STOPPED = 0, 1, 2, 3, 4
STEP_SECONDS = 5.0  # a foreground backfill commits and redraws at least this often
ALL_KINDS = "customers,subscriptions,invoices,products"


@dataclass(frozen=True)
class Exit:
    """A command's output with an exit code other than 0."""

    text: str
    code: int


Command = Callable[[argparse.Namespace], "str | Exit"]


def _kinds(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def _describe(p: Progress) -> str:
    counts = "  ".join(f"{kind}:{p.done[kind]}" for kind in p.kinds)
    estimate = f"{p.estimate}" if p.estimate_exact else f"~{p.estimate}"
    tail = f"  error:{p.error_code}" if p.error_code else ""
    return f"{p.run_id}\t{p.status}\t{p.marked}/{estimate}\t{counts}{tail}"


def _exit_of(p: Progress) -> "str | Exit":
    text = _describe(p)
    if p.status == "done":
        return text
    if p.status == "failed":
        return Exit(text, FAILED)
    return Exit(text, STOPPED)


def _repair_deps() -> RepairDeps:
    from shared import wiring
    from tooling.cli import _deps

    settings, _, _ = _deps()
    return wiring.repair_deps(settings)


def preview_command(args: argparse.Namespace) -> "str | Exit":
    deps = _repair_deps()
    bar = Bar("preview")
    found = preview.run(
        deps, args.project, _kinds(args.kinds), on_page=lambda n: bar.show(n, 0, "objects read")
    )
    bar.close()
    lines = ["kind\tobjects", *(f"{kind}\t{n}" for kind, n in found.objects.items())]
    outcomes = ("created", "updated", "adopted", "conflicts")
    lines.append("record\t" + "\t".join(outcomes))
    for object_type, counts in found.records.items():
        lines.append(object_type + "\t" + "\t".join(str(counts.get(o, 0)) for o in outcomes))
    lines += [f"skipped\t{reason}\t{n}" for reason, n in sorted(found.skipped.items())]
    lines += [f"failed\t{code}\t{n}" for code, n in sorted(found.failed.items())]
    lines.append(
        f"calls\tstripe {found.stripe_calls}\thubspot {found.hubspot_calls}"
        f"\tsearch {found.search_calls}"
    )
    text = "\n".join(lines)
    if not args.start:
        return text
    backfill.start(deps.store, deps.clock, args.project, found.kinds, estimate=found.objects)
    print(text)
    return _run_backfill(deps.store, deps.stripe, args.project)


def backfill_command(args: argparse.Namespace) -> "str | Exit":
    from tooling.cli import _deps

    settings, store, _ = _deps()
    clock = SystemClock()
    if args.status or args.cancel:
        found = (
            backfill.cancel(store, clock, args.project)
            if args.cancel
            else backfill.progress(store, args.project)
        )
        if found is None:
            return Exit(f"no backfill of {args.project}", REFUSED)
        return _describe(found)
    if args.detach and settings.local:
        return Exit("--detach hands the backfill to the repair function: gcp mode only", REFUSED)
    if not args.resume:
        backfill.start(store, clock, args.project, _kinds(args.kinds))
    if args.detach:
        from shared import wiring
        from shared.repair.jobs import Job, publish

        publish(wiring.job_deps(settings, 0).jobs, Job("backfill", args.project))
        found = backfill.progress(store, args.project)
        return _describe(found) if found else ""
    stripe = StripeGateway(
        settings.stripe_secret_key, settings.stripe_api_base, settings.stripe_timeout
    )
    return _run_backfill(store, stripe, args.project)


def _run_backfill(store: Store, stripe: StripeGateway, project_id: str) -> "str | Exit":
    """Step the project's running backfill in the foreground until it ends, with a bar."""
    clock = SystemClock()
    deps = backfill.BackfillDeps(store, stripe, clock)
    bar = Bar("backfill")
    progress = backfill.progress(store, project_id)
    try:
        while progress is not None and not progress.finished:
            before = progress.updated_at
            progress = backfill.step(deps, project_id, clock.now() + STEP_SECONDS)
            note = progress.current
            if progress.status == "running" and progress.updated_at == before:
                # Nothing moved: another process holds the backfill, or the drainer is behind.
                note = (
                    "waiting for the drainer"
                    if backfill.behind(store, clock, project_id)
                    else ("another process is stepping this backfill")
                )
                clock.sleep(1.0)
            bar.show(progress.marked, progress.estimate, note)
    except KeyboardInterrupt:
        bar.close()
        found = backfill.progress(store, project_id)
        text = _describe(found) if found else ""
        return Exit(f"{text}\ninterrupted: continue with --resume", STOPPED)
    bar.close()
    if progress is None:
        return Exit(f"no backfill of {project_id}", REFUSED)
    return _exit_of(progress)


def reconcile_command(args: argparse.Namespace) -> "str | Exit":
    from shared.errors import PermanentFailure, TransientError

    deps = _repair_deps()
    chosen = args.projects or reconcile.projects(deps.store)
    bar = Bar("reconcile")
    lines, code = [], DONE
    for done, project_id in enumerate(chosen):
        bar.show(done, len(chosen), project_id)
        try:
            report = reconcile.run(deps, project_id)
        except TransientError as exc:
            lines.append(f"{project_id}\tunavailable\t{exc}")
            code = max(code, UNAVAILABLE)
            continue
        except PermanentFailure as exc:
            lines.append(f"{project_id}\tfailed\t{exc.code}")
            code = max(code, FAILED)
            continue
        counts = " ".join(f"{k}:{v}" for k, v in report.counts.items())
        lines.append(f"{project_id}\t{report.run_id}\t{counts}")
    bar.show(len(chosen), len(chosen), "", force=True)
    bar.close()
    return Exit("\n".join(lines), code) if code else "\n".join(lines)


def replay_command(args: argparse.Namespace) -> "str | Exit":
    deps = _repair_deps()
    if not (args.id or args.code or args.all):
        codes = replay.by_code(deps.store, args.project)
        lines = [f"{code}\t{n}" for code, n in codes.items()]
        for f in replay.failures(deps.store, args.project, limit=args.limit):
            lines.append(f"{f.id}\t{f.event_type}\t{f.stripe_id}\t{f.error_code}")
        return "\n".join(lines) or "no failures"
    if args.id:
        done = replay.replay_one(deps, args.project, args.id)
    elif args.code:
        done = replay.replay_code(deps, args.project, args.code)
    else:
        done = replay.replay_all(deps, args.project)
    lines = [f"replayed\t{done.replayed}", f"keys\t{len(done.marked)}"]
    lines += [f"unresolved\t{reason}\t{n}" for reason, n in sorted(done.unresolved.items())]
    if done.more:
        lines.append(f"more\tstopped after {replay.REPLAY_CAP} failures: run it again to go on")
    return Exit("\n".join(lines), FAILED) if done.unresolved else "\n".join(lines)


def health_command(args: argparse.Namespace) -> str:
    from tooling.cli import _deps

    _, store, _ = _deps()
    now = SystemClock().now()
    rows = health.days(store, args.project, now - (args.days - 1) * health.DAY_SECONDS, now)
    lines = ["day\t" + "\t".join(health.COUNTERS)]
    for day in rows:
        lines.append(day.day + "\t" + "\t".join(str(day.counts[n]) for n in health.COUNTERS))
        for run in day.runs:
            counts = " ".join(f"{k}:{v}" for k, v in sorted(run.counts.items()))
            lines.append(f"  {run.kind} {run.run_id} {run.status} {counts}".rstrip())
    return "\n".join(lines)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> dict[str, Command]:
    p = sub.add_parser("backfill", help="import a project's existing Stripe objects")
    p.add_argument("project")
    p.add_argument("--kinds", default=ALL_KINDS, help="comma-separated: " + ALL_KINDS)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true", help="go on with the running backfill")
    what.add_argument("--status", action="store_true", help="print its progress and exit")
    what.add_argument("--cancel", action="store_true", help="stop it after the current page")
    p.add_argument(
        "--detach",
        action="store_true",
        help="gcp mode: leave the stepping to the repair function (follow with --status)",
    )
    p = sub.add_parser("preview", help="what a backfill would do in HubSpot, writing nothing")
    p.add_argument("project")
    p.add_argument("--kinds", default=ALL_KINDS, help="comma-separated: " + ALL_KINDS)
    p.add_argument("--start", action="store_true", help="then run the backfill")
    p = sub.add_parser("reconcile", help="repair undelivered events and drift, now")
    p.add_argument("projects", nargs="*", help="default: every connected project")
    p = sub.add_parser("replay", help="list or replay failed and dead-lettered work")
    p.add_argument("project")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--id", help="one failure, by the id the listing shows")
    which.add_argument("--code", help="every failure with this error code")
    which.add_argument("--all", action="store_true", help="every failure")
    p.add_argument("--limit", type=int, default=20, help="failures listed (default 20)")
    p = sub.add_parser("health", help="a project's sync health per day")
    p.add_argument("project")
    p.add_argument("--days", type=int, default=7)
    return {
        "backfill": backfill_command,
        "preview": preview_command,
        "reconcile": reconcile_command,
        "replay": replay_command,
        "health": health_command,
    }
