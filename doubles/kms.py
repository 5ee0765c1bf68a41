"""A local HTTP double of the Cloud KMS REST API v1 (encrypt and decrypt of symmetric keys).

The real ``google-cloud-kms`` client talks to it over its REST transport (see
``tests/plugins/kms.py``). It speaks the wire format of cloudkms.googleapis.com: camelCase JSON,
base64 bytes, int64 checksums as strings, ``{"error": {"code", "message", "status"}}`` on failure.
Inside, it does real AES-256-GCM with the caller's AAD, checks and returns CRC32C checksums, and
writes the key version into the ciphertext, because decrypt names the key, not the version.

Test controls: ``create_key``, ``rotate``, ``disable``/``enable``, ``fail_next`` (answer 5xx),
``delay_next`` (answer late), ``corrupt_next`` (alter a response field after its checksum is
computed, as a bad link would), and ``requests``, the log of calls.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import google_crc32c
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.wrappers import Request, Response

from doubles.server import Served, ServerThread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), the checksum KMS sends beside data in transit."""
    return int(google_crc32c.value(data))


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_INVALID_CIPHERTEXT = "Decryption failed: the ciphertext is invalid."
_HEADER = struct.Struct(">I")  # the key version number, first in every ciphertext
_NONCE_BYTES = 12
_PROTECTION_SOFTWARE = 1  # the client asks for enums as integers ($alt=json;enum-encoding=int)


@dataclass(frozen=True)
class Call:
    rpc: str  # "encrypt", "decrypt", or the unknown path
    name: str  # the resource named in the path
    status: int


@dataclass
class _Key:
    versions: dict[int, bytes] = field(default_factory=dict)
    disabled: set[int] = field(default_factory=set)
    primary: int = 0


class _GoogleError(Exception):
    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS_NAMES.get(code, "UNKNOWN")


