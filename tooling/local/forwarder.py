"""Polls a Stripe API for new events of some accounts and delivers them, signed, to a webhook URL.

The sandbox's stand-in for ``stripe listen --forward-to``: it makes the local Stripe double behave
like Stripe, delivering each event once, in order, with a real ``Stripe-Signature``, and telling
the double what the webhook answered (``on_result``) so that List Events' ``delivery_success``
filter sees what Stripe's would.
"""

import json
import threading
import time
from collections.abc import Callable

import requests
import stripe

from shared.stripe_version import API_VERSION
from shared.webhook.signature import sign


class Forwarder:
    def __init__(
        self,
        api_key: str,
        api_base: str,
        target_url: str,
        secret: str,
        accounts: Callable[[], list[str]],
        interval: float = 0.3,
        on_result: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key, stripe_version=API_VERSION, base_addresses={"api": api_base}
        )
        self._target, self._secret, self._accounts = target_url, secret, accounts
        self._interval = interval
        self._on_result = on_result  # (account, event id, status of the webhook's answer)
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self.delivered: list[tuple[str, int]] = []  # (event id, status)

    def start(self) -> None:
        threading.Thread(target=self._run, name="stripe-forwarder", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def poll_once(self) -> int:
        sent = 0
        for account in self._accounts():
            page = self._client.v1.events.list({"limit": 100}, {"stripe_account": account})
            for event in reversed(page.data):  # the API lists newest first
                if event.id in self._seen:
                    continue
                # for_json: a price's unit_amount_decimal goes out as the string Stripe sends,
                # not a Decimal that json cannot encode (it killed this thread).
                body = json.dumps(event.to_dict(for_json=True)).encode()
                status = self.deliver(body)
                if self._on_result is not None:
                    self._on_result(account, event.id, status)
                # A 5xx means "retry later", as it would to Stripe: keep it unseen.
                if status < 500:
                    self._seen.add(event.id)
                    sent += 1
        return sent

    def deliver(self, body: bytes) -> int:
        header = sign(body, self._secret, int(time.time()))
        response = requests.post(
            self._target,
            data=body,
            timeout=10,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        self.delivered.append((json.loads(body)["id"], response.status_code))
        return response.status_code

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except (stripe.StripeError, requests.RequestException):
                continue  # the next poll tries again, as Stripe would retry
