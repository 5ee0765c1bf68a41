"""What each failure code means to a person, and what to do about it: a table, so a new code is
one line. A code not in the table (HubSpot's own categories, ``hubspot_<status>``, Stripe's error
codes) gets the generic line of its family, then the catch-all. Codes only: the explanations
never quote a record."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    meaning: str
    action: str
    replayable: bool = True  # replaying can help once the action is done


EXPLANATIONS: dict[str, Explanation] = {
    "email_in_use": Explanation(
        "Another Stripe customer already has this email, and its HubSpot contact owns it.",
        "Give one of the two Stripe customers a different email (or merge them in Stripe), "
        "then replay.",
    ),
    "hubspot_validation_error": Explanation(
        "HubSpot refused a value Omniroo sent (a property it does not accept, or a value out of "
        "range).",
        "Check the metadata mappings and pipeline rules in Settings, then replay.",
    ),
    "hubspot_conflict": Explanation(
        "HubSpot found another record with the same unique value.",
        "Look for duplicate records in HubSpot and merge them, then replay.",
    ),
    "hubspot_object_not_found": Explanation(
        "A HubSpot record Omniroo wrote earlier was deleted in HubSpot.",
        "Replay: Omniroo writes the record again.",
    ),
    "hubspot_missing_scopes": Explanation(
        "The HubSpot connection lacks a permission Omniroo needs.",
        "Reconnect HubSpot from the project page and accept every permission, then replay.",
    ),
    "hubspot_reconnect_needed": Explanation(
        "HubSpot no longer accepts Omniroo's access.",
        "Reconnect HubSpot from the project page, then replay.",
    ),
    "hubspot_daily_limit": Explanation(
        "The HubSpot portal used up its API calls for the day.",
        "Nothing: Omniroo goes on when HubSpot's daily limit resets. Replay what is left then.",
    ),
    "hubspot_unreachable": Explanation(
        "HubSpot could not be reached, however often Omniroo retried.",
        "Replay once HubSpot's status page shows it is up.",
    ),
    "billing_data_incomplete": Explanation(
        "Stripe did not return everything this record needs (a price or a customer was missing).",
        "Replay: Omniroo reads Stripe again.",
    ),
    "stripe_account_access": Explanation(
        "Stripe refused Omniroo access to the connected account.",
        "Reconnect Stripe from the project page, then replay.",
    ),
    "stripe_unreachable": Explanation(
        "Stripe could not be reached, however often Omniroo retried.",
        "Replay once Stripe's status page shows it is up.",
    ),
    "dead_lettered": Explanation(
        "The event could not be delivered to the sync after every retry.",
        "Replay: Omniroo reads the object from Stripe again and syncs it.",
    ),
    "drain_round_incomplete": Explanation(
        "The sync was interrupted again and again before it could write this record.",
        "Replay. If it keeps failing, contact support with the event id.",
    ),
}
# By prefix, the first that matches: families of codes made from a remote's own words.
FAMILIES: tuple[tuple[str, Explanation], ...] = (
    (
        "stripe_too_many_",
        Explanation(
            "The record has more related objects in Stripe than Omniroo reads for one record.",
            "Contact support with the Stripe id.",
            replayable=False,
        ),
    ),
    (
        "unsupported_object_",
        Explanation(
            "Omniroo does not sync this kind of Stripe object.",
            "Nothing to do.",
            replayable=False,
        ),
    ),
    (
        "hubspot_oauth_",
        Explanation(
            "HubSpot refused to renew Omniroo's access.",
            "Reconnect HubSpot from the project page, then replay.",
        ),
    ),
    (
        "hubspot_",
        Explanation(
            "HubSpot refused to write the record.",
            "Replay. If it fails again with the same code, contact support with the event id.",
        ),
    ),
    (
        "stripe_",
        Explanation(
            "Stripe refused to give Omniroo the record.",
            "Replay. If it fails again with the same code, contact support with the event id.",
        ),
    ),
)
GENERIC = Explanation(
    "The record could not be synced.",
    "Replay. If it fails again with the same code, contact support with the event id.",
)


def explain(code: str) -> Explanation:
    if code in EXPLANATIONS:
        return EXPLANATIONS[code]
    for prefix, family in FAMILIES:
        if code.startswith(prefix):
            return family
    return GENERIC
