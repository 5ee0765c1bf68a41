"""``shared.tokens.access_token`` on its own: private-app tokens, refresh ahead of expiry, and a
refusal that turns out to be another instance's rotation (row 24), on a FakeClock."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from shared import tokens
from shared.clock import FakeClock
from shared.crypto.envelope import Envelope
from shared.crypto.local_keys import LocalKeyFile
from shared.oauth.hubspot_tokens import TokenRevoked
from shared.store.sqlite import SqliteStore


@dataclass(frozen=True)
class Grant:
    access_token: str
    refresh_token: str
    expires_in: int = 1800


@pytest.fixture
def parts(tmp_path: Path) -> tuple[SqliteStore, Envelope, FakeClock]:
    return (
        SqliteStore(tmp_path / "db.sqlite"),
        Envelope(LocalKeyFile(tmp_path / "key")),
        FakeClock(),
    )


def test_a_private_app_token_is_used_as_it_is(
    parts: tuple[SqliteStore, Envelope, FakeClock],
) -> None:
    store, envelope, clock = parts
    tokens.save(store, envelope, "prj_1", tokens.HubSpotTokens("pat-na1-x"))
    clock.advance(10**6)

    def never(_: str) -> Grant:
        raise AssertionError("no refresh for a private-app token")

    assert tokens.access_token(store, envelope, clock, "prj_1", never) == "pat-na1-x"


def test_refresh_happens_five_minutes_ahead(parts: tuple[SqliteStore, Envelope, FakeClock]) -> None:
    store, envelope, clock = parts
    expires = clock.now() + 1800
    tokens.save(store, envelope, "prj_1", tokens.HubSpotTokens("a1", "r1", expires))
    calls: list[str] = []

    def refresh(token: str) -> Grant:
        calls.append(token)
        return Grant("a2", "r1")

    clock.advance(1800 - 301)
    assert tokens.access_token(store, envelope, clock, "prj_1", refresh) == "a1"
    clock.advance(2)
    assert tokens.access_token(store, envelope, clock, "prj_1", refresh) == "a2"
    assert calls == ["r1"]
    held = tokens.load(store, envelope, "prj_1")
    assert held.expires_at == clock.now() + 1800


def test_a_refusal_after_another_instance_rotated_rereads(
    parts: tuple[SqliteStore, Envelope, FakeClock],
) -> None:
    store, envelope, clock = parts
    tokens.save(store, envelope, "prj_1", tokens.HubSpotTokens("a1", "r1", clock.now()))

    def stale(token: str) -> Grant:
        # Meanwhile another instance (its lease ran out on us) stored a rotated grant.
        tokens.save(store, envelope, "prj_1", tokens.HubSpotTokens("a9", "r9", clock.now() + 1800))
        raise TokenRevoked()

    assert tokens.access_token(store, envelope, clock, "prj_1", stale) == "a9"


def test_a_dead_refresh_token_propagates_and_frees_the_lease(
    parts: tuple[SqliteStore, Envelope, FakeClock],
) -> None:
    store, envelope, clock = parts
    tokens.save(store, envelope, "prj_1", tokens.HubSpotTokens("a1", "r1", clock.now()))

    def dead(token: str) -> Grant:
        raise TokenRevoked()

    with pytest.raises(TokenRevoked):
        tokens.access_token(store, envelope, clock, "prj_1", dead)
    assert "refresh_lease_owner" not in (store.get("tokens", "prj_1") or {})
