"""Builds each function's dependencies from the settings: the only place adapters are chosen.

``OMNIROO_ENV=gcp`` picks Firestore, Cloud KMS and Pub/Sub; ``local`` picks SQLite, a key file and
drainer threads in the process. Imports are local to each builder so that a function only pays,
at cold start, for the clients it uses: the webhook loads neither the Stripe nor the HubSpot
library (nor the crypto one), which only the drainer and the OAuth flows need.
"""

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.store.base import Store

LOCAL_LEASE_SECONDS = 10.0

if TYPE_CHECKING:
    from shared.console.backfills import Backfills, ThreadBackfills
    from shared.console.deps import ConsoleDeps
    from shared.crypto.envelope import Envelope
    from shared.crypto.keys import KeyService
    from shared.drain.drainer import DrainDeps
    from shared.drain.entry import Entry
    from shared.hubspot.gateway import HubSpotGateway
    from shared.oauth.flows import OAuthDeps
    from shared.queue.pubsub import PubSubWaker
    from shared.repair.deps import RepairDeps
    from shared.repair.jobs import JobDeps
    from shared.webhook.ingest import IngestDeps


def build_store(settings: Settings) -> Store:
    if settings.local:
        from shared.store.sqlite import SqliteStore

        return SqliteStore(settings.data_dir / "omniroo.db")
    from google.cloud import firestore

    from shared.store.firestore import FirestoreStore

    client = firestore.Client(project=settings.gcp_project, database=settings.firestore_database)
    return FirestoreStore(client)


def build_key_service(settings: Settings) -> "KeyService":
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


def build_drain(
    settings: Settings, store: Store, envelope: "Envelope", clock: Clock
) -> "DrainDeps":
    from shared.drain.drainer import DrainDeps
    from shared.hubspot.calls import Pacer
    from shared.hubspot.gateway import HubSpotGateway
    from shared.stripe_gateway import StripeGateway

    def hubspot(token: str, pacer: Pacer) -> HubSpotGateway:
        return HubSpotGateway(
            token,
            clock,
            settings.hubspot_api_base,
            settings.hubspot_timeout,
            pacer=pacer,
            retries=settings.hubspot_retries,
        )

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
    return DrainDeps(
        store,
        envelope,
        stripe,
        hubspot,
        clock,
        refresher,
        calls_per_window=settings.hubspot_calls_per_10s,
    )


def build_oauth(
    settings: Settings, store: Store, envelope: "Envelope", clock: Clock
) -> "OAuthDeps":
    """The OAuth flows' dependencies: the platform's Stripe client (client id, Connect base) and
    HubSpot's token endpoints."""
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

    def hubspot(token: str) -> "HubSpotGateway":
        from shared.hubspot.gateway import HubSpotGateway  # only HubSpot's callback builds one

        return HubSpotGateway(token, clock, settings.hubspot_api_base, settings.hubspot_timeout)

    return OAuthDeps(store, envelope, clock, settings, client, hubspot_oauth, hubspot)


