"""The console's status badges: what a person reads at a glance for a project and its
connections, from the project document and its newest outcomes."""

from shared.console import badges

NOW = 1_800_000_000.0
CONNECTED = {"stripe_status": "connected", "hubspot_status": "connected"}


def test_connection_badges_say_what_to_do() -> None:
    assert badges.connection("connected") == badges.Badge("connected", "ok")
    assert badges.connection("reconnect").label == "reconnect needed"
    assert badges.connection("revoked").tone == "alert"
    assert badges.connection(None).label == "not connected"
    assert badges.connection("paused").label == "paused"  # a status no table knows yet


def test_the_project_badge_puts_a_connection_to_fix_first() -> None:
    failed = [{"status": "failed", "at": NOW - 5}]
    revoked = {**CONNECTED, "hubspot_status": "revoked"}
    assert badges.sync(revoked, failed, NOW).label == "reconnect needed"
    half = {**CONNECTED, "stripe_status": "disconnected"}
    assert badges.sync(half, [], NOW).label == "not connected"
    assert badges.sync(CONNECTED, failed, NOW) == badges.Badge("failing", "alert")
    fresh = [{"status": "synced", "at": NOW - 60}]
    assert badges.sync(CONNECTED, fresh, NOW) == badges.Badge("syncing", "info")
    old = [{"status": "synced", "at": NOW - badges.RECENT_SECONDS - 1}]
    assert badges.sync(CONNECTED, old, NOW) == badges.Badge("connected", "ok")
    assert badges.sync(CONNECTED, [], NOW).label == "connected"
