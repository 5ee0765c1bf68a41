"""Builds each function's dependencies from the settings: the only place adapters are chosen.

``OMNIROO_ENV=gcp`` picks Firestore, Cloud KMS and Pub/Sub; ``local`` picks SQLite, a key file and
an in-process worker. Imports are local to each builder so that a function only pays, at cold
start, for the clients it uses.
"""

import functools
import threading
from typing import Any

from shared import logs
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.crypto.envelope import Envelope
from shared.crypto.keys import KeyService
from shared.queue.base import ThinMessage
from shared.store.base import EXPIRE_AT, Store
from shared.sync.push import PushDeps
from shared.webhook.ingest import IngestDeps

DEAD_LETTER_TTL_SECONDS = 30 * 24 * 3600


def build_store(settings: Settings) -> Store:
    if settings.local:
        from shared.store.sqlite import SqliteStore

        return SqliteStore(settings.data_dir / "omniroo.db")
    from google.cloud import firestore

    from shared.store.firestore import FirestoreStore

    client = firestore.Client(project=settings.gcp_project, database=settings.firestore_database)
    return FirestoreStore(client)


def build_key_service(settings: Settings) -> KeyService:
    if settings.local:
        from shared.crypto.local_keys import LocalKeyFile

        return LocalKeyFile(settings.data_dir / "master.key")
    from google.cloud import kms

    from shared.crypto.cloud_kms import CloudKmsKeyService

    if settings.kms_endpoint:
        # Only for tests against a local KMS double: the real service uses default credentials.
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        client = kms.KeyManagementServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=settings.kms_endpoint),
        )
    else:
        client = kms.KeyManagementServiceClient()
    return CloudKmsKeyService(client, settings.kms_key_name)


def build_push(settings: Settings, store: Store, envelope: Envelope, clock: Clock) -> PushDeps:
    from shared.hubspot.gateway import HubSpotGateway
    from shared.stripe_gateway import StripeGateway

    @functools.lru_cache(maxsize=64)
    def hubspot(token: str) -> HubSpotGateway:
        return HubSpotGateway(token, clock, settings.hubspot_api_base, settings.hubspot_timeout)

    stripe = StripeGateway(
        settings.stripe_secret_key, settings.stripe_api_base, settings.stripe_timeout
    )
    return PushDeps(store=store, envelope=envelope, stripe=stripe, hubspot=hubspot, clock=clock)


def dead_letter(store: Store, clock: Clock) -> Any:
    def park(message: ThinMessage, error: Exception) -> None:
        now = clock.now()
        store.put(
            "dead_letters",
            message.event_id,
            {
                "project_id": message.project_id,
                "event_id": message.event_id,
                "type": message.type,
                "error_type": type(error).__name__,
                "at": now,
                EXPIRE_AT: now + DEAD_LETTER_TTL_SECONDS,
            },
        )
        logs.alert("event dead-lettered", event_id=message.event_id, type=message.type)

    return park


class LocalRuntime:
    """Everything of the embedded mode, once per process: the store, the keys, and the in-process
    worker that plays Pub/Sub and ``hubspot_push``."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        from shared.queue.inproc import InProcQueue
        from shared.sync import push

        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = build_store(settings)
        self.envelope = Envelope(build_key_service(settings))
        self.push = build_push(settings, self.store, self.envelope, self.clock)
        self.queue = InProcQueue(
            lambda message: push.handle(message, self.push),
            self.clock,
            on_dead_letter=dead_letter(self.store, self.clock),
        )

    def ingest(self) -> IngestDeps:
        return IngestDeps(self.store, self.queue, self.clock, self.settings.stripe_webhook_secrets)


_runtimes: dict[Settings, LocalRuntime] = {}
_lock = threading.Lock()


def local_runtime(settings: Settings) -> LocalRuntime:
    with _lock:
        if settings not in _runtimes:
            _runtimes[settings] = LocalRuntime(settings)
        return _runtimes[settings]


def webhook_deps(settings: Settings) -> IngestDeps:
    if settings.local:
        return local_runtime(settings).ingest()
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.queue.pubsub import PubSubQueue

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(settings.gcp_project, settings.events_topic)
    return IngestDeps(
        build_store(settings),
        PubSubQueue(publisher, topic),
        SystemClock(),
        settings.stripe_webhook_secrets,
    )


def push_deps(settings: Settings) -> PushDeps:
    if settings.local:
        return local_runtime(settings).push
    clock = SystemClock()
    store = build_store(settings)
    return build_push(settings, store, Envelope(build_key_service(settings)), clock)
