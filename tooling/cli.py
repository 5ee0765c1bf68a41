"""``python -m tooling.cli``: the operator's command line.

    create-account  --email E                      prints the account id
    create-project  --stripe-account acct_... --hubspot-token T [--live] [--email E | --account ID]
                                                   prints the project id
    projects        [--account ID]                 lists projects (ids and status only)
    outcomes        PROJECT_ID [--limit N]         latest sync outcomes (ids and codes only)
    settings        PROJECT_ID [--set FILE] [--force]
                                                   shows a project's settings; --set replaces
                                                   them from a JSON file after validating them
                                                   and checking pipeline rules against HubSpot
    incident        --since ISO --until ISO        accounts whose audit trail shows activity in
                                                   the window, with the email to notify
    purge                                          delete what has expired and closed accounts
                                                   past their 29 days (the scheduled job, now)
    backfill, preview, reconcile, replay, health   history and repair (tooling.repair_cli)

Exit codes: 0 done; 1 the work ran and ended failed; 2 refused (bad arguments, unknown project,
busy); 3 infrastructure unavailable, nothing lost: run it again; 4 stopped before the end
(cancelled, interrupted): resumable.

Settings come from the environment and ``.env`` like the functions' (OMNIROO_ENV=gcp writes to
Firestore with Cloud KMS). Until the OAuth flows arrive, ``create-project`` is how a Stripe
account and a HubSpot private-app token are paired.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shared import projects, wiring
from shared.clock import SystemClock
from shared.config import Settings
from shared.crypto.envelope import Envelope
from shared.errors import OmnirooError, TransientError
from shared.store.base import Store
from shared.sync import outcomes
from tooling import ready, repair_cli
from tooling.local import env

MAX_LIMIT = 1000  # outcomes one `outcomes` command reads at most


def _deps() -> tuple[Settings, Store, Envelope]:
    env.prepare()
    settings = Settings.from_env()
    store = wiring.build_store(settings)
    return settings, store, Envelope(wiring.build_key_service(settings))


def create_account(args: argparse.Namespace) -> str:
    _, store, _ = _deps()
    return projects.create_account(store, args.email, SystemClock().now())


def create_project(args: argparse.Namespace) -> str:
    settings, store, envelope = _deps()
    now = SystemClock().now()
    account_id = args.account
    if not account_id:
        found = store.find("accounts", "email", (args.email or "").strip().lower())
        account_id = found[0][0] if found else projects.create_account(store, args.email, now)
    new = projects.NewProject(
        account_id, args.stripe_account, args.live, args.hubspot_token, args.portal_id or ""
    )
    hubspot_base = settings.hubspot_api_base
    return ready.pair(
        store, envelope, SystemClock(), new, hubspot_base, not args.skip_hubspot_setup
    )


def list_projects(args: argparse.Namespace) -> str:
    _, store, _ = _deps()
    rows = (
        store.find("projects", "account_id", args.account)
        if args.account
        else list(store.scan("projects"))
    )
    return "\n".join(
        f"{pid}\t{doc['stripe_account']}\t{'live' if doc['livemode'] else 'test'}"
        f"\tstripe:{doc['stripe_status']}\thubspot:{doc['hubspot_status']}"
        for pid, doc in rows
    )


def list_outcomes(args: argparse.Namespace) -> str:
    _, store, _ = _deps()
    rows = [doc for _, doc in outcomes.latest(store, args.project, args.limit)]
    return "\n".join(
        f"{r['event_id']}\t{r['type']}\t{r['stripe_id']}\t{r['hubspot_id']}\t{r['status']}"
        f"\t{r['error_code']}"
        for r in rows
    )


def project_settings(args: argparse.Namespace) -> str:
    """Show the settings, or replace them after the console's own check (``settings_check``)
    against the portal; ``--force`` saves despite what only the portal's check found."""
    import json

    from shared import tokens
    from shared.errors import BadRequest, NotFound
    from shared.hubspot.gateway import HubSpotGateway
    from shared.project_settings import ProjectSettings
    from shared.settings_check import check, load_json

    settings, store, envelope = _deps()
    project = store.get("projects", args.project)
    if project is None:
        raise NotFound(f"no project {args.project}")
    if args.set is None:
        return json.dumps(ProjectSettings.from_doc(project.get("settings")).to_doc(), indent=2)
    try:
        doc = load_json(Path(args.set).read_text())
    except BadRequest as exc:
        raise BadRequest(f"{args.set}: {exc}") from None
    token = tokens.load(store, envelope, args.project).access_token
    portal = HubSpotGateway(token, SystemClock(), settings.hubspot_api_base).portal()
    checked = check(doc, portal)
    invalid = [str(p) for p in checked.problems if not p.against_portal]
    if checked.settings is None or invalid:
        raise BadRequest("settings not saved: " + "; ".join(invalid))
    warnings = [str(p) for p in checked.problems]
    if warnings and not args.force:
        raise BadRequest("settings not saved: " + "; ".join(warnings))
    store.put("projects", args.project, {**project, "settings": checked.settings.to_doc()})
    return "\n".join(["settings saved", *(f"warning: {w}" for w in warnings)])


