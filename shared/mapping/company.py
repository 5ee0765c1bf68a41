"""Stripe customer -> HubSpot company (setting ``company_matching``, off by default).

A company is found by the email's domain (free-mail domains never make one) or by
``metadata.company``; it is keyed by a unique ``omniroo_company_key`` so repeats never duplicate.
"""

from typing import Any

from shared.mapping.ops import Upsert
from shared.project_settings import ProjectSettings

FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "comcast.net",
        "verizon.net",
        "att.net",
        "btinternet.com",
    }
)


def email_domain(email: str | None) -> str:
    domain = (email or "").rpartition("@")[2].strip().lower()
    return "" if not domain or domain in FREE_MAIL else domain


def company_for(customer: dict[str, Any], settings: ProjectSettings) -> Upsert | None:
    mode = settings.company_matching
    name = str((customer.get("metadata") or {}).get("company") or "").strip()
    if mode in ("metadata", "domain_or_metadata") and name:
        return Upsert(
            "companies",
            "omniroo_company_key",
            f"name:{name.lower()}",
            {"omniroo_company_key": f"name:{name.lower()}", "name": name},
        )
    domain = email_domain(customer.get("email"))
    if mode in ("domain", "domain_or_metadata") and domain:
        return Upsert(
            "companies",
            "omniroo_company_key",
            f"domain:{domain}",
            {"omniroo_company_key": f"domain:{domain}", "domain": domain, "name": domain},
        )
    return None
