"""The key service port: wraps and unwraps data keys with a key-encryption key (KEK).

Adapters raise ``KeyServiceError`` on any failure, including a disabled or unknown key version:
callers fail closed, there is no plaintext fallback.
"""

from typing import Protocol


class KeyService(Protocol):
    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        """Encrypt a data key; returns (wrapped key, key version that wrapped it)."""
        ...

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        """Decrypt a wrapped data key. Old key versions still decrypt after rotation."""
        ...
