"""The local key service: a key-encryption key kept in a 0600 JSON file, for the embedded mode.

The file holds numbered key versions, one of them primary::

    {"primary": "1", "versions": {"1": {"key": "<base64 256-bit>", "state": "enabled"}}}

It is created on first use and never recreated afterwards: a file that goes missing while running is
a failure (``KeyServiceError``), because a fresh key could not open anything sealed before.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.errors import ConfigError, KeyServiceError

_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_ENABLED = "enabled"
_DISABLED = "disabled"


@dataclass(frozen=True)
class _Version:
    aead: AESGCM
    enabled: bool


@dataclass(frozen=True)
class _Loaded:
    identity: tuple[int, int, int, int]  # changes when the file is replaced, edited or chmod-ed
    primary: str
    versions: dict[str, _Version]


class LocalKeyFile:
    """A ``KeyService`` over a local key file; see the module docstring for the format."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            self._create()
        self._loaded = self._load()

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        loaded = self._current()
        version = loaded.versions[loaded.primary]
        if not version.enabled:
            raise KeyServiceError(
                f"primary key version {loaded.primary} of {self.path} is disabled"
            )
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + version.aead.encrypt(nonce, data_key, aad), loaded.primary

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        version = self._current().versions.get(key_version)
        if version is None:
            raise KeyServiceError(f"key version {key_version!r} is not in {self.path}")
        if not version.enabled:
            raise KeyServiceError(f"key version {key_version} of {self.path} is disabled")
        if len(wrapped) < _NONCE_BYTES + _TAG_BYTES:
            raise KeyServiceError("wrapped key is too short")
        try:
            return version.aead.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyServiceError(
                f"wrapped key does not open with key version {key_version} "
                "(tampered, or associated data of another record)"
            ) from None

    def rotate(self) -> str:
        """Add a new key version and make it primary; returns it. Older versions still unwrap."""
        with self._locked() as doc:
            new = str(max(int(v) for v in doc["versions"]) + 1)
            doc["versions"][new] = {
                "key": _b64(AESGCM.generate_key(bit_length=256)),
                "state": _ENABLED,
            }
            doc["primary"] = new
        return new

    def disable(self, version: str) -> None:
        """Refuse wraps and unwraps with this version from now on (fail closed)."""
        self._set_state(version, _DISABLED)

    def enable(self, version: str) -> None:
        """Undo ``disable``."""
        self._set_state(version, _ENABLED)

    def _set_state(self, version: str, state: str) -> None:
        with self._locked() as doc:
            if version not in doc["versions"]:
                known = ", ".join(sorted(doc["versions"], key=int))
                raise ConfigError(f"key version {version!r} is not in {self.path} (known: {known})")
            doc["versions"][version]["state"] = state

    def _current(self) -> _Loaded:
        """The keys as on disk now: another process may have rotated or disabled a version."""
        try:
            st = os.stat(self.path)
        except OSError as err:
            raise KeyServiceError(f"key file {self.path} is unreadable: {err.strerror}") from None
        if _identity(st) != self._loaded.identity:
            try:
                self._loaded = self._load()
            except ConfigError as err:
                raise KeyServiceError(str(err)) from None
        return self._loaded

    def _load(self) -> _Loaded:
        st, doc = self._read()
        versions = {
            name: _Version(AESGCM(_unb64(v["key"])), v["state"] == _ENABLED)
            for name, v in doc["versions"].items()
        }
        return _Loaded(_identity(st), doc["primary"], versions)

    def _read(self) -> tuple[os.stat_result, dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                _check_mode(self.path, st)
                raw = f.read()
        except OSError as err:
            raise ConfigError(f"key file {self.path} is unreadable: {err.strerror}") from None
        return st, _parse(self.path, raw)

    def _create(self) -> None:
        doc = {
            "primary": "1",
            "versions": {
                "1": {"key": _b64(AESGCM.generate_key(bit_length=256)), "state": _ENABLED}
            },
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self._write_tmp(doc)
        try:
            # link() publishes the complete file or fails if it exists: another process starting
            # at the same moment never reads a half-written key, and never has its key replaced.
            os.link(tmp, self.path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write of the file under a lock, so two rotations cannot lose a key."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _, doc = self._read()
            yield doc
            tmp = self._write_tmp(doc)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            self._loaded = self._load()
        finally:
            os.close(fd)

    def _write_tmp(self, doc: dict[str, Any]) -> Path:
        tmp = self.path.with_name(f".{self.path.name}.{os.urandom(6).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, json.dumps(doc, indent=2).encode() + b"\n")
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink()
            raise
        os.close(fd)
        return tmp


def _check_mode(path: Path, st: os.stat_result) -> None:
    if st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise ConfigError(
            f"key file {path} has mode {mode:04o}, open to group or others; run: chmod 600 {path}"
        )


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    """The validated document, or ConfigError naming the file (never quoting key material)."""
    bad = f"key file {path} is malformed"
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{bad}: not JSON") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("versions"), dict)
        or not doc["versions"]
    ):
        raise ConfigError(f'{bad}: expected {{"primary": ..., "versions": {{...}}}}')
    for name, version in doc["versions"].items():
        if not (name.isascii() and name.isdigit()) or not isinstance(version, dict):
            raise ConfigError(f"{bad}: version {name!r}")
        if version.get("state") not in (_ENABLED, _DISABLED):
            raise ConfigError(f"{bad}: version {name} has no valid state")
        key = version.get("key")
        try:
            valid_key = isinstance(key, str) and len(_unb64(key)) == _KEY_BYTES
        except (binascii.Error, ValueError):
            valid_key = False
        if not valid_key:
            raise ConfigError(f"{bad}: version {name} has no base64 256-bit key")
    if not isinstance(doc.get("primary"), str) or doc["primary"] not in doc["versions"]:
        raise ConfigError(f"{bad}: primary is not one of the versions")
    return doc


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
