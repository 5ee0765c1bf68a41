"""Builds each function's dependencies from the settings: the only place adapters are chosen.

``OMNIROO_ENV=gcp`` picks Firestore, Cloud KMS and Pub/Sub; ``local`` picks SQLite, a key file and
an in-process worker. Imports are local to each builder so that a function only pays, at cold
start, for the clients it uses.
"""

import functools
import threading
from typing import TYPE_CHECKING, Any

from shared import logs
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.crypto.envelope import Envelope
from shared.crypto.keys import KeyService
from shared.queue.base import ThinMessage
from shared.store.base import EXPIRE_AT, Store
from shared.sync.push import PushDeps
from shared.webhook.ingest import IngestDeps

if TYPE_CHECKING:
    from shared.console.deps import ConsoleDeps
    from shared.oauth.flows import OAuthDeps

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
    refresher = None
    if settings.hubspot_client_id and settings.hubspot_client_secret:
        from shared.oauth.hubspot_tokens import HubSpotOAuthClient

        refresher = HubSpotOAuthClient(
            settings.hubspot_client_id,
            settings.hubspot_client_secret,
            settings.hubspot_api_base,
            settings.hubspot_timeout,
        ).refresh
    return PushDeps(store, envelope, stripe, hubspot, clock, refresher)


def build_oauth(settings: Settings, store: Store, envelope: Envelope, clock: Clock) -> "OAuthDeps":
    """The OAuth flows' dependencies: the platform's Stripe client (client id, Connect base) and
    HubSpot's token endpoints."""
    from shared.hubspot.gateway import HubSpotGateway
    from shared.oauth.flows import OAuthDeps
    from shared.oauth.hubspot_tokens import HubSpotOAuthClient
    from shared.stripe_gateway import StripeGateway

    client = StripeGateway(
        settings.stripe_secret_key,
        settings.stripe_api_base,
        settings.stripe_timeout,
        client_id=settings.stripe_client_id,
        connect_base=settings.stripe_connect_base,
    )
    hubspot_oauth = HubSpotOAuthClient(
        settings.hubspot_client_id,
        settings.hubspot_client_secret,
        settings.hubspot_api_base,
        settings.hubspot_timeout,
    )

    def hubspot(token: str) -> HubSpotGateway:
        return HubSpotGateway(token, clock, settings.hubspot_api_base, settings.hubspot_timeout)

    return OAuthDeps(store, envelope, clock, settings, client, hubspot_oauth, hubspot)


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

    def oauth(self) -> "OAuthDeps":
        return build_oauth(self.settings, self.store, self.envelope, self.clock)

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


def oauth_deps(settings: Settings) -> "OAuthDeps":
    """For the OAuth callbacks and the console: one set per instance."""
    if settings.local:
        return local_runtime(settings).oauth()
    store = build_store(settings)
    return build_oauth(settings, store, Envelope(build_key_service(settings)), SystemClock())


def console_deps(settings: Settings) -> "ConsoleDeps":
    """The console's: this mode's store, keys and clock, the accounts service, the OAuth flows
    behind its connect and disconnect buttons, and the push's own Stripe and HubSpot clients for
    the settings editor's reads."""
    from shared.accounts.service import Accounts
    from shared.console import web
    from shared.console.deps import ConsoleDeps
    from shared.console.readers import Readers
    from shared.oauth import flows

    if settings.local:
        runtime = local_runtime(settings)
        store, envelope, clock, push = runtime.store, runtime.envelope, runtime.clock, runtime.push
    else:
        store, clock = build_store(settings), SystemClock()
        envelope = Envelope(build_key_service(settings))
        push = build_push(settings, store, envelope, clock)
    return ConsoleDeps(
        store=store,
        clock=clock,
        accounts=Accounts(store, clock),
        public_url=settings.public_url,
        local=settings.local,
        proxy_hops=0 if settings.local else web.LOAD_BALANCER_HOPS,
        flows=flows,
        oauth=build_oauth(settings, store, envelope, clock),
        # Connect posts redirect to the providers' authorize pages: CSP form-action allows them.
        form_hosts=(
            web.origin_of(settings.stripe_connect_base or flows.STRIPE_CONNECT_BASE),
            web.origin_of(settings.hubspot_auth_base),
        ),
        readers=Readers(envelope, push.hubspot, push.stripe, push.refresher),
    )
