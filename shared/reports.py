"""Security reports from the contact form (the security page's "responsible disclosure"), and
``/.well-known/security.txt`` (RFC 9116) that points at it.

A report is kept in ``reports`` for the operator for ``RETENTION_SECONDS`` (180 days) and raises
an alert log line that names the report id only: the message and the reporter's address stay out
of the logs. The operator reads reports in the Firestore console (or the local SQLite file).
"""

import re
import secrets
from datetime import UTC, datetime

from shared import logs
from shared.clock import Clock
from shared.errors import BadRequest
from shared.store.base import EXPIRE_AT, Store

COLLECTION = "reports"
RETENTION_SECONDS = 180 * 86400
SECURITY_TXT_SECONDS = 180 * 86400
MAX_MESSAGE = 10_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
THANKS = "Thank you. Your report reached the team; we answer every report by email."


def receive(store: Store, clock: Clock, name: str, email: str, message: str) -> str:
    """Store a report; its id. Raises BadRequest naming the field that is wrong."""
    name = " ".join((name or "").split())
    email = (email or "").strip()
    message = (message or "").strip()
    if len(name) > 100:
        raise BadRequest("name: at most 100 characters")
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise BadRequest("email: not a valid address")
    if not message:
        raise BadRequest("message: empty")
    if len(message) > MAX_MESSAGE:
        raise BadRequest(f"message: at most {MAX_MESSAGE} characters")
    now = clock.now()
    report_id = f"rep_{secrets.token_hex(10)}"
    store.put(
        COLLECTION,
        report_id,
        {
            "name": name,
            "email": email,
            "message": message,
            "received_at": now,
            EXPIRE_AT: now + RETENTION_SECONDS,
        },
    )
    logs.alert("security report received", report_id=report_id)
    return report_id


def security_txt(public_url: str, now: float) -> str:
    expires = datetime.fromtimestamp(now + SECURITY_TXT_SECONDS, UTC)
    base = public_url.rstrip("/")
    return (
        f"Contact: {base}/contact\n"
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        "Preferred-Languages: en\n"
        f"Policy: {base}/security\n"
        f"Canonical: {base}/.well-known/security.txt\n"
    )