class LocalRuntime:
    """Everything of the embedded mode, once per process: the store, the keys, and the drainer
    threads that play Pub/Sub and ``hubspot_push``."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        from shared.crypto.envelope import Envelope
        from shared.drain.runner import LocalDrainer

        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = build_store(settings)
        self.envelope = Envelope(build_key_service(settings))
        self.drain = build_drain(settings, self.store, self.envelope, self.clock)
        # One machine: after a crash, ``make run`` should not wait a minute to drain again.
        self.drain.lease_seconds = LOCAL_LEASE_SECONDS
        self.drainers: LocalDrainer = LocalDrainer(self.drain, settings.local_drainers)
        self._backfills: ThreadBackfills | None = None

    def oauth(self) -> "OAuthDeps":
        return build_oauth(self.settings, self.store, self.envelope, self.clock)

    def ingest(self) -> "IngestDeps":
        from shared.webhook.ingest import IngestDeps

        return IngestDeps(
            self.store, self.drainers, self.clock, self.settings.stripe_webhook_secrets
        )

    def entry(self) -> "Entry":
        from shared.drain.entry import Entry

        return Entry(self.drain, self.drainers)

    def backfills(self) -> "ThreadBackfills":
        """The console's backfills, stepped by threads of this process (one set per runtime,
        so two console apps in one process never step the same backfill twice)."""
        from shared.console.backfills import ThreadBackfills

        with _lock:
            if self._backfills is None:
                self._backfills = ThreadBackfills(
                    self.store, self.clock, self.drain.stripe, self.drainers.wake
                )
            return self._backfills


_runtimes: dict[Settings, LocalRuntime] = {}
_lock = threading.Lock()


def local_runtime(settings: Settings) -> LocalRuntime:
    with _lock:
        if settings not in _runtimes:
            _runtimes[settings] = LocalRuntime(settings)
        return _runtimes[settings]


def _waker(settings: Settings) -> "PubSubWaker":
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.queue.pubsub import PubSubWaker

    publisher = pubsub_v1.PublisherClient()
    return PubSubWaker(publisher, publisher.topic_path(settings.gcp_project, settings.drain_topic))


def webhook_deps(settings: Settings) -> "IngestDeps":
    if settings.local:
        return local_runtime(settings).ingest()
    from shared.webhook.ingest import IngestDeps

    return IngestDeps(
        build_store(settings), _waker(settings), SystemClock(), settings.stripe_webhook_secrets
    )


def drain_entry(settings: Settings) -> "Entry":
    """What ``hubspot_push`` runs with: the drainer's dependencies, and the waker its sweep
    fans out through. In production a drain stops starting rounds before the function's
    timeout and wakes its project again."""
    if settings.local:
        return local_runtime(settings).entry()
    from shared.crypto.envelope import Envelope
    from shared.drain.entry import Entry

    clock = SystemClock()
    store = build_store(settings)
    deps = build_drain(settings, store, Envelope(build_key_service(settings)), clock)
    deps.time_limit = settings.drain_time_limit
    return Entry(deps, _waker(settings))


class _KeysOnFirstUse:
    """The key service, built when first asked to wrap or unwrap: the Stripe OAuth callback keeps
    no token and never does, so it does not load the KMS client cold (``make bench``, 1)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._service: KeyService | None = None
        self._lock = threading.Lock()

    def _keys(self) -> "KeyService":
        with self._lock:
            if self._service is None:
                self._service = build_key_service(self._settings)
            return self._service

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        return self._keys().wrap(data_key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        return self._keys().unwrap(wrapped, aad, key_version)


def oauth_deps(settings: Settings) -> "OAuthDeps":
    """For the OAuth callbacks: one set per instance."""
    from shared.crypto.envelope import Envelope

    if settings.local:
        return local_runtime(settings).oauth()
    store = build_store(settings)
    return build_oauth(settings, store, Envelope(_KeysOnFirstUse(settings)), SystemClock())


def repair_deps(settings: Settings) -> "RepairDeps":
    """Backfill, preview, reconcile and replay: the drainer's Stripe client, HubSpot gateways
    and refresher, HubSpot paced by the portal's repair budget (``RepairDeps.gateway``). No
    threads: the command line and the repair function build this."""
    from shared.crypto.envelope import Envelope

    store, clock = build_store(settings), SystemClock()
    envelope = Envelope(build_key_service(settings))
    return _repair(settings, envelope, build_drain(settings, store, envelope, clock))


def _repair(
    settings: Settings,
    envelope: "Envelope",
    drain: "DrainDeps",
    wake: "Callable[[str], None] | None" = None,
) -> "RepairDeps":
    from shared.repair.deps import RepairDeps

    return RepairDeps(
        drain.store,
        envelope,
        drain.stripe,
        drain.hubspot,
        drain.clock,
        drain.refresher,
        wake=wake,
        calls_per_window=settings.hubspot_calls_per_10s,
    )


def job_deps(settings: Settings, timeout: float) -> "JobDeps":
    """The jobs function: job messages are published to the jobs topic, and the dead letters
    pulled from their subscription, in gcp mode; locally, follow-up jobs queue in memory for
    the same process to run (``LocalJobs``) and there is no dead-letter topic."""
    from shared.repair.jobs import JobDeps, LocalJobs

    repair = repair_deps(settings)
    if settings.local:
        return JobDeps(repair, LocalJobs(), timeout)
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.queue.pull import PubSubPull
    from shared.queue.topic import PubSubTopic

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    jobs = PubSubTopic(publisher, publisher.topic_path(settings.gcp_project, settings.jobs_topic))
    held = subscriber.subscription_path(settings.gcp_project, settings.dead_letter_subscription)
    return JobDeps(repair, jobs, timeout, PubSubPull(subscriber, held))


def console_deps(settings: Settings) -> "ConsoleDeps":
    """The console's: this mode's store, keys and clock, the accounts service, the OAuth flows
    behind its connect and disconnect buttons, repair (replay, preview) waking the project's
    drainer, backfills stepped by threads here locally and through the jobs topic in gcp mode,
    and the drainer's own Stripe and HubSpot clients for the settings editor's reads (HubSpot
    paced at a tenth of the portal's calls)."""
    from shared.accounts.service import Accounts
    from shared.console import web
    from shared.console.deps import ConsoleDeps
    from shared.console.readers import Readers
    from shared.crypto.envelope import Envelope
    from shared.drain.budget import Budget
    from shared.hubspot.gateway import HubSpotGateway
    from shared.oauth import flows

    backfills: Backfills
    if settings.local:
        runtime = local_runtime(settings)
        store, envelope, clock = runtime.store, runtime.envelope, runtime.clock
        drain, wake, backfills = runtime.drain, runtime.drainers.wake, runtime.backfills()
    else:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        from shared.console.backfills import QueuedBackfills
        from shared.queue.topic import PubSubTopic

        store, clock = build_store(settings), SystemClock()
        envelope = Envelope(build_key_service(settings))
        drain = build_drain(settings, store, envelope, clock)
        wake = _waker(settings).wake
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(settings.gcp_project, settings.jobs_topic)
        backfills = QueuedBackfills(store, clock, PubSubTopic(publisher, topic))
    share = max(1, settings.hubspot_calls_per_10s // 10)

    def portal_reader(token: str) -> HubSpotGateway:
        return drain.hubspot(token, Budget(share, clock))

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
        readers=Readers(envelope, portal_reader, drain.stripe, drain.refresher),
        repair=_repair(settings, envelope, drain, wake),
        backfills=backfills,
    )
