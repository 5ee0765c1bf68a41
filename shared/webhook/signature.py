"""Stripe-Signature: make and check it on the raw bytes of a request.

Stripe signs ``f"{t}.{body}"`` with HMAC-SHA256 under the endpoint secret and sends
``t=<unix time>,v1=<hex>[,v1=<hex>...]``. We accept a signature made with any of our current
secrets (rotation), compare in constant time, and refuse timestamps too old *or* too far ahead
(stripe-python checks only the past). Every failure is one exception type with a short reason.
"""

import hashlib
import hmac
from collections.abc import Sequence

from shared.errors import SignatureError

TOLERANCE_SECONDS = 300


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send; public so tests and the demo make real signatures."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureError("timestamp is not an integer") from exc
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("no timestamp (t=) in Stripe-Signature")
    if not signatures:
        raise SignatureError("no v1 signature in Stripe-Signature")
    return timestamp, signatures


def verify(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Return the signed timestamp, or raise ``SignatureError``."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp, signatures = _parse(header)
    expected = [_digest(payload, secret, timestamp) for secret in secrets]
    # Compare every pair so the time taken does not depend on which secret matched.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise SignatureError("no signature matches the payload")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance zone")
    return timestamp
