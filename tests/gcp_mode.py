"""One test's project in gcp mode on the emulators and doubles (the emulator tests' set-up)."""

import secrets
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1

from tests.plugins.stack import PLATFORM_KEY, SECRETS


def gcp_mode(
    monkeypatch: pytest.MonkeyPatch,
    doubles: tuple[Any, Any, Any],
    prefix: str,
    topics: dict[str, str],
    **env: str,
) -> tuple[str, Any, Any, dict[str, str]]:
    """``OMNIROO_ENV=gcp`` for one test: a fresh, empty project on the emulators (its own
    database), its KMS key on the KMS double, both API doubles, and the Pub/Sub ``topics`` (name
    -> the subscription pulling it). Returns the project id, a publisher, a subscriber and the
    paths of every topic and subscription by name."""
    kms_double, stripe_double, hubspot_double = doubles
    gcp_project = f"{prefix}-{secrets.token_hex(4)}"
    key = kms_double.create_key(gcp_project, "europe-west1", "omniroo", "tokens")
    settings = {
        "OMNIROO_ENV": "gcp",
        "GOOGLE_CLOUD_PROJECT": gcp_project,
        "OMNIROO_KMS_KEY": key,
        "OMNIROO_KMS_ENDPOINT": kms_double.base_url,
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": ",".join(SECRETS),
        "HUBSPOT_CLIENT_SECRET": "hubspot-client-secret-for-tests",
        "STRIPE_API_BASE": stripe_double.base_url,
        "HUBSPOT_API_BASE": hubspot_double.base_url,
        **env,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    publisher = pubsub_v1.PublisherClient(credentials=AnonymousCredentials())
    subscriber = pubsub_v1.SubscriberClient(credentials=AnonymousCredentials())
    paths: dict[str, str] = {}
    for topic, subscription in topics.items():
        paths[topic] = publisher.topic_path(gcp_project, topic)
        paths[subscription] = subscriber.subscription_path(gcp_project, subscription)
        publisher.create_topic(name=paths[topic])
        subscriber.create_subscription(name=paths[subscription], topic=paths[topic])
    return gcp_project, publisher, subscriber, paths
