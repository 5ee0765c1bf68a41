"""Envelope encryption over the local key file: RELIABILITY row 43 and the stored format."""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from google.cloud import kms

from doubles.kms import KmsDouble
from shared.crypto.cloud_kms import CloudKmsKeyService
from shared.crypto.envelope import CorruptSecret, Envelope, Sealed, associated_data
from shared.crypto.local_keys import LocalKeyFile
from shared.errors import ConfigError, KeyServiceError

PROJECT = "proj_7f3a"
FIELD = "hubspot.refresh_token"


class SpyKeys:
    """Records every data key handed to the key service, to prove each seal draws a new one."""

    def __init__(self, inner: LocalKeyFile) -> None:
        self.inner = inner
        self.data_keys: list[bytes] = []

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        self.data_keys.append(data_key)
        return self.inner.wrap(data_key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        return self.inner.unwrap(wrapped, aad, key_version)


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyFile:
    return LocalKeyFile(tmp_path / "secrets" / "keys.json")


@pytest.fixture
def envelope(keys: LocalKeyFile) -> Envelope:
    return Envelope(keys)


def token() -> str:
    return f"pat-na1-{uuid.uuid4()}"


def flipped(raw: bytes, i: int) -> bytes:
    return raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1 :]


# Row 43: 10k tokens, rotation, tampering.


def test_ten_thousand_seals_use_unique_nonces_and_data_keys_and_never_show_plaintext(
    keys: LocalKeyFile,
) -> None:
    spy = SpyKeys(keys)
    envelope = Envelope(spy)
    tokens = [token() for _ in range(10_000)]

    sealed = [envelope.seal_text(t, PROJECT, FIELD) for t in tokens]

    nonces = [s.nonce for s in sealed]
    assert all(len(n) == 12 for n in nonces)
    assert len(set(nonces)) == 10_000
    assert all(len(k) == 32 for k in spy.data_keys)
    assert len(set(spy.data_keys)) == 10_000
    assert len({s.wrapped_key for s in sealed}) == 10_000
    for t, s, data_key in zip(tokens, sealed, spy.data_keys, strict=True):
        doc = s.to_doc()
        text = json.dumps(doc)
        assert t not in text
        stored = b"".join(base64.b64decode(doc[f]) for f in ("ciphertext", "nonce", "wrapped_key"))
        assert t.encode() not in stored
        assert data_key not in stored
    assert [envelope.open_text(s, PROJECT, FIELD) for s in sealed] == tokens


def test_after_kek_rotation_new_seals_use_the_new_version_and_old_ones_still_open(
    keys: LocalKeyFile, envelope: Envelope
) -> None:
    tokens = [token() for _ in range(100)]
    before = [envelope.seal_text(t, PROJECT, FIELD) for t in tokens]

    assert keys.rotate() == "2"
    after = envelope.seal_text("new", PROJECT, FIELD)

    assert {s.key_version for s in before} == {"1"}
    assert after.key_version == "2"
    assert [envelope.open_text(s, PROJECT, FIELD) for s in before] == tokens
    assert envelope.open_text(after, PROJECT, FIELD) == "new"


def test_a_disabled_key_version_fails_closed(keys: LocalKeyFile, envelope: Envelope) -> None:
    old = envelope.seal_text(token(), PROJECT, FIELD)
    keys.rotate()
    keys.disable("1")

    with pytest.raises(KeyServiceError, match="disabled"):
        envelope.open(old, PROJECT, FIELD)
    assert envelope.open_text(envelope.seal_text("x", PROJECT, FIELD), PROJECT, FIELD) == "x"


@pytest.mark.parametrize("part", ["ciphertext", "nonce"])
def test_flipping_any_byte_of_ciphertext_or_nonce_raises_invalid_tag(
    envelope: Envelope, part: str
) -> None:
    sealed = envelope.seal_text(token(), PROJECT, FIELD)
    raw: bytes = getattr(sealed, part)
    for i in range(len(raw)):
        with pytest.raises(InvalidTag):
            envelope.open(replace(sealed, **{part: flipped(raw, i)}), PROJECT, FIELD)


def test_flipping_any_byte_of_the_wrapped_key_is_refused_by_the_key_service(
    envelope: Envelope,
) -> None:
    sealed = envelope.seal_text(token(), PROJECT, FIELD)
    for i in range(len(sealed.wrapped_key)):
        with pytest.raises(KeyServiceError):
            envelope.open(
                replace(sealed, wrapped_key=flipped(sealed.wrapped_key, i)), PROJECT, FIELD
            )


