"""Stripe Connect OAuth for the Stripe double: the authorize page, code exchange, deauthorize.

Served by the same server under ``/connect`` (``STRIPE_CONNECT_BASE={base}/connect``), as
``connect.stripe.com`` serves ``/oauth/...``. Authorizing creates the connected account (a
Standard account with its own namespace in the double) and a single-use code; ``/oauth/token``
trades it for the answer Stripe gives; ``/oauth/deauthorize`` disconnects the account and records
``account.application.deauthorized`` on it, as Stripe sends to the platform's Connect webhook.
"""

import html
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from doubles.stripe.wire import random_id

PREFIX = "/connect/oauth/"


@dataclass
class _Code:
    client_id: str
    account: str
    livemode: bool


@dataclass
class ConnectOAuth:
    """State of Connect OAuth: codes, and which platform client id each account authorized."""

    add_account: Callable[[str | None, bool], str]
    emit: Callable[[str, str, dict[str, Any]], None]  # account, type, object
    codes: dict[str, _Code] = field(default_factory=dict)
    connected: dict[str, str] = field(default_factory=dict)  # account -> client id

    def authorize(self, args: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
        """The consent page: redirect back at once, or show an Authorize form (``interactive``).
        A ``stripe_user_id`` argument (a double extension) reconnects an existing account."""
        client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
        if not client_id.startswith("ca_") or not redirect_uri:
            return 400, "<p>Invalid client_id or redirect_uri.</p>", {}
        if args.get("interactive") == "1" and args.get("confirm") != "1":
            query = urlencode({**args, "confirm": "1"})
            page = (
                "<!doctype html><title>Connect with Stripe (double)</title>"
                f"<form method=get action='{PREFIX}authorize?{html.escape(query)}'>"
                + "".join(
                    f"<input type=hidden name='{html.escape(k)}' value='{html.escape(v)}'>"
                    for k, v in {**args, "confirm": "1"}.items()
                )
                + "<button type=submit>Authorize</button></form>"
            )
            return 200, page, {"Content-Type": "text/html; charset=utf-8"}
        if args.get("deny") == "1":
            back = {"error": "access_denied", "error_description": "The user denied your request"}
            return _redirect(redirect_uri, {**back, "state": args.get("state", "")})
        livemode = args.get("livemode") == "1"
        account = self.add_account(args.get("stripe_user_id") or None, livemode)
        code = f"ac_{secrets.token_hex(16)}"
        self.codes[code] = _Code(client_id, account, livemode)
        return _redirect(redirect_uri, {"code": code, "state": args.get("state", "")})

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "authorization_code":
            return _refused("unsupported_grant_type", "Only authorization_code is supported here")
        found = self.codes.pop(form.get("code", ""), None)
        if found is None:
            code = form.get("code", "")
            return _refused("invalid_grant", f"Authorization code does not exist: {code}")
        self.connected[found.account] = found.client_id
        mode = "live" if found.livemode else "test"
        return 200, {
            "access_token": f"sk_{mode}_{secrets.token_hex(12)}",
            "livemode": found.livemode,
            "refresh_token": f"rt_{secrets.token_hex(12)}",
            "scope": "read_only",
            "stripe_publishable_key": f"pk_{mode}_{secrets.token_hex(12)}",
            "stripe_user_id": found.account,
            "token_type": "bearer",
        }

    def deauthorize(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        account, client_id = form.get("stripe_user_id", ""), form.get("client_id", "")
        if self.connected.get(account) != client_id:
            message = f"No such connected account for this application: {account}"
            return _refused("invalid_client", message)
        self.deauthorized(account)
        return 200, {"stripe_user_id": account}

    def deauthorized(self, account: str) -> None:
        """The account disconnected the application (from either side)."""
        client_id = self.connected.pop(account, "")
        application = {"id": client_id or random_id("ca_", 16), "object": "application"}
        self.emit(account, "account.application.deauthorized", application)


def _redirect(uri: str, params: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
    joiner = "&" if "?" in uri else "?"
    return 302, "", {"Location": f"{uri}{joiner}{urlencode(params)}"}


def _refused(error: str, description: str) -> tuple[int, dict[str, Any]]:
    status = 401 if error == "invalid_client" else 400
    return status, {"error": error, "error_description": description}
