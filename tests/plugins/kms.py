"""Fixtures for Cloud KMS: the local KMS double, and the real client talking REST to it.

The installed REST transport keeps the scheme of an ``api_endpoint`` that has one, so a plain
``http://127.0.0.1:<port>`` endpoint works; anonymous credentials add no auth header.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import kms

from doubles.kms import KmsDouble


def make_rest_client(base_url: str) -> kms.KeyManagementServiceClient:
    """A real KMS client over REST to ``base_url`` (e.g. the double's ``http://127.0.0.1:port``)."""
    return kms.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=base_url),
    )


@pytest.fixture
def kms_double() -> Iterator[KmsDouble]:
    with KmsDouble() as double:
        yield double


@pytest.fixture
def kms_client(kms_double: KmsDouble) -> Iterator[kms.KeyManagementServiceClient]:
    client = make_rest_client(kms_double.base_url)
    yield client
    client.transport.close()  # type: ignore[no-untyped-call]
