"""The production key service: Cloud KMS wraps and unwraps data keys with a symmetric CryptoKey.

Every call carries CRC32C checksums both ways and checks what came back, as Google recommends for
end-to-end integrity (https://cloud.google.com/kms/docs/data-integrity-guidelines). Each call has an
explicit timeout and a bounded number of attempts; whatever still fails, including a checksum
mismatch, is a ``KeyServiceError``: callers fail closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import google_crc32c
import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from shared.clock import Clock, SystemClock
from shared.errors import KeyServiceError

if TYPE_CHECKING:
    from google.cloud import kms

# 5xx, 429 and transport failures may pass; anything else (bad AAD, disabled version, no such key,
# permission denied) will answer the same again.
_RETRYABLE: tuple[type[Exception], ...] = (
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.DeadlineExceeded,
    gexc.TooManyRequests,
    requests.ConnectionError,
    requests.Timeout,
    auth_exc.TransportError,
)
_FAILURES: tuple[type[Exception], ...] = (
    gexc.GoogleAPIError,  # GoogleAPICallError, RetryError
    requests.RequestException,
    auth_exc.GoogleAuthError,
)
_BACKOFF_S = 0.2


class CloudKmsKeyService:
    """A ``KeyService`` over one symmetric Cloud KMS CryptoKey.

    ``key_name`` is ``projects/*/locations/*/keyRings/*/cryptoKeys/*``: KMS encrypts with its
    primary version and names that version in the answer, which ``wrap`` returns. ``unwrap``
    refuses a version of any other key rather than ask KMS about it.
    """

    def __init__(
        self,
        client: kms.KeyManagementServiceClient,
        key_name: str,
        timeout: float = 10.0,
        *,
        attempts: int = 3,
        clock: Clock | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._client = client
        self._key_name = key_name
        self._timeout = timeout
        self._attempts = attempts
        self._clock = clock or SystemClock()

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        request = {
            "name": self._key_name,
            "plaintext": data_key,
            "additional_authenticated_data": aad,
            "plaintext_crc32c": crc32c(data_key),
            "additional_authenticated_data_crc32c": crc32c(aad),
        }
        response = self._call("encrypt", self._client.encrypt, request)
        if not response.verified_plaintext_crc32c:
            raise KeyServiceError("Cloud KMS encrypt: the plaintext checksum was not verified")
        if not response.verified_additional_authenticated_data_crc32c:
            raise KeyServiceError("Cloud KMS encrypt: the AAD checksum was not verified")
        if _crc_field(response, "ciphertext_crc32c") != crc32c(response.ciphertext):
            raise KeyServiceError("Cloud KMS encrypt: the ciphertext was corrupted in transit")
        if not response.name.startswith(self._key_name + "/cryptoKeyVersions/"):
            raise KeyServiceError(f"Cloud KMS encrypt answered for another key: {response.name}")
        return bytes(response.ciphertext), str(response.name)

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        # KMS decrypts by key, reading the version from the ciphertext; the stored version still
        # has to belong to our key, or the record was not wrapped by it.
        if not key_version.startswith(self._key_name + "/cryptoKeyVersions/"):
            raise KeyServiceError(f"key version {key_version!r} is not a version of our key")
        request = {
            "name": self._key_name,
            "ciphertext": wrapped,
            "additional_authenticated_data": aad,
            "ciphertext_crc32c": crc32c(wrapped),
            "additional_authenticated_data_crc32c": crc32c(aad),
        }
        response = self._call("decrypt", self._client.decrypt, request)
        if _crc_field(response, "plaintext_crc32c") != crc32c(response.plaintext):
            raise KeyServiceError("Cloud KMS decrypt: the plaintext was corrupted in transit")
        return bytes(response.plaintext)

    def _call(self, rpc: str, method: Callable[..., Any], request: dict[str, Any]) -> Any:
        for attempt in range(1, self._attempts + 1):
            try:
                # retry=None: the client's default retries for up to 60 s; ours are bounded here.
                return method(request=request, retry=None, timeout=self._timeout)
            except _RETRYABLE as err:
                if attempt == self._attempts:
                    raise KeyServiceError(
                        f"Cloud KMS {rpc} failed after {attempt} attempts: {_describe(err)}"
                    ) from err
                self._clock.sleep(_BACKOFF_S * 2 ** (attempt - 1))
            except _FAILURES as err:
                raise KeyServiceError(f"Cloud KMS {rpc} refused: {_describe(err)}") from err
        raise AssertionError("unreachable")  # pragma: no cover


def _describe(err: Exception) -> str:
    # GoogleAPICallError's str() is "<code> <message>"; KMS messages name resources, never data.
    return f"{type(err).__name__}: {err}"


def _crc_field(response: Any, field: str) -> int | None:
    """A wrapped Int64Value of the response, or None when the service left it out."""
    return int(getattr(response, field)) if field in response else None


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), the checksum KMS uses for integrity in transit."""
    return int(google_crc32c.value(data))
