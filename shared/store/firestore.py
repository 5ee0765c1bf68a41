"""The production Store: Cloud Firestore (native mode).

Every call carries a short timeout and a bounded retry, so that a dead or unreachable backend
surfaces as ``StoreUnavailable`` within seconds instead of holding a request until the platform
kills it. ``prefix`` is prepended to every collection name, so tests can share one database.

Keys are opaque strings (a Stripe event id may hold any printable character, shared/webhook/
event.py), but a Firestore document id may not contain ``/``, be ``.`` or ``..``, or look like
``__name__`` (https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields):
such keys are stored percent-escaped (``%`` itself too), and read back as they were given.
"""

import re
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import grpc
from google.api_core import exceptions as api_exceptions
from google.api_core import retry as api_retry
from google.auth import exceptions as auth_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath
from google.cloud.firestore_v1.transaction import Transaction

from shared.errors import StoreContention, StoreUnavailable
from shared.store.base import EXPIRE_AT, MAX_MANY, Change, Deleted, Doc

DEFAULT_DEADLINE = 10.0
# The library's default; contention within one instance never gets this far (see _queued).
TRANSACTION_ATTEMPTS = 5
SCAN_PAGE = 500
LOCK_STRIPES = 64

_BACKEND_ERRORS = (
    api_exceptions.GoogleAPICallError,
    api_exceptions.RetryError,
    grpc.RpcError,
    auth_exceptions.TransportError,
    auth_exceptions.RefreshError,
)


_RESERVED = re.compile(r"\.{1,2}|__.*__")


def doc_id(key: str) -> str:
    """The Firestore document id that stores ``key``; keys Firestore accepts are kept as they
    are, so documents written before escaping existed are still found."""
    escaped = key.replace("%", "%25").replace("/", "%2F")
    if _RESERVED.fullmatch(escaped):
        escaped = f"%{ord(escaped[0]):02X}{escaped[1:]}"
    return escaped


def key_of(document_id: str) -> str:
    return unquote(document_id) if "%" in document_id else document_id


