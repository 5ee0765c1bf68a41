"""A subscription's life, step by step: trial -> active -> upgrade -> a discount on the customer
-> a renewal that fails -> paid -> a credit note -> a dispute, lost -> canceled. ``make demo``
shows the deal and the contact after each step; the leak scan replays it with sentinel values
(plan name, amounts, email) that must never be kept. Stripe answers in the API version Omniroo
pins, so the renewal invoice names its subscription under ``parent`` and refreshes the one deal.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DAY = 24 * 3600
PLAN = "Zephyr Sentinel Plan"
UNIT_AMOUNT = 77713  # 777.13 USD a month: an amount no id or timestamp contains by chance
EMAIL = "margaret.hamilton@apollo.example"
NAME = "Margaret Hamilton"


@dataclass
class Snapshot:
    step: str
    deal_stage: str
    deal_amount: str
    mrr: str
    lifetime_value: str
    status: str
    delinquent: str
    last_payment: str = ""


Deliver = Callable[[dict[str, Any]], None]


def sentinels() -> list[str]:
    return [PLAN, EMAIL, NAME, "777.13", "2331.39", "2098.25", "2875.38", "2775.38", "1998.25"]


def run(
    stripe: Any, account: str, deliver: Deliver, look: Callable[[str], Snapshot]
) -> list[Snapshot]:
    seen: set[str] = {e["id"] for e in stripe.events(account)}
    shots: list[Snapshot] = []

    def step(name: str) -> None:
        for event in stripe.events(account):
            if event["id"] not in seen:
                seen.add(event["id"])
                deliver(event)
        shots.append(look(name))

    customer = stripe.create_customer(account, email=EMAIL, name=NAME)["id"]
    product = stripe.create_product(account, PLAN)["id"]
    price = stripe.create_price(account, product, UNIT_AMOUNT, "usd", "month")["id"]
    sub = stripe.create_subscription(
        account, customer, [{"price": price, "quantity": 1}], trial_end=stripe.now() + 7 * DAY
    )
    step("trial starts")
    stripe.advance(8 * DAY)
    step("trial ends, first invoice paid")
    [first_charge] = [c["id"] for c in stripe.objects(account, "charge") if c["amount"]]
    item = sub["items"]["data"][0]["id"]
    stripe.update_subscription(account, sub["id"], items=[{"id": item, "quantity": 3}])
    step("upgrade to 3 seats")
    coupon = stripe.create_coupon(account, percent_off=10, duration="forever")["id"]
    stripe.add_customer_discount(account, customer, coupon)
    step("10% off for the customer")
    stripe.fail_next_payment(account, customer)
    stripe.advance(31 * DAY)
    step("renewal payment fails")
    [renewal] = [i for i in stripe.objects(account, "invoice") if i["status"] == "open"]
    stripe.pay_invoice(account, renewal["id"])
    step("customer pays")
    stripe.create_credit_note(account, renewal["id"], amount=10_000, refund_amount=10_000)
    step("credit note refunds 100.00")
    dispute = stripe.dispute_charge(account, first_charge)
    step("first payment disputed")
    stripe.settle_dispute(account, dispute["id"], "lost")
    step("dispute lost")
    stripe.cancel_subscription(account, sub["id"])
    step("subscription canceled")
    return shots


def snapshot(hubspot: Any, portal: int, step: str) -> Snapshot:
    [deal] = [d for d in hubspot.records(portal, "deals") if not d["archived"]]
    [contact] = [c for c in hubspot.records(portal, "contacts") if not c["archived"]]
    d, c = deal["properties"], contact["properties"]
    return Snapshot(
        step,
        d.get("dealstage", ""),
        d.get("amount", ""),
        c.get("stripe_mrr", ""),
        c.get("stripe_lifetime_value", ""),
        c.get("stripe_subscription_status", ""),
        c.get("stripe_delinquent", ""),
        c.get("stripe_last_payment_status", ""),
    )