class KmsDouble(Served):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._failures: list[int] = []
        self._corruptions: list[str] = []
        self._delays: list[float] = []
        self._server: ServerThread | None = None
        self._stopping = threading.Event()
        self.base_url = ""
        self.requests: list[Call] = []

    # Test controls.

    def create_key(self, project: str, location: str, ring: str, key: str) -> str:
        """A symmetric key with one enabled primary version; returns its resource name."""
        name = f"projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}"
        with self._lock:
            if name in self._keys:
                raise ValueError(f"{name} already exists")
            self._keys[name] = _Key()
        self.rotate(name)
        return name

    def rotate(self, key_name: str) -> str:
        """Add a version and make it primary; returns the version's resource name."""
        with self._lock:
            key = self._keys[key_name]
            number = max(key.versions, default=0) + 1
            key.versions[number] = AESGCM.generate_key(bit_length=256)
            key.primary = number
        return f"{key_name}/cryptoKeyVersions/{number}"

    def disable(self, version_name: str) -> None:
        key, number = self._version(version_name)
        with self._lock:
            key.disabled.add(number)

    def enable(self, version_name: str) -> None:
        key, number = self._version(version_name)
        with self._lock:
            key.disabled.discard(number)

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next ``n`` requests with ``status`` and a Google error body."""
        with self._lock:
            self._failures.extend([status] * n)

    def corrupt_next(self, response_field: str, n: int = 1) -> None:
        """Alter ``response_field`` (camelCase) in the next ``n`` successful responses, after
        the checksums are computed: bytes get a flipped byte, booleans become false, checksums
        are off by one."""
        with self._lock:
            self._corruptions.extend([response_field] * n)

    def delay_next(self, seconds: float, n: int = 1) -> None:
        """Hold the next ``n`` responses for ``seconds``, to trip the caller's timeout."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def calls(self, rpc: str) -> int:
        return sum(1 for c in self.requests if c.rpc == rpc)

    # The service.

    def _version(self, version_name: str) -> tuple[_Key, int]:
        key_name, sep, number = version_name.partition("/cryptoKeyVersions/")
        if (
            not sep
            or key_name not in self._keys
            or int(number) not in self._keys[key_name].versions
        ):
            raise KeyError(version_name)
        return self._keys[key_name], int(number)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self._handle(Request(environ))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        name, _, rpc = request.path.removeprefix("/v1/").rpartition(":")
        status = 200
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        time.sleep(delay)
        try:
            with self._lock:
                if self._failures:
                    status = self._failures.pop(0)
                    raise _GoogleError(status, "The service is currently unavailable.")
            if request.method != "POST" or rpc not in ("encrypt", "decrypt"):
                rpc, name = request.path, ""
                raise _GoogleError(404, f"{request.method} {request.path} is not a KMS method here")
            body = _json_body(request)
            with self._lock:
                answer = (
                    self._encrypt(name, body) if rpc == "encrypt" else self._decrypt(name, body)
                )
                if self._corruptions:
                    _corrupt(answer, self._corruptions.pop(0))
            return Response(json.dumps(answer), content_type="application/json")
        except _GoogleError as err:
            status = err.code
            error = {"code": err.code, "message": err.message, "status": err.status}
            return Response(json.dumps({"error": error}), status, content_type="application/json")
        finally:
            with self._lock:
                self.requests.append(Call(rpc, name, status))

    def _encrypt(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        key_name, sep, pinned = name.partition("/cryptoKeyVersions/")
        key = self._key(key_name)
        number = int(pinned) if sep and pinned.isdigit() else key.primary
        if number not in key.versions:
            raise _GoogleError(404, f"Resource '{name}' was not found")
        plaintext = _bytes(body, "plaintext")
        aad = _bytes(body, "additionalAuthenticatedData")
        plaintext_ok = _check_crc(body, "plaintext", plaintext)
        aad_ok = _check_crc(body, "additionalAuthenticatedData", aad)
        version_name = f"{key_name}/cryptoKeyVersions/{number}"
        self._check_enabled(key, number, version_name)

        header = _HEADER.pack(number)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key.versions[number]).encrypt(nonce, plaintext, header + aad)
        ciphertext = header + nonce + sealed
        return {
            "name": version_name,
            "ciphertext": _b64(ciphertext),
            "ciphertextCrc32c": str(crc32c(ciphertext)),
            "verifiedPlaintextCrc32c": plaintext_ok,
            "verifiedAdditionalAuthenticatedDataCrc32c": aad_ok,
            "protectionLevel": _PROTECTION_SOFTWARE,
        }

    def _decrypt(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(name)
        ciphertext = _bytes(body, "ciphertext")
        aad = _bytes(body, "additionalAuthenticatedData")
        _check_crc(body, "ciphertext", ciphertext)
        _check_crc(body, "additionalAuthenticatedData", aad)
        if len(ciphertext) < _HEADER.size + _NONCE_BYTES + 16:
            raise _GoogleError(400, _INVALID_CIPHERTEXT)
        header = ciphertext[: _HEADER.size]
        (number,) = _HEADER.unpack(header)
        if number not in key.versions:
            raise _GoogleError(400, _INVALID_CIPHERTEXT)
        self._check_enabled(key, number, f"{name}/cryptoKeyVersions/{number}")
        nonce = ciphertext[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            plaintext = AESGCM(key.versions[number]).decrypt(
                nonce, ciphertext[_HEADER.size + _NONCE_BYTES :], header + aad
            )
        except InvalidTag:
            raise _GoogleError(400, _INVALID_CIPHERTEXT) from None
        return {
            "plaintext": _b64(plaintext),
            "plaintextCrc32c": str(crc32c(plaintext)),
            "usedPrimary": number == key.primary,
            "protectionLevel": _PROTECTION_SOFTWARE,
        }

    def _key(self, name: str) -> _Key:
        key = self._keys.get(name)
        if key is None:
            raise _GoogleError(404, f"Resource '{name}' was not found")
        return key

    @staticmethod
    def _check_enabled(key: _Key, number: int, version_name: str) -> None:
        if number in key.disabled:
            raise _GoogleError(
                400,
                f"{version_name} is not enabled, current state is: DISABLED.",
                "FAILED_PRECONDITION",
            )


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise _GoogleError(400, "Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise _GoogleError(400, "Invalid JSON payload received.")
    return body


def _bytes(body: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(body.get(name, ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise _GoogleError(400, f"Invalid value at '{name}' (TYPE_BYTES)") from None


def _check_crc(body: dict[str, Any], name: str, data: bytes) -> bool:
    """True when the caller sent a checksum for ``name`` and it matches; 400 when it does not."""
    sent = body.get(f"{name}Crc32c")
    if sent is None:
        return False
    if int(sent) != crc32c(data):
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        raise _GoogleError(
            400, f"The checksum in field {snake}_crc32c did not match the data in field {snake}."
        )
    return True


def _corrupt(answer: dict[str, Any], response_field: str) -> None:
    value = answer.get(response_field)
    if isinstance(value, bool):
        answer[response_field] = False
    elif response_field.endswith("Crc32c") and value is not None:
        answer[response_field] = str((int(value) + 1) & 0xFFFFFFFF)
    elif isinstance(value, str):
        raw = bytearray(base64.b64decode(value))
        raw[-1] ^= 0x01
        answer[response_field] = _b64(bytes(raw))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
