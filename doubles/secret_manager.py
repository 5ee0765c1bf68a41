"""A local HTTP double of the Secret Manager REST API v1: secrets, versions, access.

The real ``google-cloud-secret-manager`` client talks to it over its REST transport (see
``tests/plugins/secret_manager.py``). It speaks the wire format of secretmanager.googleapis.com:
camelCase JSON, base64 payloads, int64 CRC32C checksums as strings, enums as integers (the client
asks for ``enum-encoding=int``), and ``{"error": {"code", "message", "status"}}`` on failure.
It keeps what the real service keeps: secrets by name, numbered versions, the newest enabled one
as ``latest``, and it refuses a payload whose checksum does not match.

Test controls: ``fail_next`` (answer 5xx), ``disable`` a version, ``value`` and ``versions`` to
read what was stored, and ``requests``, the log of calls (method and resource, never a value).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import google_crc32c
from werkzeug.wrappers import Request, Response

from doubles.server import Served, ServerThread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_STATUS_NAMES = {
    400: "FAILED_PRECONDITION",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_ENABLED, _DISABLED = 1, 2  # google.cloud.secretmanager.v1.SecretVersion.State
_CREATED = "2026-11-29T00:00:00.000000Z"


@dataclass(frozen=True)
class Call:
    method: str  # "create", "get", "addVersion", "getVersion", "access", or the unknown path
    name: str  # the resource named in the path
    status: int


@dataclass
class _Secret:
    body: dict[str, Any]
    versions: dict[int, bytes] = field(default_factory=dict)
    disabled: set[int] = field(default_factory=set)


class _GoogleError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SecretManagerDouble(Served):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, _Secret] = {}
        self._failures: list[int] = []
        self._server: ServerThread | None = None
        self._stopping = threading.Event()
        self.base_url = ""
        self.requests: list[Call] = []

    # Test controls.

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def versions(self, secret_name: str) -> list[int]:
        with self._lock:
            return sorted(self._secrets[secret_name].versions)

    def value(self, secret_name: str, version: int | None = None) -> str:
        with self._lock:
            secret = self._secrets[secret_name]
            number = version if version is not None else max(secret.versions)
            return secret.versions[number].decode()

    def disable(self, secret_name: str, version: int) -> None:
        with self._lock:
            self._secrets[secret_name].disabled.add(version)

    # The service.

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self._handle(Request(environ))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = request.path.removeprefix("/v1/")
        name, _, verb = path.partition(":")
        method, status = request.path, 200
        try:
            with self._lock:
                if self._failures:
                    status = self._failures.pop(0)
                    raise _GoogleError(status, "The service is currently unavailable.")
                method, answer = self._route(request, name, verb)
            return Response(json.dumps(answer), content_type="application/json")
        except _GoogleError as err:
            status = err.code
            error = {
                "code": err.code,
                "message": err.message,
                "status": _STATUS_NAMES.get(err.code, "UNKNOWN"),
            }
            return Response(json.dumps({"error": error}), status, content_type="application/json")
        finally:
            with self._lock:
                self.requests.append(Call(method, name, status))

    def _route(self, request: Request, name: str, verb: str) -> tuple[str, dict[str, Any]]:
        parts = name.split("/")
        is_secret = len(parts) == 4 and parts[0] == "projects" and parts[2] == "secrets"
        is_version = len(parts) == 6 and parts[2] == "secrets" and parts[4] == "versions"
        if request.method == "POST" and len(parts) == 3 and parts[2] == "secrets" and not verb:
            return "create", self._create(name, request)
        if request.method == "GET" and is_secret and not verb:
            return "get", self._secret(name).body
        if request.method == "POST" and is_secret and verb == "addVersion":
            return "addVersion", self._add_version(name, _json_body(request))
        if request.method == "GET" and is_version and not verb:
            return "getVersion", self._version_body(*self._resolve(name))
        if request.method == "GET" and is_version and verb == "access":
            secret_name, number = self._resolve(name, access=True)
            data = self._secrets[secret_name].versions[number]
            return "access", {
                "name": f"{secret_name}/versions/{number}",
                "payload": {
                    "data": base64.b64encode(data).decode(),
                    "dataCrc32c": str(google_crc32c.value(data)),
                },
            }
        raise _GoogleError(
            404, f"{request.method} {request.path} is not a Secret Manager method here"
        )

    def _create(self, parent: str, request: Request) -> dict[str, Any]:
        secret_id = request.args.get("secretId", "")
        if not secret_id:
            raise _GoogleError(400, "secret_id is required")
        name = f"{parent}/{secret_id}"
        if name in self._secrets:
            raise _GoogleError(409, f"Secret [{name}] already exists.")
        body = _json_body(request)
        if "replication" not in body:
            raise _GoogleError(400, "Secret.replication is required")
        secret = {
            "name": name,
            "replication": body["replication"],
            "createTime": _CREATED,
            "labels": body.get("labels", {}),
            "etag": '"1"',
        }
        self._secrets[name] = _Secret(secret)
        return secret

    def _secret(self, name: str) -> _Secret:
        if name not in self._secrets:
            raise _GoogleError(404, f"Secret [{name}] not found or has no versions.")
        return self._secrets[name]

    def _add_version(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        secret = self._secret(name)
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise _GoogleError(400, "payload is required")
        try:
            data = base64.b64decode(payload.get("data", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise _GoogleError(400, "Invalid value at 'payload.data' (TYPE_BYTES)") from None
        sent = payload.get("dataCrc32c")
        if sent is not None and int(sent) != google_crc32c.value(data):
            raise _GoogleError(400, "Checksum mismatch between the payload and data_crc32c.")
        number = max(secret.versions, default=0) + 1
        secret.versions[number] = data
        return self._version_body(name, number)

    def _resolve(self, version_name: str, access: bool = False) -> tuple[str, int]:
        secret_name, _, wanted = version_name.partition("/versions/")
        secret = self._secret(secret_name)
        if wanted == "latest":
            enabled = [n for n in secret.versions if n not in secret.disabled]
            if not enabled:
                raise _GoogleError(404, f"Secret [{secret_name}] not found or has no versions.")
            return secret_name, max(enabled)
        if not wanted.isdigit() or int(wanted) not in secret.versions:
            raise _GoogleError(404, f"Secret Version [{version_name}] not found.")
        number = int(wanted)
        if access and number in secret.disabled:
            raise _GoogleError(400, f"Secret Version [{version_name}] is in DISABLED state.")
        return secret_name, number

    def _version_body(self, secret_name: str, number: int) -> dict[str, Any]:
        state = _DISABLED if number in self._secrets[secret_name].disabled else _ENABLED
        return {
            "name": f"{secret_name}/versions/{number}",
            "createTime": _CREATED,
            "state": state,
            "clientSpecifiedPayloadChecksum": True,
        }


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise _GoogleError(400, "Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise _GoogleError(400, "Invalid JSON payload received.")
    return body