class FirestoreStore:
    def __init__(
        self, client: firestore.Client, prefix: str = "", deadline: float = DEFAULT_DEADLINE
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._deadline = deadline
        self._retry = api_retry.Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=deadline)
        # Firestore locks what a transaction reads, so two transactions of one instance on one
        # document wait for each other until one aborts (seconds on the emulator). Queueing them
        # here first leaves the transaction to arbitrate between instances only.
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def get(self, collection: str, doc_id: str) -> Doc | None:
        with _backend("get"):
            snapshot = self._ref(collection, doc_id).get(**self._bounds())
        return _to_doc(snapshot)

    def create(self, collection: str, doc_id: str, doc: Doc) -> bool:
        with _backend("create"):
            try:
                self._ref(collection, doc_id).create(_stored(doc), **self._bounds())
            except (api_exceptions.AlreadyExists, api_exceptions.Conflict):
                return False
        return True

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        with _backend("put"):
            self._ref(collection, doc_id).set(_stored(doc), **self._bounds())

    def delete(self, collection: str, doc_id: str) -> None:
        with _backend("delete"):
            self._ref(collection, doc_id).delete(**self._bounds())

    def update(
        self, collection: str, doc_id: str, fn: Callable[[Doc | None], Doc | None]
    ) -> Doc | None:
        ref = self._ref(collection, doc_id)
        bounds = self._bounds()

        def read_modify_write(transaction: Transaction) -> Doc | None:
            current = _to_doc(ref.get(transaction=transaction, **bounds))
            new = fn(current)
            if new is None:
                return current
            transaction.set(ref, _stored(new))
            return new

        with self._queued(ref.path), _backend("update"):
            return self._transact(read_modify_write, "update")

    def _transact[T](self, body: Callable[[Transaction], T], operation: str) -> T:
        """Run ``body`` in a transaction, retried on contention up to TRANSACTION_ATTEMPTS."""
        try:
            result: T = firestore.transactional(body)(
                _BoundedTransaction(self._client, self._retry, self._deadline)
            )
        except ValueError as exc:
            # Raised by the library, with the last Aborted as cause, once contention outlasts
            # TRANSACTION_ATTEMPTS; anything else is the caller's own ValueError.
            if isinstance(exc.__cause__, api_exceptions.GoogleAPICallError):
                raise StoreContention(f"firestore {operation} kept aborting") from exc
            raise
        return result

    def update_many(
        self,
        collection: str,
        doc_ids: Sequence[str],
        fn: Callable[[str, Doc | None], Change],
    ) -> dict[str, Doc | None]:
        if len(doc_ids) > MAX_MANY:
            raise ValueError(f"update_many takes at most {MAX_MANY} documents")
        # The callback and the answer speak the caller's ids, not their escaped document ids.
        named = [(doc_id, self._ref(collection, doc_id)) for doc_id in dict.fromkeys(doc_ids)]
        refs = [ref for _, ref in named]
        bounds = self._bounds()

        def read_modify_write(transaction: Transaction) -> dict[str, Doc | None]:
            current = {s.id: _to_doc(s) for s in transaction.get_all(refs, **bounds)}
            after: dict[str, Doc | None] = {}
            for doc_id, ref in named:
                doc = current.get(ref.id)
                change = fn(doc_id, doc)
                if isinstance(change, Deleted):
                    transaction.delete(ref)
                    after[doc_id] = None
                elif change is not None:
                    transaction.set(ref, _stored(change))
                    after[doc_id] = change
                else:
                    after[doc_id] = doc
            return after

        stripes = sorted({self._stripe(ref.path) for ref in refs})
        with ExitStack() as held, _backend("update_many"):
            for stripe in stripes:
                held.enter_context(self._held(stripe))
            return self._transact(read_modify_write, "update_many")

    def find(self, collection: str, field: str, value: Any) -> list[tuple[str, Doc]]:
        query = self._collection(collection).where(filter=FieldFilter(field, "==", value))
        with _backend("find"):
            found = query.stream(**self._bounds())
            return [(key_of(s.id), _read(s.to_dict() or {})) for s in found]

    def increment(
        self, collection: str, doc_id: str, deltas: Mapping[str, int], fields: Doc
    ) -> None:
        # Increment is a field transform applied by the server: a write without a read, so
        # nothing to abort (firebase.google.com/docs/firestore/solutions/counters). No retry:
        # a retried commit whose first attempt landed would count twice.
        changes = {**fields, **{name: firestore.Increment(int(n)) for name, n in deltas.items()}}
        with _backend("increment"):
            self._ref(collection, doc_id).set(
                _stored(changes), merge=True, retry=None, timeout=self._deadline
            )

    def query(
        self,
        collection: str,
        equals: Mapping[str, str],
        field: str,
        upto: float,
        limit: int,
        descending: bool = False,
    ) -> list[tuple[str, Doc]]:
        # Equalities on some fields with a range and an order on another: a composite index
        # (infra/firestore.tf) serves it; the emulator needs none.
        query = self._collection(collection)
        for name, value in equals.items():
            query = query.where(filter=FieldFilter(name, "==", value))
        direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
        query = query.where(filter=FieldFilter(field, "<=", upto))
        query = query.order_by(field, direction=direction)
        query = query.order_by(FieldPath.document_id(), direction=direction).limit(limit)
        with _backend("query"):
            return [
                (key_of(s.id), _read(s.to_dict() or {})) for s in query.stream(**self._bounds())
            ]

    def scan(self, collection: str) -> Iterator[tuple[str, Doc]]:
        # Paged, so that each page gets its own deadline however large the collection grows.
        query = self._collection(collection).order_by(FieldPath.document_id()).limit(SCAN_PAGE)
        last = None
        while True:
            page = query if last is None else query.start_after(last)
            with _backend("scan"):
                snapshots = list(page.stream(**self._bounds()))
            for snapshot in snapshots:
                yield key_of(snapshot.id), _read(snapshot.to_dict() or {})
            if len(snapshots) < SCAN_PAGE:
                return
            last = snapshots[-1]

    def collection_names(self) -> list[str]:
        """Unprefixed names of the collections that hold documents under this store's prefix."""
        with _backend("collections"):
            names = [c.id for c in self._client.collections(**self._bounds())]
        return sorted(n[len(self.prefix) :] for n in names if n.startswith(self.prefix))

    def _collection(self, collection: str) -> Any:
        return self._client.collection(self.prefix + collection)

    def _ref(self, collection: str, key: str) -> Any:
        return self._collection(collection).document(doc_id(key))

    @contextmanager
    def _queued(self, path: str) -> Iterator[None]:
        with self._held(self._stripe(path)):
            yield

    @staticmethod
    def _stripe(path: str) -> int:
        return zlib.crc32(path.encode()) % LOCK_STRIPES

    @contextmanager
    def _held(self, stripe: int) -> Iterator[None]:
        lock = self._stripes[stripe]
        if not lock.acquire(timeout=self._deadline):
            raise StoreUnavailable("firestore update: document busy in this instance")
        try:
            yield
        finally:
            lock.release()

    def _bounds(self) -> dict[str, Any]:
        return {"retry": self._retry, "timeout": self._deadline}