def _limit(text: str) -> int:
    """How many outcomes to read: a bounded query, never a project's all."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_LIMIT}: {text}")
    return int(text)


def _instant(text: str) -> float:
    """An ISO 8601 time with its offset (2026-11-01T00:00:00Z), as seconds since the epoch."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the offset (Z or +hh:mm): {text}")
    return moment.timestamp()


def incident(args: argparse.Namespace) -> str:
    from shared import audit
    from shared.errors import BadRequest

    _, store, _ = _deps()
    if args.until <= args.since:
        raise BadRequest("--until must come after --since")
    rows = audit.activity_between(store, args.since, args.until)
    return "\n".join(f"{account_id}\t{email or '(account deleted)'}" for account_id, email in rows)


def purge_now(args: argparse.Namespace) -> str:
    from shared import purge

    _, store, _ = _deps()
    deleted = purge.run(store, SystemClock())
    return "\n".join(f"{name}\t{count}" for name, count in sorted(deleted.items())) or "nothing"


def _parser() -> tuple[argparse.ArgumentParser, dict[str, repair_cli.Command]]:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create-account", help="create an Omniroo account")
    p.add_argument("--email", required=True)
    p = sub.add_parser("create-project", help="pair a Stripe account with a HubSpot portal")
    p.add_argument("--stripe-account", required=True, help="the connected account, acct_...")
    p.add_argument("--hubspot-token", required=True, help="a HubSpot private-app access token")
    p.add_argument("--live", action="store_true", help="live mode (default: test mode)")
    p.add_argument("--email", help="owner's email; the account is created if new")
    p.add_argument("--account", help="an existing account id instead of --email")
    p.add_argument("--portal-id", help="the HubSpot portal id, for display")
    p.add_argument(
        "--skip-hubspot-setup",
        action="store_true",
        help="do not create Omniroo's properties in HubSpot now",
    )
    p = sub.add_parser("projects", help="list projects")
    p.add_argument("--account")
    p = sub.add_parser("outcomes", help="latest sync outcomes of a project")
    p.add_argument("project")
    p.add_argument("--limit", type=_limit, default=20, help=f"1 to {MAX_LIMIT} (default 20)")
    p = sub.add_parser("settings", help="show or replace a project's settings")
    p.add_argument("project")
    p.add_argument("--set", help="a JSON file with the new settings")
    p.add_argument(
        "--force",
        action="store_true",
        help="save even if a pipeline rule names something the portal lacks",
    )
    p = sub.add_parser("incident", help="accounts active in a time window, with their email")
    p.add_argument("--since", required=True, type=_instant, help="e.g. 2026-11-01T00:00:00Z")
    p.add_argument("--until", required=True, type=_instant, help="exclusive end, ISO 8601")
    sub.add_parser("purge", help="delete expired records and closed accounts past 29 days")
    commands: dict[str, repair_cli.Command] = {
        **repair_cli.register(sub),
        "incident": incident,
        "purge": purge_now,
        "settings": project_settings,
        "create-account": create_account,
        "create-project": create_project,
        "projects": list_projects,
        "outcomes": list_outcomes,
    }
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    if args.command == "create-project" and not (args.email or args.account):
        parser.error("create-project needs --email or --account")
    try:
        result = commands[args.command](args)
    except TransientError as exc:
        print(f"error: {exc} (nothing lost: run it again)", file=sys.stderr)
        return repair_cli.UNAVAILABLE
    except OmnirooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return repair_cli.REFUSED
    if isinstance(result, repair_cli.Exit):
        if result.text:
            print(result.text)
        return result.code
    print(result)
    return repair_cli.DONE


if __name__ == "__main__":
    sys.exit(main())
