"""Time in the Stripe double: what Stripe does on its own once a moment has passed.

Whenever the double is reached (or ``advance`` moves its clock) it replays, in time order and
stamped with the moment they were due, the steps Stripe would have taken meanwhile: trials ending,
periods renewing with a new invoice, failed payments retried, subscriptions canceled at their
``cancel_at``, incomplete subscriptions expiring after 23 hours. Events of these steps carry no
request, as Stripe's automatic events do.
"""

import copy
from collections.abc import Callable, Iterable
from typing import Any

from doubles.stripe.core import Account, Call, add_interval
from doubles.stripe.subscription_objects import period_of, set_period
from doubles.stripe.subscriptions import SubscriptionsApi

_TRIAL_NOTICE = 3 * 86_400  # customer.subscription.trial_will_end comes 3 days before the end
_INCOMPLETE_FOR = 23 * 3600  # an incomplete subscription expires after 23 hours
_MAX_STEPS = 10_000  # a guard: years of daily renewals fit well within it

Step = tuple[int, int, Callable[[Call], None]]  # (moment, order among equal moments, action)


class ClockApi(SubscriptionsApi):
    """Replays due steps; each step runs as if the clock read the moment it was due."""

    def catch_up(self, accounts: Iterable[Account]) -> None:
        now = int(self._clock())
        for account in accounts:
            call = Call(account, {}, (None, None))
            for _ in range(_MAX_STEPS):
                steps = self._due(account, now)
                if not steps:
                    break
                moment, _, action = min(steps, key=lambda step: step[:2])
                self._at = moment
                try:
                    action(call)
                finally:
                    self._at = None

    def _due(self, account: Account, now: int) -> list[Step]:
        steps: list[Step] = []
        for sub in account.objects["subscription"].values():
            steps += self._sub_steps(account, sub, now)
        for invoice in account.objects["invoice"].values():
            retry = invoice["next_payment_attempt"]
            if invoice["status"] == "open" and retry is not None and retry <= now:
                steps.append((retry, 3, self._retry_step(invoice)))
        return steps

    def _sub_steps(self, account: Account, sub: dict[str, Any], now: int) -> list[Step]:
        status, private = sub["status"], account.private[sub["id"]]
        steps: list[Step] = []
        if status in ("canceled", "incomplete_expired"):
            return steps
        if status == "incomplete":
            expires = sub["created"] + _INCOMPLETE_FOR
            if expires <= now:
                steps.append((expires, 2, lambda call: self._expire(call, sub)))
            return steps
        if status == "trialing" and not private.get("trial_notice"):
            notice = sub["trial_end"] - _TRIAL_NOTICE
            if sub["created"] < notice <= now:
                steps.append((notice, 0, lambda call: self._trial_notice(call, sub)))
        ends = sub["trial_end"] if status == "trialing" else period_of(sub)[1]
        if sub["cancel_at"] is not None and sub["cancel_at"] <= min(now, ends):
            at = sub["cancel_at"]
            steps.append((at, 1, lambda call: self._end(call, sub, "cancellation_requested", at)))
        elif ends <= now:
            steps.append((ends, 2, lambda call: self._renew(call, sub, None)))
        return steps

    def _retry_step(self, invoice: dict[str, Any]) -> Callable[[Call], None]:
        return lambda call: self._retry(call, invoice)

    def _trial_notice(self, call: Call, sub: dict[str, Any]) -> None:
        call.account.private[sub["id"]]["trial_notice"] = True
        self._emit(call, "customer.subscription.trial_will_end", sub)

    def _expire(self, call: Call, sub: dict[str, Any]) -> None:
        invoice = call.account.objects["invoice"].get(sub["latest_invoice"] or "")
        if invoice is not None and invoice["status"] == "open":
            self._void(call, invoice)
        before = copy.deepcopy(sub)
        sub.update({"status": "incomplete_expired", "ended_at": self._now()})
        self._changed(call, "customer.subscription.updated", before, sub)

    def _retry(self, call: Call, invoice: dict[str, Any]) -> None:
        if invoice["collection_method"] != "charge_automatically" or not invoice["auto_advance"]:
            invoice["next_payment_attempt"] = None
            return
        self._attempt(call, invoice)

    def _renew(
        self,
        call: Call,
        sub: dict[str, Any],
        before: dict[str, Any] | None,
        reason: str = "subscription_cycle",
    ) -> None:
        """Start the next period now (a trial ending starts the first paid one) and bill it."""
        before = before or copy.deepcopy(sub)
        private = call.account.private[sub["id"]]
        now = self._now()
        self._end_discounts(call, sub, now)
        recurring = sub["items"]["data"][0]["price"]["recurring"]
        interval, count = recurring["interval"], recurring["interval_count"]
        ending_trial = sub["status"] == "trialing"
        if ending_trial:
            sub.update({"status": "active", "billing_cycle_anchor": now})
            private["cycles"] = 0
        else:
            private["cycles"] = private.get("cycles", 0) + 1
        # Periods count from the anchor, so Jan 31 renews on Feb 28, then Mar 31.
        anchor, cycles = sub["billing_cycle_anchor"], private["cycles"]
        start = add_interval(anchor, interval, count * cycles) if cycles else anchor
        end = add_interval(anchor, interval, count * (cycles + 1))
        set_period(sub, start, end)
        previous = period_of(before)
        # The subscription's own change is one event after its invoice's, whatever the payment.
        private["quiet"] = True
        try:
            self._bill(call, sub, reason, previous, (start, end))
        finally:
            del private["quiet"]
        self._changed(call, "customer.subscription.updated", before, sub)

    def _end_discounts(self, call: Call, sub: dict[str, Any], now: int) -> None:
        """Drop a ``once`` discount already used, and a ``repeating`` one whose months are over,
        from the subscription and from each of its items."""

        def kept(discount_ids: list[str]) -> list[str]:
            left = []
            for discount_id in discount_ids:
                discount = call.account.objects["discount"][discount_id]
                duration = call.account.private[discount_id]["coupon"]["duration"]
                used = call.account.private[discount_id].get("used")
                over = (duration == "once" and used) or (
                    duration == "repeating"
                    and discount["end"] is not None
                    and discount["end"] <= now
                )
                if over:
                    self._emit(
                        call, "customer.discount.deleted", self._ended_discount(call, discount_id)
                    )
                else:
                    left.append(discount_id)
            return left

        sub["discounts"] = kept(sub["discounts"])
        for item in sub["items"]["data"]:
            item["discounts"] = kept(item["discounts"])
        customer = call.account.customers.get(sub["customer"])
        ending = customer["discount"] if customer is not None else None
        if customer is not None and ending is not None and not kept([ending["id"]]):
            customer["discount"] = None
