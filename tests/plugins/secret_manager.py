"""Fixtures for Secret Manager: the local double, and the real client talking REST to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import secretmanager

from doubles.secret_manager import SecretManagerDouble
from tooling.secrets import build_client

PROJECT = "omniroo-test"


@pytest.fixture
def secret_manager_double() -> Iterator[SecretManagerDouble]:
    with SecretManagerDouble() as double:
        yield double


@pytest.fixture
def secret_manager_client(
    secret_manager_double: SecretManagerDouble,
) -> Iterator[secretmanager.SecretManagerServiceClient]:
    client = build_client(secret_manager_double.base_url)
    yield client
    client.transport.close()  # type: ignore[no-untyped-call]


def create_secret(client: secretmanager.SecretManagerServiceClient, secret_id: str) -> str:
    """What terraform apply does for each secret: the secret, without any version."""
    secret = client.create_secret(
        request={
            "parent": f"projects/{PROJECT}",
            "secret_id": secret_id,
            "secret": {"replication": {"automatic": {}}},
        }
    )
    return str(secret.name)
