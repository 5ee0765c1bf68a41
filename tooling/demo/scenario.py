"""The scripted series of Stripe changes that ``make demo`` shows and the leak scans replay.

Create, update with an email change, a customer without email, a duplicate delivery, an
out-of-order pair and a delete, each made in the Stripe double and delivered as Stripe would.
The values are sentinels: the scans look for every one of them where they must never be.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PEOPLE: dict[str, dict[str, Any]] = {
    "ada": {
        "email": "ada.lovelace@analytical.example",
        "name": "Ada Lovelace",
        "phone": "+44 20 7946 0018",
        "address": {
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
    },
    "charles": {"name": "Charles Babbage", "phone": "+44 20 7946 0099"},
    "grace": {"email": "grace.hopper@cobol.example", "name": "Grace Hopper"},
    "alan": {"email": "alan.turing@bombe.example", "name": "Alan Turing"},
}
NEW_ADA_EMAIL = "countess.lovelace@analytical.example"
GRACE_RENAMED = "Grace Brewster Hopper"


def sentinels() -> list[str]:
    """Every customer value the scenario sends (emails, names, phones, address parts)."""
    values: list[str] = [NEW_ADA_EMAIL, GRACE_RENAMED]
    for person in PEOPLE.values():
        for key, value in person.items():
            if key == "address":
                values += [v for v in value.values() if len(v) > 3]
            else:
                values.append(value)
    return values


@dataclass
class Step:
    what: str
    event_type: str
    outcome: str


Deliver = Callable[[dict[str, Any]], str]  # event -> the webhook's outcome


def run(stripe: Any, account: str, deliver: Deliver) -> list[Step]:
    steps: list[Step] = []

    def latest() -> dict[str, Any]:
        event: dict[str, Any] = stripe.events(account)[-1]
        return event

    def send(what: str, event: dict[str, Any]) -> None:
        steps.append(Step(what, event["type"], deliver(event)))

    ada = stripe.create_customer(account, **PEOPLE["ada"])
    created_ada = latest()
    send("create Ada", created_ada)
    stripe.update_customer(account, ada["id"], email=NEW_ADA_EMAIL)
    send("Ada changes her email", latest())
    stripe.create_customer(account, **PEOPLE["charles"])
    send("create Charles, who has no email", latest())
    send("Stripe delivers Ada's creation again", created_ada)
    grace = stripe.create_customer(account, **PEOPLE["grace"])
    created_grace = latest()
    stripe.update_customer(account, grace["id"], name=GRACE_RENAMED)
    send("Grace's update arrives first", latest())
    send("then Grace's older creation", created_grace)
    alan = stripe.create_customer(account, **PEOPLE["alan"])
    send("create Alan", latest())
    stripe.delete_customer(account, alan["id"])
    send("delete Alan", latest())
    return steps


# What HubSpot must hold afterwards: email (or None) -> (firstname, lastname, status)
EXPECTED = {
    NEW_ADA_EMAIL: ("Ada", "Lovelace", "none"),
    None: ("Charles", "Babbage", "none"),
    "grace.hopper@cobol.example": ("Grace", "Brewster Hopper", "none"),
    "alan.turing@bombe.example": ("Alan", "Turing", "deleted"),
}


def summary(contacts: list[dict[str, Any]]) -> dict[str | None, tuple[str, str, str]]:
    out: dict[str | None, tuple[str, str, str]] = {}
    for contact in contacts:
        p = contact["properties"]
        out[p.get("email") or None] = (
            p.get("firstname") or "",
            p.get("lastname") or "",
            p.get("stripe_subscription_status") or "",
        )
    return out
