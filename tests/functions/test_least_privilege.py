"""What each function really calls, so its service account holds no more (infra/functions.json).

``stripe_oauth_callback`` keeps no token (the platform key with ``Stripe-Account`` reaches a
connected account), so it never needs the key service: here the callback runs a whole Stripe
connection, and a refused reconnection, against a key service that refuses everything, as Cloud
KMS refuses an identity without ``cryptoKeyEncrypterDecrypter`` (PERMISSION_DENIED).
"""

from shared.crypto.envelope import Envelope
from shared.errors import KeyServiceError
from shared.oauth import flows
from tests.functions.oauth_fixtures import (  # noqa: F401
    Owner,
    follow,
    oauth_env_fixture,
    owner_fixture,
)


class NoKeyAccess:
    """A key service this identity may not use: every call is refused, and counted."""

    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[bytes, str]:
        self.calls += 1
        raise KeyServiceError("PERMISSION_DENIED")

    def unwrap(self, wrapped: bytes, aad: bytes, key_version: str) -> bytes:
        self.calls += 1
        raise KeyServiceError("PERMISSION_DENIED")


def test_the_stripe_callback_connects_without_the_key_service(owner: Owner) -> None:
    keys = NoKeyAccess()
    owner.stack.runtime.envelope = Envelope(keys)
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    assert owner.callback("stripe", back).status_code == 303
    again = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    assert owner.callback("stripe", again).status_code == 303  # reconnecting replaces the route
    project = owner.stack.runtime.store.get("projects", owner.project_id) or {}
    assert project["stripe_status"] == "connected"
    assert keys.calls == 0


def test_the_fake_refuses_as_kms_would(owner: Owner) -> None:
    keys = NoKeyAccess()
    owner.stack.runtime.envelope = Envelope(keys)
    back = follow(flows.begin("hubspot", owner.deps, owner.session, owner.project_id))
    # HubSpot's tokens are sealed: without the key service the connection cannot complete.
    assert owner.callback("hubspot", back).status_code == 503
    assert keys.calls == 1
