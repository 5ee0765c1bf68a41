"""The Store port: a tiny document store, the least both Firestore and SQLite do well.

Documents are flat JSON-able dicts addressed by (collection, id). Only configuration, encrypted
tokens, ids and outcomes go in: never a field of a Stripe object other than ids and types.
Every adapter raises ``StoreUnavailable`` when the backend cannot be reached, so callers can
answer 5xx and let the sender retry.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

Doc = dict[str, Any]


class Deleted:
    """What an ``update_many`` function returns to delete the document it was given."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE: Final = Deleted()
# A change ``update_many`` makes to one document: the new document, None (leave it), or DELETE.
Change = Doc | None | Deleted
# The most documents one ``update_many`` transaction reads and writes.
MAX_MANY = 200

# The only collections the code writes, and the only fields each may hold. The leak scans test
# stored documents against this, and the Terraform TTL policies against ``EXPIRE_AT``.
FIELDS: dict[str, frozenset[str]] = {
    # Omniroo user accounts (our users, not Stripe customers)
    # (closed_at and expire_at once closed: purge deletes it for good after expire_at)
    "accounts": frozenset({"email", "created_at", "status", "closed_at", "expire_at"}),
    # project settings and connection metadata
    "projects": frozenset(
        {
            "account_id",
            "name",
            "stripe_account",
            "livemode",
            "stripe_status",
            "hubspot_portal_id",
            "hubspot_status",
            "settings",
            "created_at",
            # unknown deal stages the portal reported at HubSpot connect (settings_check)
            "hubspot_warnings",
            # set when the account closes: purge deletes the project for good after expire_at
            "closed_at",
            "expire_at",
        }
    ),
    # "{stripe account}:{live|test}" -> project id
    "routes": frozenset({"project_id"}),
    # envelope-encrypted HubSpot tokens, one doc per project
    "tokens": frozenset(
        {
            "project_id",
            "hubspot_access_token",
            "hubspot_refresh_token",
            "expires_at",
            # single-flight refresh: who refreshes, until when (shared.tokens.access_token)
            "refresh_lease_until",
            "refresh_lease_owner",
        }
    ),
    # Stripe event ids already accepted
    "event_marks": frozenset({"state", "claim", "project_id", "claimed_at", "expire_at"}),
    # per-event sync outcomes, ids and codes only
    "outcomes": frozenset(
        {
            "project_id",
            "event_id",
            "events",
            "type",
            "stripe_id",
            "status",
            "hubspot_id",
            "error_code",
            "at",
            "expire_at",
        }
    ),
    # Stripe objects to (re)write to HubSpot: ids only (shared.drain.dirty); a generation token
    # tells a key marked again while its write was in flight
    "dirty_keys": frozenset(
        {
            "project_id",
            "kind",
            "object_id",
            "gen",
            "marked_at",
            "read_after",
            "due_at",
            "attempts",
            "last_error",
            "events",
            "event_type",
            "event_count",
            "changed",
            "partial",
            "expire_at",
        }
    ),
    # sync health: per project, UTC day and shard, how many events were received, synced,
    # skipped, failed, dead-lettered and replayed (shared.repair.health); counts only
    "health": frozenset(
        {
            "project_id",
            "day",
            "received",
            "synced",
            "skipped",
            "failed",
            "dead_lettered",
            "replayed",
            "expire_at",
        }
    ),
    # backfill and reconcile runs: ids, status, times and counts only (shared.repair.health)
    "runs": frozenset(
        {
            "project_id",
            "kind",
            "status",
            "day",
            "started_at",
            "finished_at",
            "counts",
            "expire_at",
        }
    ),
    # one backfill per project (shared.repair.backfill): the kinds, where the walk stands (a
    # trail of Stripe ids to resume after), counts per kind, status and the stepping lease
    "backfills": frozenset(
        {
            "project_id",
            "run_id",
            "status",
            "kinds",
            "kind",
            "trail",
            "more",
            "done",
            "estimate",
            "exact",
            "error_code",
            "started_at",
            "updated_at",
            "finished_at",
            "lease_owner",
            "lease_until",
            "expire_at",
        }
    ),
    # where a project's drift check stands between reconcile runs (shared.repair.drift): the
    # kind walked and a trail of Stripe ids to go on after
    "drift_cursors": frozenset({"project_id", "kind", "trail", "expire_at"}),
    # event ids that exhausted their retries, with the object they named when known
    "dead_letters": frozenset(
        {
            "project_id",
            "event_id",
            "type",
            "object_type",
            "object_id",
            "error_type",
            "at",
            "expire_at",
        }
    ),
    # one per HubSpot portal: who drains it until when, and the timestamps of the holder's calls
    # in the last rate-limit window, for the next holder to count (shared.drain.lease)
    "drain_leases": frozenset({"owner", "until", "calls", "clean", "expire_at"}),
    # sha256(normalised email) -> account id, claimed atomically so an email is unique
    "account_emails": frozenset({"account_id", "expire_at"}),
    # account id -> the bcrypt hash of the password
    "credentials": frozenset({"password_hash", "changed_at", "expire_at"}),
    # sha256(session token) -> whose session; expire_at = min(idle, absolute expiry)
    "sessions": frozenset({"account_id", "created_at", "last_seen", "expire_at"}),
    # sha256(OAuth state) -> what it was issued for; single use (claim), 10 minutes
    "oauth_states": frozenset(
        {
            "session",
            "account_id",
            "project_id",
            "provider",
            "created_at",
            "claim",
            "used_at",
            "expire_at",
        }
    ),
    # failed sign-in counters by sha256 of email, client address, or both; never in clear
    "login_throttle": frozenset({"kind", "failures", "next_at", "trusted_until", "expire_at"}),
    # account actions: ids and codes only, never a secret, password, token or email
    "audit": frozenset(
        {
            "account_id",
            "action",
            "at",
            "client",
            "project_id",
            "provider",
            "reason",
            "setting",
            "expire_at",
        }
    ),
    # security reports from the contact form, for the operator; never logged
    "reports": frozenset({"name", "email", "message", "received_at", "expire_at"}),
}
COLLECTIONS = tuple(FIELDS)

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

    def update_many(
        self,
        collection: str,
        doc_ids: Sequence[str],
        fn: Callable[[str, Doc | None], Change],
    ) -> dict[str, Doc | None]:
        """Read-modify-write of up to ``MAX_MANY`` documents in one transaction: ``fn`` gets each
        id and its current doc (or None) and returns the new doc, None to leave it, or
        ``DELETE``. Returns what is stored afterwards, by id (None: absent). ``fn`` may be called
        more than once when the transaction is retried, so it must be pure."""
        ...

    def increment(
        self, collection: str, doc_id: str, deltas: Mapping[str, int], fields: Doc
    ) -> None:
        """Add ``deltas`` to top-level integer fields (absent: 0) and set ``fields``, creating the
        document if needed, as one blind write: no read, so concurrent increments of one document
        never abort each other and none is lost (counters: ``shared.repair.health``)."""
        ...

    def find(self, collection: str, field: str, value: Any) -> list[tuple[str, Doc]]:
        """Documents whose top-level ``field`` equals ``value``."""
        ...

    def query(
        self,
        collection: str,
        equals: Mapping[str, str],
        field: str,
        upto: float,
        limit: int,
        descending: bool = False,
    ) -> list[tuple[str, Doc]]:
        """At most ``limit`` documents whose top-level fields equal the strings of ``equals`` and
        whose number ``field`` is at most ``upto`` (``math.inf``: any number), by ``field`` then
        id, ascending, or newest first when ``descending`` (the latest outcomes of a project).
        Each combination of ``equals`` fields and order needs a composite index in Firestore
        (infra/firestore.tf)."""
        ...

    def scan(self, collection: str) -> Iterator[tuple[str, Doc]]:
        """Every document of a collection (purge jobs and audits; not for hot paths)."""
        ...
