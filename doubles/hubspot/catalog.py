"""The properties every portal starts with, per object type, and the options of HubSpot's own
enumeration properties (lifecycle stages, currencies, billing frequencies).

Only the properties the double's callers touch are listed; HubSpot has hundreds more.
"""

from typing import Any

_TEXT = ("string", "text")
_TEXTAREA = ("string", "textarea")
_NUMBER = ("number", "number")
_DATETIME = ("datetime", "date")
_SELECT = ("enumeration", "select")
_RADIO = ("enumeration", "radio")

# property name, label, (type, fieldType)
Default = tuple[str, str, tuple[str, str]]

# object type -> (default group name, group label, its properties)
DEFAULTS: dict[str, tuple[str, str, tuple[Default, ...]]] = {
    "contacts": (
        "contactinformation",
        "Contact information",
        (
            ("email", "Email", _TEXT),
            ("firstname", "First Name", _TEXT),
            ("lastname", "Last Name", _TEXT),
            ("phone", "Phone Number", ("string", "phonenumber")),
            ("address", "Street Address", _TEXT),
            ("city", "City", _TEXT),
            ("state", "State/Region", _TEXT),
            ("zip", "Postal Code", _TEXT),
            ("country", "Country/Region", _TEXT),
            ("company", "Company Name", _TEXT),
            ("lifecyclestage", "Lifecycle Stage", _RADIO),
        ),
    ),
    "companies": (
        "companyinformation",
        "Company information",
        (
            ("name", "Company name", _TEXT),
            ("domain", "Company Domain Name", _TEXT),
        ),
    ),
    "deals": (
        "dealinformation",
        "Deal information",
        (
            ("dealname", "Deal Name", _TEXT),
            ("amount", "Amount", _NUMBER),
            # Their options are the portal's pipelines and stages, checked against the
            # Pipelines API rather than listed here (see ``rules``).
            ("pipeline", "Pipeline", _SELECT),
            ("dealstage", "Deal Stage", _RADIO),
            ("closedate", "Close Date", _DATETIME),
            ("deal_currency_code", "Currency", _SELECT),
        ),
    ),
    "line_items": (
        "lineiteminformation",
        "Line item information",
        (
            ("name", "Name", _TEXT),
            ("price", "Unit price", _NUMBER),
            ("quantity", "Quantity", _NUMBER),
            ("amount", "Net price", _NUMBER),
            ("hs_product_id", "Product ID", _NUMBER),
            ("recurringbillingfrequency", "Billing frequency", _SELECT),
            ("hs_recurring_billing_period", "Term", _TEXT),
            ("hs_sku", "SKU", _TEXT),
            ("description", "Description", _TEXTAREA),
        ),
    ),
    "products": (
        "productinformation",
        "Product information",
        (
            ("name", "Name", _TEXT),
            ("price", "Unit price", _NUMBER),
            ("description", "Description", _TEXTAREA),
            ("hs_sku", "SKU", _TEXT),
            ("recurringbillingfrequency", "Billing frequency", _SELECT),
            ("hs_recurring_billing_period", "Term", _TEXT),
        ),
    ),
}

# Properties HubSpot computes itself: a line item's amount is its price times its quantity.
CALCULATED = {("line_items", "amount")}

_LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
_FREQUENCIES = (
    ("weekly", "Weekly"),
    ("biweekly", "Biweekly"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("per_six_months", "Every six months"),
    ("annually", "Annually"),
    ("per_two_years", "Every two years"),
    ("per_three_years", "Every three years"),
    ("per_four_years", "Every four years"),
    ("per_five_years", "Every five years"),
)
# ISO 4217 codes in circulation: a deal's currency must be one of them (HubSpot narrows this to
# the portal's enabled currencies; the double allows them all).
CURRENCIES = tuple(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWL
    """.split()  # noqa: SIM905 - laid out as a table of codes, one word each
)

# (object type, property) -> its options as (value, label)
OPTIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("contacts", "lifecyclestage"): tuple((v, v.title()) for v in _LIFECYCLE),
    ("deals", "deal_currency_code"): tuple((c, c) for c in CURRENCIES),
    ("line_items", "recurringbillingfrequency"): _FREQUENCIES,
    ("products", "recurringbillingfrequency"): _FREQUENCIES,
}


def options(object_type: str, name: str) -> list[dict[str, Any]]:
    choices = OPTIONS.get((object_type, name), ())
    return [{"label": label, "value": value} for value, label in choices]
