"""The operator's history-and-repair commands, registered into ``tooling.cli``.

    backfill PROJECT_ID [--kinds customers,subscriptions,invoices,products]
                        [--resume | --status | --cancel]
                                    import what existed before the project was connected:
                                    marks every object's key for the drainer, with a
                                    progress bar; Ctrl-C stops it resumable (--resume)
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
from shared.repair import backfill, health
from shared.stripe_gateway import StripeGateway
from tooling.progress import Bar

DONE, FAILED, REFUSED, UNAVAILABLE, STOPPED = 0, 1, 2, 3, 4
STEP_SECONDS = 5.0  # a foreground backfill commits and redraws at least this often


@dataclass(frozen=True)
class Exit:
    """A command's output with an exit code other than 0."""

    text: str
    code: int


Command = Callable[[argparse.Namespace], "str | Exit"]


def _kinds(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def _describe(p: backfill.Progress) -> str:
    counts = "  ".join(f"{kind}:{p.done[kind]}" for kind in p.kinds)
    estimate = f"{p.estimate}" if p.estimate_exact else f"~{p.estimate}"
    tail = f"  error:{p.error_code}" if p.error_code else ""
    return f"{p.run_id}\t{p.status}\t{p.marked}/{estimate}\t{counts}{tail}"


def _exit_of(p: backfill.Progress) -> "str | Exit":
    text = _describe(p)
    if p.status == "done":
        return text
    if p.status == "failed":
        return Exit(text, FAILED)
    return Exit(text, STOPPED)


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
    if not args.resume:
        backfill.start(store, clock, args.project, _kinds(args.kinds))
    stripe = StripeGateway(
        settings.stripe_secret_key, settings.stripe_api_base, settings.stripe_timeout
    )
    deps = backfill.BackfillDeps(store, stripe, clock)
    bar = Bar("backfill")
    progress = backfill.progress(store, args.project)
    try:
        while progress is not None and not progress.finished:
            before = progress.updated_at
            progress = backfill.step(deps, args.project, clock.now() + STEP_SECONDS)
            note = progress.current
            if progress.status == "running" and progress.updated_at == before:
                # Nothing moved: another process holds the backfill, or the drainer is behind.
                note = (
                    "waiting for the drainer"
                    if backfill.behind(store, clock, args.project)
                    else ("another process is stepping this backfill")
                )
                clock.sleep(1.0)
            bar.show(progress.marked, progress.estimate, note)
    except KeyboardInterrupt:
        bar.close()
        found = backfill.progress(store, args.project)
        text = _describe(found) if found else ""
        return Exit(f"{text}\ninterrupted: continue with --resume", STOPPED)
    bar.close()
    if progress is None:
        return Exit(f"no backfill of {args.project}", REFUSED)
    return _exit_of(progress)


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
    p.add_argument(
        "--kinds",
        default="customers,subscriptions,invoices,products",
        help="comma-separated: customers, subscriptions, invoices, products",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true", help="go on with the running backfill")
    what.add_argument("--status", action="store_true", help="print its progress and exit")
    what.add_argument("--cancel", action="store_true", help="stop it after the current page")
    p = sub.add_parser("health", help="a project's sync health per day")
    p.add_argument("project")
    p.add_argument("--days", type=int, default=7)
    return {"backfill": backfill_command, "health": health_command}
