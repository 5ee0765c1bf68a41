"""``python -m tooling.deploy.register --url https://HOST/stripe/webhook --project PROJECT``

Creates, or brings up to date, Omniroo's one Connect webhook endpoint in Stripe: it listens to
connected accounts (``connect=true``) for exactly the event types of ``shared.events`` (the
handler table, read at run time), rendered in Omniroo's one Stripe API version
(``shared.stripe_version``, given as ``api_version`` when the endpoint is created). The endpoint
is found again by its metadata tag or, failing that, by its URL, so running this twice never makes
a second one. Stripe shows an endpoint's signing secret once, in the answer to its creation: it is
stored at once as a new version of the Secret Manager secret, and if that fails the endpoint is
deleted again, so that a secret is never lost and the next run starts clean. The secret is never
printed; the version number is, to be pinned in ``secret_versions`` for the next deploy.

Settings: ``STRIPE_SECRET_KEY`` (the platform's key) from the environment or ``.env``;
``STRIPE_API_BASE`` and ``OMNIROO_SECRET_MANAGER_ENDPOINT`` point at local doubles in tests.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from shared.config import load_dotenv
from shared.errors import OmnirooError
from shared.events import subscribed
from shared.stripe_version import API_VERSION
from tooling.secrets import SecretError, SecretManager, build_client

TAG_KEY, TAG_VALUE = "omniroo", "connect"
DESCRIPTION = "Omniroo: events of connected accounts, synced to HubSpot"
DEFAULT_SECRET = "omniroo-stripe-webhook-secret"  # noqa: S105 (a secret's name)


class RegistrationError(OmnirooError):
    """The endpoint could not be registered as asked; the message says what to do."""


@dataclass(frozen=True)
class Result:
    action: str  # "created" | "updated"
    endpoint_id: str
    secret_version: str | None  # set when a new signing secret was stored
    warnings: tuple[str, ...] = ()


def event_types() -> list[str]:
    return subscribed()


def register(
    client: stripe.StripeClient, secrets: SecretManager, url: str, secret_id: str
) -> Result:
    endpoints: list[dict[str, Any]] = [
        e.to_dict() for e in client.v1.webhook_endpoints.list({"limit": 100}).auto_paging_iter()
    ]
    tagged = [e for e in endpoints if (e.get("metadata") or {}).get(TAG_KEY) == TAG_VALUE]
    same_url = [e for e in endpoints if e.get("url") == url]
    if len(tagged) > 1:
        raise RegistrationError(
            "several endpoints carry Omniroo's tag: "
            + ", ".join(e["id"] for e in tagged)
            + "; delete all but one in the Stripe dashboard, then run this again"
        )
    if not tagged and len(same_url) > 1:
        raise RegistrationError(
            f"several endpoints already post to {url}: "
            + ", ".join(e["id"] for e in same_url)
            + "; delete all but one in the Stripe dashboard, then run this again"
        )
    existing = tagged[0] if tagged else (same_url[0] if same_url else None)
    if existing is None:
        return _create(client, secrets, url, secret_id)
    # The event types are Stripe's literal names; the library types them as a Literal union.
    changes: Any = {
        "url": url,
        "enabled_events": event_types(),
        "metadata": {TAG_KEY: TAG_VALUE},
        "description": DESCRIPTION,
        "disabled": False,
    }
    client.v1.webhook_endpoints.update(existing["id"], changes)
    warnings = []
    if not tagged:
        warnings.append(
            f"adopted {existing['id']}, found by its URL: Stripe does not say whether it "
            "listens to connected accounts; if it was not created for Connect, delete it and "
            "run this again"
        )
    if not secrets.has_version(secret_id):
        warnings.append(
            f"{secrets.path(secret_id)} has no version, and Stripe shows {existing['id']}'s "
            "signing secret only in its dashboard: add it with `gcloud secrets versions add`"
        )
    return Result("updated", existing["id"], None, tuple(warnings))


def _create(
    client: stripe.StripeClient, secrets: SecretManager, url: str, secret_id: str
) -> Result:
    params: Any = {
        "url": url,
        "connect": True,
        "enabled_events": event_types(),
        "api_version": API_VERSION,
        "metadata": {TAG_KEY: TAG_VALUE},
        "description": DESCRIPTION,
    }
    created = client.v1.webhook_endpoints.create(params)
    try:
        version = secrets.add_version(secret_id, str(created.secret))
    except SecretError as exc:
        try:
            client.v1.webhook_endpoints.delete(created.id)
        except stripe.StripeError:
            raise RegistrationError(
                f"{exc}; and endpoint {created.id}, whose secret is now lost, could not be "
                "deleted: delete it in the Stripe dashboard, then run this again"
            ) from None
        raise RegistrationError(
            f"{exc}; the new endpoint was deleted again, run this again"
        ) from None
    return Result("created", created.id, version)


def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    base: Any = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        api_key, stripe_version=API_VERSION, base_addresses=base, max_network_retries=2
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.deploy.register",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="https://HOST/stripe/webhook")
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT"))
    parser.add_argument("--secret-id", default=DEFAULT_SECRET, help="the Secret Manager secret")
    args = parser.parse_args(argv)
    load_dotenv(Path(".env"), os.environ)  # type: ignore[arg-type]
    key = os.environ.get("STRIPE_SECRET_KEY", "")
    if not key.startswith(("sk_", "rk_")):
        parser.error("STRIPE_SECRET_KEY (the platform's sk_... key) must be set")
    if not args.project:
        parser.error("--project (or GOOGLE_CLOUD_PROJECT) is required")
    if not args.url.startswith("https://") and not os.environ.get("STRIPE_API_BASE"):
        parser.error("--url must be https://")
    client = build_client(os.environ.get("OMNIROO_SECRET_MANAGER_ENDPOINT"))
    try:
        result = register(
            _client(key, os.environ.get("STRIPE_API_BASE")),
            SecretManager(client, args.project),
            args.url,
            args.secret_id,
        )
    except (OmnirooError, stripe.StripeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{result.action} {result.endpoint_id}: {len(event_types())} event types, connect")
    if result.secret_version:
        print(
            f"signing secret stored as version {result.secret_version} of {args.secret_id}; pin "
            f'it: secret_versions = {{ STRIPE_WEBHOOK_SECRET = "{result.secret_version}" }}, '
            f"then make deploy (or make deploy SECRET_VERSIONS="
            f"STRIPE_WEBHOOK_SECRET={result.secret_version})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