def test_a_truncated_wrapped_key_or_unknown_key_version_is_refused(envelope: Envelope) -> None:
    sealed = envelope.seal_text(token(), PROJECT, FIELD)
    with pytest.raises(KeyServiceError, match="too short"):
        envelope.open(replace(sealed, wrapped_key=sealed.wrapped_key[:20]), PROJECT, FIELD)
    with pytest.raises(KeyServiceError, match="not in"):
        envelope.open(replace(sealed, key_version="9"), PROJECT, FIELD)


def test_a_ciphertext_paired_with_another_records_wrapped_key_raises_invalid_tag(
    envelope: Envelope,
) -> None:
    a = envelope.seal_text(token(), PROJECT, FIELD)
    b = envelope.seal_text(token(), PROJECT, FIELD)
    with pytest.raises(InvalidTag):
        envelope.open(replace(a, wrapped_key=b.wrapped_key), PROJECT, FIELD)


@pytest.mark.parametrize(
    ("project_id", "field"),
    [("proj_other", FIELD), (PROJECT, "hubspot.access_token"), ("proj_other", "x")],
)
def test_opening_under_another_project_or_field_is_refused(
    envelope: Envelope, project_id: str, field: str
) -> None:
    sealed = envelope.seal_text(token(), PROJECT, FIELD)
    # The key layer carries the same associated data and refuses first.
    with pytest.raises(KeyServiceError):
        envelope.open(sealed, project_id, field)


@pytest.mark.parametrize(
    ("project_id", "field"), [("a/b", "c"), ("a", "b/c"), ("", "f"), ("p", "")]
)
def test_associated_data_refuses_ambiguous_names(project_id: str, field: str) -> None:
    with pytest.raises(ValueError, match="without '/'"):
        associated_data(project_id, field)


def test_text_helpers_round_trip_unicode(envelope: Envelope) -> None:
    text = "jeton-ñ-東京-🔑"
    assert envelope.open_text(envelope.seal_text(text, PROJECT, FIELD), PROJECT, FIELD) == text


def test_the_envelope_over_cloud_kms_rotates_and_refuses_tampering(
    kms_double: KmsDouble, kms_client: kms.KeyManagementServiceClient
) -> None:
    key_name = kms_double.create_key("omniroo-test", "europe-west1", "omniroo", "tokens")
    envelope = Envelope(CloudKmsKeyService(kms_client, key_name, timeout=5.0))
    tokens = [token() for _ in range(50)]
    before = [envelope.seal_text(t, PROJECT, FIELD) for t in tokens]
    assert len({s.nonce for s in before}) == len({s.wrapped_key for s in before}) == 50

    kms_double.rotate(key_name)
    after = envelope.seal_text("new", PROJECT, FIELD)

    assert after.key_version == f"{key_name}/cryptoKeyVersions/2"
    assert [envelope.open_text(s, PROJECT, FIELD) for s in before] == tokens
    sealed = before[0]
    with pytest.raises(InvalidTag):
        envelope.open(replace(sealed, ciphertext=flipped(sealed.ciphertext, 0)), PROJECT, FIELD)
    with pytest.raises(InvalidTag):
        envelope.open(replace(sealed, nonce=flipped(sealed.nonce, 11)), PROJECT, FIELD)
    with pytest.raises(KeyServiceError, match="ciphertext is invalid"):
        envelope.open(replace(sealed, wrapped_key=flipped(sealed.wrapped_key, 20)), PROJECT, FIELD)
    with pytest.raises(KeyServiceError, match="ciphertext is invalid"):
        envelope.open(sealed, "proj_other", FIELD)
    kms_double.disable(sealed.key_version)
    with pytest.raises(KeyServiceError, match="DISABLED"):
        envelope.open(sealed, PROJECT, FIELD)


# The stored document.


def test_the_sealed_doc_round_trips_through_json(envelope: Envelope) -> None:
    t = token()
    doc = envelope.seal_text(t, PROJECT, FIELD).to_doc()

    back = Sealed.from_doc(json.loads(json.dumps(doc)))

    assert doc["v"] == 1
    assert set(doc) == {"v", "ciphertext", "nonce", "wrapped_key", "key_version"}
    assert all(isinstance(value, str) for name, value in doc.items() if name != "v")
    assert back.to_doc() == doc
    assert envelope.open_text(back, PROJECT, FIELD) == t


