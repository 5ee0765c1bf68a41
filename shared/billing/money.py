"""Stripe amounts (integer minor units) as HubSpot numbers (currency units, plain decimal strings).

Stripe counts every amount in the currency's smallest unit, and the size of that unit is not always
a hundredth: zero-decimal currencies (JPY) count whole units, three-decimal ones (KWD) thousandths.
"""

from decimal import Decimal
from fractions import Fraction

# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# https://docs.stripe.com/currencies#three-decimal (Stripe only accepts amounts ending in 0)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def minor_digits(currency: str) -> int:
    """How many decimal places the currency's minor unit has: 0, 2 or 3."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero (Decimal's ROUND_HALF_UP), computed exactly."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def to_units(amount_minor: int | Fraction, currency: str) -> Decimal:
    """Minor units -> currency units, to the currency's minor unit (``4999, "usd"`` -> ``49.99``).

    A fractional amount (prices may have ``unit_amount_decimal`` sub-cent amounts) is rounded to
    the minor unit with ROUND_HALF_UP.
    """
    whole = amount_minor if isinstance(amount_minor, int) else round_half_up(amount_minor)
    return Decimal(whole).scaleb(-minor_digits(currency))


def hubspot_number(value: Decimal) -> str:
    """A HubSpot number property: plain decimal, no exponent, no negative zero ("49.99", "5000")."""
    if value == 0:
        value = abs(value)
    return format(value, "f")


def hubspot_amount(amount_minor: int | Fraction, currency: str) -> str:
    return hubspot_number(to_units(amount_minor, currency))


def hubspot_currency(currency: str) -> str:
    """Stripe writes ``usd``; HubSpot's currency properties want the ISO code ``USD``."""
    return currency.upper()
