"""Envelope encryption of one secret value, and the stored form of the result.

Each seal draws a fresh 256-bit data key, encrypts the value with AES-256-GCM under a random 96-bit
nonce, and has the key service wrap the data key. Both layers take the same associated data,
``omniroo/v1/<project id>/<field>``, so a sealed value opens only where it was sealed: copied to
another project or field, the key service refuses to unwrap its data key.

Failures, precisely:

* ciphertext or nonce altered → ``cryptography.exceptions.InvalidTag`` (the data layer);
* wrapped key altered, another project or field, disabled or unknown key version, key service
  down → ``KeyServiceError`` (the key layer refuses first; no plaintext fallback);
* a stored document that is not a well-formed sealed value → ``CorruptSecret``.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto.keys import KeyService
from shared.errors import OmnirooError

FORMAT_VERSION: Literal[1] = 1
NONCE_BYTES = 12
_TAG_BYTES = 16
_AAD_PREFIX = b"omniroo/v1/"
_DOC_KEYS = frozenset({"v", "ciphertext", "nonce", "wrapped_key", "key_version"})


class CorruptSecret(OmnirooError):
    """A stored sealed value is malformed (not a tampering proof: that is ``InvalidTag``)."""


class SealedDoc(TypedDict):
    """The stored form: bytes as standard base64, plus a format tag."""

    v: Literal[1]
    ciphertext: str
    nonce: str
    wrapped_key: str
    key_version: str


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes  # AES-256-GCM output, tag included
    nonce: bytes
    wrapped_key: bytes
    key_version: str

    def __post_init__(self) -> None:
        if len(self.nonce) != NONCE_BYTES:
            raise CorruptSecret(f"nonce is {len(self.nonce)} bytes, not {NONCE_BYTES}")
        if len(self.ciphertext) < _TAG_BYTES:
            raise CorruptSecret("ciphertext is shorter than its tag")
        if not self.wrapped_key:
            raise CorruptSecret("wrapped key is empty")
        if not self.key_version:
            raise CorruptSecret("key version is empty")

    def to_doc(self) -> SealedDoc:
        return {
            "v": FORMAT_VERSION,
            "ciphertext": _b64(self.ciphertext),
            "nonce": _b64(self.nonce),
            "wrapped_key": _b64(self.wrapped_key),
            "key_version": self.key_version,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, object]) -> Sealed:
        """Parse a stored document; ``CorruptSecret`` says what is wrong, never quoting values."""
        if not isinstance(doc, Mapping):
            raise CorruptSecret("sealed value is not a mapping")
        if set(doc) != _DOC_KEYS:
            raise CorruptSecret(
                f"sealed value has fields {sorted(doc)}, expected {sorted(_DOC_KEYS)}"
            )
        v = doc["v"]
        # type(), not isinstance(): True == 1, and a boolean tag is not our format.
        if type(v) is not int or v != FORMAT_VERSION:
            raise CorruptSecret(f"sealed value has format {v!r}, expected {FORMAT_VERSION}")
        key_version = doc["key_version"]
        if not isinstance(key_version, str):
            raise CorruptSecret("key_version is not a string")
        return cls(
            ciphertext=_unb64(doc, "ciphertext"),
            nonce=_unb64(doc, "nonce"),
            wrapped_key=_unb64(doc, "wrapped_key"),
            key_version=key_version,
        )


class Envelope:
    """Seals and opens secret values with data keys wrapped by ``keys``."""

    def __init__(self, keys: KeyService) -> None:
        self._keys = keys

    def seal(self, plaintext: bytes, project_id: str, field: str) -> Sealed:
        aad = associated_data(project_id, field)
        # The data key lives only in this frame; it leaves it wrapped.
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped_key, key_version = self._keys.wrap(data_key, aad)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
        return Sealed(ciphertext, nonce, wrapped_key, key_version)

    def open(self, sealed: Sealed, project_id: str, field: str) -> bytes:
        aad = associated_data(project_id, field)
        data_key = self._keys.unwrap(sealed.wrapped_key, aad, sealed.key_version)
        return AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, aad)

    def seal_text(self, text: str, project_id: str, field: str) -> Sealed:
        return self.seal(text.encode("utf-8"), project_id, field)

    def open_text(self, sealed: Sealed, project_id: str, field: str) -> str:
        return self.open(sealed, project_id, field).decode("utf-8")


def associated_data(project_id: str, field: str) -> bytes:
    """``omniroo/v1/<project id>/<field>``; a "/" in either part is refused, else two
    (project, field) pairs could share associated data and a ciphertext could move between them.
    """
    for name, part in (("project_id", project_id), ("field", field)):
        if not part or "/" in part:
            raise ValueError(f"{name} must be non-empty and without '/': {part!r}")
    return _AAD_PREFIX + project_id.encode("utf-8") + b"/" + field.encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(doc: Mapping[str, object], name: str) -> bytes:
    value = doc[name]
    if not isinstance(value, str):
        raise CorruptSecret(f"{name} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CorruptSecret(f"{name} is not valid base64") from None
