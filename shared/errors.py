"""The error tree. Entry points turn these into status codes; nothing else leaks out.

OmnirooError
├── ConfigError            a setting is missing or malformed (start-up stops)
├── BadRequest             the caller sent something we refuse (4xx, no retry)
│   ├── PayloadTooLarge    body above the cap (413)
│   └── SignatureError     Stripe-Signature missing, malformed, wrong or out of tolerance
├── NotFound               no such record, or not the caller's (404)
├── PermanentFailure       a remote refused one record for good: record an outcome, ack
└── TransientError         try again later (5xx to Stripe, redelivery from the queue)
    ├── StoreUnavailable
    │   └── StoreContention  a transaction lost to others on the same document, again and again
    ├── QueueUnavailable
    ├── KeyServiceError    the key service refused or failed: fail closed
    └── RemoteUnavailable  Stripe or HubSpot answered 429/5xx or timed out
"""


class OmnirooError(Exception):
    """Base of every error Omniroo raises on purpose."""


class ConfigError(OmnirooError):
    """A setting is missing or malformed; the message names it."""


class BadRequest(OmnirooError):
    status = 400


class PayloadTooLarge(BadRequest):
    status = 413


class SignatureError(BadRequest):
    """The one error a webhook verification raises, whatever went wrong."""


class NotFound(OmnirooError):
    status = 404


class PermanentFailure(OmnirooError):
    """A remote refused this record for good. ``code`` is safe to store (no customer data)."""

    def __init__(self, code: str, status: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class TransientError(OmnirooError):
    status = 503


class StoreUnavailable(TransientError):
    pass


class StoreContention(StoreUnavailable):
    """A transaction kept losing to others writing the same documents (the store is up)."""


class QueueUnavailable(TransientError):
    pass


class KeyServiceError(TransientError):
    pass


class RemoteUnavailable(TransientError):
    pass
