"""Local settings: ``.env`` first, then the sandbox defaults when no Stripe key is configured.

Sandbox mode points Omniroo at the local Stripe and HubSpot doubles, with a webhook secret that is
deliberately public: it only ever guards 127.0.0.1.
"""

import os
from pathlib import Path

from shared.config import load_dotenv

# OMNIROO_PORT moves the whole bundle (several checkouts on one machine); the doubles follow it.
PORT = int(os.environ.get("OMNIROO_PORT") or 8080)
SANDBOX_STRIPE_PORT = PORT + 4031
SANDBOX_HUBSPOT_PORT = PORT + 4032
SANDBOX = {
    "OMNIROO_ENV": "local",
    "STRIPE_SECRET_KEY": "sk_test_sandbox",
    "STRIPE_WEBHOOK_SECRET": "whsec_sandbox_public_local_only",
    "STRIPE_API_BASE": f"http://127.0.0.1:{SANDBOX_STRIPE_PORT}",
    "HUBSPOT_API_BASE": f"http://127.0.0.1:{SANDBOX_HUBSPOT_PORT}",
    "OMNIROO_DATA_DIR": ".omniroo/sandbox",
    # The browser must come back to the host it signed in on, or its session cookie is lost.
    "OMNIROO_PUBLIC_URL": f"http://127.0.0.1:{PORT}",
    # OAuth against the doubles: the Stripe double serves Connect OAuth under /connect, the
    # HubSpot double its install page at /oauth/authorize.
    "STRIPE_CLIENT_ID": "ca_sandbox",
    "STRIPE_CONNECT_BASE": f"http://127.0.0.1:{SANDBOX_STRIPE_PORT}/connect",
    "HUBSPOT_CLIENT_ID": "sandbox-hubspot-client",
    "HUBSPOT_CLIENT_SECRET": "sandbox-hubspot-secret-public-local-only",
    "HUBSPOT_AUTH_BASE": f"http://127.0.0.1:{SANDBOX_HUBSPOT_PORT}",
}


def prepare(root: Path = Path()) -> bool:
    """Fill ``os.environ`` for a local run; True when that run is the sandbox."""
    load_dotenv(root / ".env", os.environ)  # type: ignore[arg-type]
    if os.environ.get("STRIPE_SECRET_KEY") or os.environ.get("STRIPE_SECRET_KEY_FILE"):
        return False
    os.environ.update(SANDBOX)
    return True