def _good_doc() -> dict[str, object]:
    return {
        "v": 1,
        "ciphertext": base64.b64encode(b"c" * 20).decode(),
        "nonce": base64.b64encode(b"n" * 12).decode(),
        "wrapped_key": base64.b64encode(b"w" * 60).decode(),
        "key_version": "1",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 2}, "format"),
        ({"v": True}, "format"),
        ({"v": "1"}, "format"),
        ({"nonce": base64.b64encode(b"n" * 16).decode()}, "nonce is 16 bytes"),
        ({"ciphertext": base64.b64encode(b"short").decode()}, "shorter than its tag"),
        ({"wrapped_key": ""}, "wrapped key is empty"),
        ({"key_version": ""}, "key version is empty"),
        ({"key_version": 1}, "key_version is not a string"),
        ({"ciphertext": "not base64!"}, "ciphertext is not valid base64"),
        ({"nonce": None}, "nonce is not a string"),
        ({"extra": "x"}, "fields"),
    ],
)
def test_a_malformed_doc_is_corrupt_secret(change: dict[str, object], message: str) -> None:
    assert Sealed.from_doc(_good_doc())  # the baseline is valid
    with pytest.raises(CorruptSecret, match=message):
        Sealed.from_doc(_good_doc() | change)


def test_a_doc_missing_a_field_is_corrupt_secret() -> None:
    doc = _good_doc()
    del doc["wrapped_key"]
    with pytest.raises(CorruptSecret, match="fields"):
        Sealed.from_doc(doc)


# The local key file.


def test_the_key_file_is_created_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "keys.json"
    LocalKeyFile(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc["primary"] == "1"
    assert doc["versions"]["1"]["state"] == "enabled"
    assert len(base64.b64decode(doc["versions"]["1"]["key"])) == 32
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no temporary file left


def test_rotation_rewrites_the_key_file_0600(keys: LocalKeyFile) -> None:
    keys.rotate()
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600
    assert json.loads(keys.path.read_text())["primary"] == "2"


def test_an_existing_key_file_is_reused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = LocalKeyFile(path)
    sealed = Envelope(first).seal_text("t", PROJECT, FIELD)
    assert Envelope(LocalKeyFile(path)).open_text(sealed, PROJECT, FIELD) == "t"


def test_a_rotation_or_disable_by_another_process_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    mine, theirs = LocalKeyFile(path), LocalKeyFile(path)
    envelope = Envelope(mine)
    old = envelope.seal_text("t", PROJECT, FIELD)

    theirs.rotate()
    assert envelope.seal_text("t", PROJECT, FIELD).key_version == "2"
    theirs.disable("1")
    with pytest.raises(KeyServiceError, match="disabled"):
        envelope.open(old, PROJECT, FIELD)
    theirs.enable("1")
    assert envelope.open_text(old, PROJECT, FIELD) == "t"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keys.json"
    LocalKeyFile(path)
    os.chmod(path, mode)

    with pytest.raises(ConfigError) as err:
        LocalKeyFile(path)
    assert str(path) in str(err.value)
    assert f"chmod 600 {path}" in str(err.value)


def test_loosened_permissions_while_running_fail_closed(keys: LocalKeyFile) -> None:
    os.chmod(keys.path, 0o644)
    with pytest.raises(KeyServiceError, match="chmod 600"):
        keys.wrap(os.urandom(32), b"aad")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"primary": "1", "versions": {}}',
        '{"primary": "2", "versions": {"1": {"key": "%s", "state": "enabled"}}}',
        '{"primary": "1", "versions": {"1": {"key": "%s", "state": "maybe"}}}',
        '{"primary": "1", "versions": {"1": {"key": "c2hvcnQ=", "state": "enabled"}}}',
        '{"primary": "1", "versions": {"1": {"key": "!!", "state": "enabled"}}}',
        '{"primary": "x", "versions": {"x": {"key": "%s", "state": "enabled"}}}',
    ],
)
def test_a_malformed_key_file_is_a_config_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys.json"
    key = base64.b64encode(os.urandom(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content.replace("%s", key).encode())
    os.close(fd)

    with pytest.raises(ConfigError, match="malformed") as err:
        LocalKeyFile(path)
    assert str(path) in str(err.value)
    assert key not in str(err.value)


def test_a_key_file_removed_while_running_fails_closed_and_is_not_recreated(
    keys: LocalKeyFile, envelope: Envelope
) -> None:
    sealed = envelope.seal_text("t", PROJECT, FIELD)
    keys.path.unlink()

    with pytest.raises(KeyServiceError, match="unreadable"):
        envelope.open(sealed, PROJECT, FIELD)
    with pytest.raises(KeyServiceError, match="unreadable"):
        envelope.seal_text("t", PROJECT, FIELD)
    assert not keys.path.exists()


def test_disabling_an_unknown_version_is_a_config_error(keys: LocalKeyFile) -> None:
    with pytest.raises(ConfigError, match="'7' is not in"):
        keys.disable("7")
