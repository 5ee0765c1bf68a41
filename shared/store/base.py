"""The Store port: a tiny document store, the least both Firestore and SQLite do well.

Documents are flat JSON-able dicts addressed by (collection, id). Only configuration, encrypted
tokens, ids and outcomes go in: never a field of a Stripe object other than ids and types.
Every adapter raises ``StoreUnavailable`` when the backend cannot be reached, so callers can
answer 5xx and let the sender retry.
"""

from collections.abc import Callable, Iterator
from typing import Any, Protocol

Doc = dict[str, Any]

# The only collections the code writes. The leak scan and the Terraform TTL policies check this.
COLLECTIONS = (
    "accounts",  # Omniroo user accounts
    "projects",  # project settings and connection metadata
    "routes",  # "{stripe account}:{live|test}" -> project id
    "tokens",  # envelope-encrypted HubSpot tokens, one doc per project
    "event_marks",  # Stripe event ids already accepted (expire_at)
    "outcomes",  # per-event sync outcomes, ids and codes only (expire_at)
    "dead_letters",  # event ids that exhausted their retries (expire_at)
)

# Field that carries a document's expiry (seconds since epoch); Firestore TTL policies use it.
EXPIRE_AT = "expire_at"


class Store(Protocol):
    def get(self, collection: str, doc_id: str) -> Doc | None: ...

    def create(self, collection: str, doc_id: str, doc: Doc) -> bool:
        """Atomically create; False (and no write) when the document already exists."""
        ...

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        """Create or replace."""
        ...

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete; no error when absent."""
        ...

    def update(
        self, collection: str, doc_id: str, fn: Callable[[Doc | None], Doc | None]
    ) -> Doc | None:
        """Read-modify-write in one transaction. ``fn`` gets the current doc (or None) and returns
        the new doc, or None to leave it as it is. Returns what is stored afterwards. ``fn`` may be
        called more than once when the transaction is retried, so it must be pure."""
        ...

    def find(self, collection: str, field: str, value: Any) -> list[tuple[str, Doc]]:
        """Documents whose top-level ``field`` equals ``value``."""
        ...

    def scan(self, collection: str) -> Iterator[tuple[str, Doc]]:
        """Every document of a collection (purge jobs and audits; not for hot paths)."""
        ...
