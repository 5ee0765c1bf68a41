"""The KeyService contract, run against every adapter: the local key file and Cloud KMS.

Cloud KMS is the real ``google-cloud-kms`` client over its REST transport, against the local KMS
double. After the contract come the checks only the Cloud KMS adapter has: bounded retries,
timeouts, and CRC32C integrity of what the service answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from google.cloud import kms

from doubles.kms import KmsDouble
from shared.clock import FakeClock
from shared.crypto.cloud_kms import CloudKmsKeyService, crc32c
from shared.crypto.keys import KeyService
from shared.crypto.local_keys import LocalKeyFile
from shared.errors import KeyServiceError
from tests.plugins.kms import make_rest_client

AAD = b"omniroo/v1/proj_7f3a/hubspot.refresh_token"


@dataclass
class Adapter:
    """A key service plus the levers a test needs on whatever stands behind it."""

    keys: KeyService
    rotate: Callable[[], str]
    disable: Callable[[str], None]
    break_service: Callable[[], None]  # from now on, the service fails
    foreign_version: str  # a version name this service does not hold


def local_adapter(tmp_path: Path) -> Adapter:
    keys = LocalKeyFile(tmp_path / "keys.json")
    return Adapter(
        keys=keys,
        rotate=keys.rotate,
        disable=keys.disable,
        break_service=keys.path.unlink,  # an unreadable key file
        foreign_version="99",
    )


def cloud_kms_adapter(double: KmsDouble, client: kms.KeyManagementServiceClient) -> Adapter:
    key = double.create_key("omniroo-test", "europe-west1", "omniroo", "tokens")
    other = double.create_key("omniroo-test", "europe-west1", "omniroo", "other")
    return Adapter(
        keys=CloudKmsKeyService(client, key, timeout=5.0, clock=FakeClock()),
        rotate=lambda: double.rotate(key),
        disable=double.disable,
        break_service=lambda: double.fail_next(100, status=503),
        foreign_version=f"{other}/cryptoKeyVersions/1",
    )


@pytest.fixture(params=["local_key_file", "cloud_kms"])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Adapter:
    if request.param == "local_key_file":
        return local_adapter(tmp_path)
    return cloud_kms_adapter(
        request.getfixturevalue("kms_double"), request.getfixturevalue("kms_client")
    )


def data_key() -> bytes:
    return os.urandom(32)


# The contract.


def test_wrap_then_unwrap_returns_the_data_key(adapter: Adapter) -> None:
    key = data_key()
    wrapped, version = adapter.keys.wrap(key, AAD)

    assert key not in wrapped
    assert adapter.keys.unwrap(wrapped, AAD, version) == key


def test_wrapping_the_same_key_twice_gives_different_blobs(adapter: Adapter) -> None:
    key = data_key()
    assert adapter.keys.wrap(key, AAD)[0] != adapter.keys.wrap(key, AAD)[0]


@pytest.mark.parametrize("aad", [b"omniroo/v1/proj_other/hubspot.refresh_token", b""])
def test_unwrap_with_other_associated_data_fails(adapter: Adapter, aad: bytes) -> None:
    key = data_key()
    wrapped, version = adapter.keys.wrap(key, AAD)

    with pytest.raises(KeyServiceError) as err:
        adapter.keys.unwrap(wrapped, aad, version)
    assert key.hex() not in str(err.value)


def test_a_tampered_wrapped_key_fails(adapter: Adapter) -> None:
    wrapped, version = adapter.keys.wrap(data_key(), AAD)
    for i in (0, len(wrapped) // 2, len(wrapped) - 1):
        tampered = wrapped[:i] + bytes([wrapped[i] ^ 0x80]) + wrapped[i + 1 :]
        with pytest.raises(KeyServiceError):
            adapter.keys.unwrap(tampered, AAD, version)


def test_after_rotation_new_wraps_use_the_new_version_and_old_wraps_still_unwrap(
    adapter: Adapter,
) -> None:
    old_key = data_key()
    old_wrapped, old_version = adapter.keys.wrap(old_key, AAD)

    rotated = adapter.rotate()
    new_key = data_key()
    new_wrapped, new_version = adapter.keys.wrap(new_key, AAD)

    assert new_version == rotated != old_version
    assert adapter.keys.unwrap(old_wrapped, AAD, old_version) == old_key
    assert adapter.keys.unwrap(new_wrapped, AAD, new_version) == new_key


def test_a_disabled_version_fails_closed(adapter: Adapter) -> None:
    old_wrapped, old_version = adapter.keys.wrap(data_key(), AAD)
    adapter.rotate()
    adapter.disable(old_version)

    with pytest.raises(KeyServiceError, match=r"(?i)disabled"):
        adapter.keys.unwrap(old_wrapped, AAD, old_version)
    key = data_key()
    wrapped, version = adapter.keys.wrap(key, AAD)
    assert adapter.keys.unwrap(wrapped, AAD, version) == key


def test_a_disabled_primary_refuses_to_wrap(adapter: Adapter) -> None:
    _, version = adapter.keys.wrap(data_key(), AAD)
    adapter.disable(version)

    with pytest.raises(KeyServiceError, match=r"(?i)disabled"):
        adapter.keys.wrap(data_key(), AAD)


def test_an_unknown_version_fails(adapter: Adapter) -> None:
    wrapped, _ = adapter.keys.wrap(data_key(), AAD)
    with pytest.raises(KeyServiceError):
        adapter.keys.unwrap(wrapped, AAD, adapter.foreign_version)


def test_a_failing_key_service_raises_key_service_error(adapter: Adapter) -> None:
    wrapped, version = adapter.keys.wrap(data_key(), AAD)
    adapter.break_service()

    with pytest.raises(KeyServiceError):
        adapter.keys.wrap(data_key(), AAD)
    with pytest.raises(KeyServiceError):
        adapter.keys.unwrap(wrapped, AAD, version)


# Cloud KMS only: retries, timeouts, integrity.


@pytest.fixture
def key_name(kms_double: KmsDouble) -> str:
    return kms_double.create_key("omniroo-test", "europe-west1", "omniroo", "tokens")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cloud(
    kms_client: kms.KeyManagementServiceClient, key_name: str, clock: FakeClock
) -> CloudKmsKeyService:
    return CloudKmsKeyService(kms_client, key_name, timeout=5.0, clock=clock)


def test_crc32c_matches_the_castagnoli_check_values() -> None:
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720, B.4
    assert crc32c(b"\xff" * 32) == 0x62A8AB43


def test_the_wrapped_key_version_is_the_full_kms_version_name(
    cloud: CloudKmsKeyService, key_name: str
) -> None:
    assert cloud.wrap(data_key(), AAD)[1] == f"{key_name}/cryptoKeyVersions/1"


def test_transient_failures_are_retried_with_backoff_within_the_bound(
    cloud: CloudKmsKeyService, kms_double: KmsDouble, clock: FakeClock
) -> None:
    kms_double.fail_next(2, status=503)
    key = data_key()
    wrapped, version = cloud.wrap(key, AAD)

    assert kms_double.calls("encrypt") == 3
    assert clock.sleeps == [0.2, 0.4]
    kms_double.fail_next(1, status=429)
    assert cloud.unwrap(wrapped, AAD, version) == key


def test_retries_stop_after_the_attempts_bound(
    cloud: CloudKmsKeyService, kms_double: KmsDouble
) -> None:
    kms_double.fail_next(3, status=500)
    with pytest.raises(KeyServiceError, match="after 3 attempts"):
        cloud.wrap(data_key(), AAD)
    assert kms_double.calls("encrypt") == 3


def test_a_refusal_is_not_retried(cloud: CloudKmsKeyService, kms_double: KmsDouble) -> None:
    wrapped, version = cloud.wrap(data_key(), AAD)
    with pytest.raises(KeyServiceError, match="ciphertext is invalid"):
        cloud.unwrap(wrapped, b"other", version)
    assert kms_double.calls("decrypt") == 1


def test_a_slow_answer_times_out(
    kms_client: kms.KeyManagementServiceClient, key_name: str, kms_double: KmsDouble
) -> None:
    cloud = CloudKmsKeyService(kms_client, key_name, timeout=0.2, attempts=1)
    kms_double.delay_next(1.0)
    with pytest.raises(KeyServiceError, match="Timeout"):
        cloud.wrap(data_key(), AAD)


def test_an_unreachable_service_raises_key_service_error(key_name: str) -> None:
    with KmsDouble() as gone:
        url = gone.base_url
    cloud = CloudKmsKeyService(make_rest_client(url), key_name, timeout=1.0, clock=FakeClock())
    with pytest.raises(KeyServiceError, match="ConnectionError"):
        cloud.wrap(data_key(), AAD)


@pytest.mark.parametrize(
    ("response_field", "message"),
    [
        ("ciphertext", "corrupted in transit"),
        ("ciphertextCrc32c", "corrupted in transit"),
        ("verifiedPlaintextCrc32c", "plaintext checksum was not verified"),
        ("verifiedAdditionalAuthenticatedDataCrc32c", "AAD checksum was not verified"),
    ],
)
def test_an_encrypt_answer_failing_its_integrity_checks_is_refused(
    cloud: CloudKmsKeyService, kms_double: KmsDouble, response_field: str, message: str
) -> None:
    kms_double.corrupt_next(response_field)
    with pytest.raises(KeyServiceError, match=message):
        cloud.wrap(data_key(), AAD)


@pytest.mark.parametrize("response_field", ["plaintext", "plaintextCrc32c"])
def test_a_decrypt_answer_failing_its_integrity_check_is_refused(
    cloud: CloudKmsKeyService, kms_double: KmsDouble, response_field: str
) -> None:
    wrapped, version = cloud.wrap(data_key(), AAD)
    kms_double.corrupt_next(response_field)
    with pytest.raises(KeyServiceError, match="corrupted in transit"):
        cloud.unwrap(wrapped, AAD, version)


def test_a_version_of_another_key_is_refused_without_asking_kms(
    cloud: CloudKmsKeyService, kms_double: KmsDouble
) -> None:
    wrapped, _ = cloud.wrap(data_key(), AAD)
    with pytest.raises(KeyServiceError, match="not a version of our key"):
        cloud.unwrap(
            wrapped, AAD, "projects/x/locations/y/keyRings/z/cryptoKeys/k/cryptoKeyVersions/1"
        )
    assert kms_double.calls("decrypt") == 0


def test_the_double_rejects_a_request_whose_checksum_does_not_match(
    kms_client: kms.KeyManagementServiceClient, key_name: str
) -> None:
    with pytest.raises(gexc.BadRequest, match="plaintext_crc32c did not match"):
        kms_client.encrypt(
            request={"name": key_name, "plaintext": b"k" * 32, "plaintext_crc32c": 1},
            retry=None,
            timeout=5.0,
        )


def test_the_double_answers_an_unknown_key_with_not_found(
    kms_client: kms.KeyManagementServiceClient, kms_double: KmsDouble
) -> None:
    missing = "projects/p/locations/l/keyRings/r/cryptoKeys/missing"
    with pytest.raises(gexc.NotFound, match="was not found"):
        kms_client.decrypt(
            request={"name": missing, "ciphertext": b"x" * 40}, retry=None, timeout=5.0
        )
    assert kms_double.requests[-1].status == 404
