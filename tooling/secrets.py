"""Secret Manager, for the operator commands that write a secret's value.

The functions never call Secret Manager: they read their secrets as environment variables that
Cloud Functions mounts from pinned versions. Operator commands (the webhook registration) add a
version here and print its number, to be pinned for the next deploy. The secrets themselves are
created by Terraform, with their replication and access bindings; a missing secret is an error
here, never created on the fly. Values never reach a log line or an error message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import google_crc32c
from google.api_core import exceptions as api_exceptions

from shared.errors import OmnirooError

if TYPE_CHECKING:
    from google.cloud import secretmanager

DEADLINE = 30.0


class SecretError(OmnirooError):
    """Secret Manager refused or failed; the message names the secret, never its value."""


def build_client(endpoint: str | None = None) -> secretmanager.SecretManagerServiceClient:
    """The real client; ``endpoint`` points it at a local double (tests only: no credentials)."""
    from google.cloud import secretmanager

    if not endpoint:
        return secretmanager.SecretManagerServiceClient()
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return secretmanager.SecretManagerServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )


class SecretManager:
    def __init__(self, client: secretmanager.SecretManagerServiceClient, project: str) -> None:
        self._client = client
        self.project = project

    def path(self, secret_id: str) -> str:
        return f"projects/{self.project}/secrets/{secret_id}"

    def add_version(self, secret_id: str, value: str) -> str:
        """Store ``value`` as the secret's newest version; returns the version number."""
        data = value.encode()
        checksum = int(google_crc32c.value(data))
        try:
            version = self._client.add_secret_version(
                request={
                    "parent": self.path(secret_id),
                    "payload": {"data": data, "data_crc32c": checksum},
                },
                timeout=DEADLINE,
            )
        except api_exceptions.NotFound:
            raise SecretError(
                f"secret {self.path(secret_id)} does not exist: create it with terraform apply"
            ) from None
        except api_exceptions.GoogleAPICallError as exc:
            raise SecretError(
                f"Secret Manager refused a new version of {self.path(secret_id)}: "
                f"{exc.code} {type(exc).__name__}"
            ) from None
        return str(version.name).rsplit("/", 1)[-1]

    def has_version(self, secret_id: str) -> bool:
        """Whether the secret has an enabled version (its value is not read)."""
        try:
            self._client.get_secret_version(
                request={"name": f"{self.path(secret_id)}/versions/latest"}, timeout=DEADLINE
            )
        except api_exceptions.NotFound:
            return False
        except api_exceptions.GoogleAPICallError as exc:
            raise SecretError(
                f"Secret Manager could not describe {self.path(secret_id)}: "
                f"{exc.code} {type(exc).__name__}"
            ) from None
        return True

    def access(self, secret_id: str, version: str = "latest") -> str:
        """The value of one version, checked against its CRC32C."""
        name = f"{self.path(secret_id)}/versions/{version}"
        try:
            response = self._client.access_secret_version(request={"name": name}, timeout=DEADLINE)
        except api_exceptions.NotFound:
            raise SecretError(f"{name} does not exist") from None
        except api_exceptions.GoogleAPICallError as exc:
            raise SecretError(
                f"Secret Manager refused {name}: {exc.code} {type(exc).__name__}"
            ) from None
        data = bytes(response.payload.data)
        if response.payload.data_crc32c and int(google_crc32c.value(data)) != int(
            response.payload.data_crc32c
        ):
            raise SecretError(f"{name} was corrupted in transit (CRC32C mismatch)")
        return data.decode()