class _BoundedTransaction(Transaction):
    """A transaction whose begin, commit and rollback RPCs honour our deadline.

    The library sends those three without a retry or timeout argument, so they fall back to the
    generated defaults (retrying UNAVAILABLE for 60 s); with the backend gone an update would hang
    for minutes. These are copies of the library's methods (google-cloud-firestore 2.34) that pass
    ours. Rollback is best effort: its failure must not hide the error that caused it.
    """

    def __init__(self, client: firestore.Client, retry: api_retry.Retry, deadline: float) -> None:
        super().__init__(client, max_attempts=TRANSACTION_ATTEMPTS)
        self._bounds = {"retry": retry, "timeout": deadline}

    def _begin(self, retry_id: bytes | None = None) -> None:
        if self.in_progress:
            raise ValueError(f"transaction {self._id!r} already in progress")
        response = self._client._firestore_api.begin_transaction(
            request={
                "database": self._client._database_string,
                "options": self._options_protobuf(retry_id),
            },
            metadata=self._client._rpc_metadata,
            **self._bounds,
        )
        self._id = response.transaction

    def _commit(self) -> list[Any]:
        if not self.in_progress:
            raise ValueError("no transaction in progress")
        response = self._client._firestore_api.commit(
            request={
                "database": self._client._database_string,
                "writes": self._write_pbs,
                "transaction": self._id,
            },
            metadata=self._client._rpc_metadata,
            **self._bounds,
        )
        self._clean_up()
        self.write_results = list(response.write_results)
        self.commit_time = response.commit_time
        return self.write_results

    def _rollback(self) -> None:
        if not self.in_progress:
            return
        try:
            self._client._firestore_api.rollback(
                request={"database": self._client._database_string, "transaction": self._id},
                metadata=self._client._rpc_metadata,
                retry=None,
                timeout=self._bounds["timeout"],
            )
        except _BACKEND_ERRORS:
            pass  # the transaction expires on the server anyway
        finally:
            self._clean_up()


@contextmanager
def _backend(operation: str) -> Iterator[None]:
    try:
        yield
    except _BACKEND_ERRORS as exc:
        raise StoreUnavailable(f"firestore {operation} failed: {type(exc).__name__}") from exc


def _to_doc(snapshot: Any) -> Doc | None:
    if not snapshot.exists:
        return None
    return _read(snapshot.to_dict())


# Firestore's TTL policies act only on Timestamp values: a number in ``expire_at`` would never
# expire. The rest of the code speaks seconds since the epoch; the conversion lives here only.
def _stored(doc: Doc) -> Doc:
    expiry = doc.get(EXPIRE_AT)
    if isinstance(expiry, (int, float)) and not isinstance(expiry, bool):
        return {**doc, EXPIRE_AT: datetime.fromtimestamp(expiry, UTC)}
    return doc


def _read(doc: Doc) -> Doc:
    expiry = doc.get(EXPIRE_AT)
    if isinstance(expiry, datetime):
        return {**doc, EXPIRE_AT: expiry.timestamp()}
    return doc
