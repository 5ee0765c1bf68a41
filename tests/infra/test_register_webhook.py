"""Registering Omniroo's Connect webhook endpoint: the real ``stripe`` library against the Stripe
double, the real Secret Manager client against its double. The event types are compared with the
handler table at run time, never with a list of our own."""

from typing import Any

import pytest
import stripe

from doubles.secret_manager import SecretManagerDouble
from doubles.stripe import StripeDouble
from shared.events import CONNECTION_EVENTS, EVENT_OBJECTS
from shared.stripe_version import API_VERSION
from tests.plugins.secret_manager import PROJECT, create_secret
from tooling.deploy import register
from tooling.secrets import SecretManager

URL = "https://omniroo.example.com/stripe/webhook"
SECRET_NAME = f"projects/{PROJECT}/secrets/{register.DEFAULT_SECRET}"


@pytest.fixture
def secrets(secret_manager_client: Any) -> SecretManager:
    create_secret(secret_manager_client, register.DEFAULT_SECRET)
    return SecretManager(secret_manager_client, PROJECT)


@pytest.fixture
def client(stripe_double: StripeDouble) -> stripe.StripeClient:
    return register._client(stripe_double.platform_key, stripe_double.base_url)


def run(client: stripe.StripeClient, secrets: SecretManager, url: str = URL) -> register.Result:
    return register.register(client, secrets, url, register.DEFAULT_SECRET)


def test_first_run_creates_one_connect_endpoint_for_exactly_the_handled_types(
    client: stripe.StripeClient,
    secrets: SecretManager,
    stripe_double: StripeDouble,
    secret_manager_double: SecretManagerDouble,
) -> None:
    result = run(client, secrets)
    [endpoint] = stripe_double.webhook_endpoints()
    assert result.action == "created" and result.endpoint_id == endpoint["id"]
    assert endpoint["connect"] is True
    assert endpoint["url"] == URL
    assert sorted(endpoint["enabled_events"]) == sorted({*EVENT_OBJECTS, *CONNECTION_EVENTS})
    assert endpoint["api_version"] == API_VERSION
    assert endpoint["metadata"] == {"omniroo": "connect"}
    # the signing secret, shown once by Stripe, is the new version of the secret
    assert result.secret_version == "1"
    assert secret_manager_double.value(SECRET_NAME, 1) == endpoint["secret"]


def test_running_again_creates_nothing_and_restores_the_event_types(
    client: stripe.StripeClient,
    secrets: SecretManager,
    stripe_double: StripeDouble,
    secret_manager_double: SecretManagerDouble,
) -> None:
    first = run(client, secrets)
    client.v1.webhook_endpoints.update(
        first.endpoint_id, {"enabled_events": ["customer.created"], "disabled": True}
    )
    again = run(client, secrets)
    [endpoint] = stripe_double.webhook_endpoints()
    assert (again.action, again.endpoint_id, again.secret_version) == (
        "updated",
        first.endpoint_id,
        None,
    )
    assert sorted(endpoint["enabled_events"]) == sorted({*EVENT_OBJECTS, *CONNECTION_EVENTS})
    assert endpoint["status"] == "enabled"
    assert secret_manager_double.versions(SECRET_NAME) == [1]
    assert again.warnings == ()


def test_a_new_url_moves_the_tagged_endpoint_instead_of_adding_one(
    client: stripe.StripeClient, secrets: SecretManager, stripe_double: StripeDouble
) -> None:
    first = run(client, secrets)
    moved = run(client, secrets, "https://new.example.com/stripe/webhook")
    [endpoint] = stripe_double.webhook_endpoints()
    assert moved.endpoint_id == first.endpoint_id
    assert endpoint["url"] == "https://new.example.com/stripe/webhook"


def test_an_endpoint_made_by_hand_at_the_url_is_adopted_and_the_missing_secret_said(
    client: stripe.StripeClient, secrets: SecretManager, stripe_double: StripeDouble
) -> None:
    by_hand = client.v1.webhook_endpoints.create(
        {"url": URL, "enabled_events": ["customer.created"], "connect": True}
    )
    result = run(client, secrets)
    [endpoint] = stripe_double.webhook_endpoints()
    assert result.endpoint_id == by_hand.id and result.action == "updated"
    assert endpoint["metadata"] == {"omniroo": "connect"}
    assert sorted(endpoint["enabled_events"]) == sorted({*EVENT_OBJECTS, *CONNECTION_EVENTS})
    assert any("found by its URL" in w for w in result.warnings)
    assert any("has no version" in w for w in result.warnings)


def test_two_tagged_endpoints_are_refused_without_touching_either(
    client: stripe.StripeClient, secrets: SecretManager, stripe_double: StripeDouble
) -> None:
    for n in (1, 2):
        client.v1.webhook_endpoints.create(
            {
                "url": f"https://x{n}.example.com/hook",
                "enabled_events": ["customer.created"],
                "metadata": {"omniroo": "connect"},
            }
        )
    with pytest.raises(register.RegistrationError, match="several endpoints carry"):
        run(client, secrets)
    assert len(stripe_double.webhook_endpoints()) == 2


def test_a_secret_manager_failure_deletes_the_new_endpoint_so_no_secret_is_lost(
    client: stripe.StripeClient,
    secrets: SecretManager,
    stripe_double: StripeDouble,
    secret_manager_double: SecretManagerDouble,
) -> None:
    secret_manager_double.fail_next(1, 503)
    with pytest.raises(register.RegistrationError, match="deleted again"):
        run(client, secrets)
    assert stripe_double.webhook_endpoints() == []
    assert run(client, secrets).action == "created"
    assert len(stripe_double.webhook_endpoints()) == 1


def test_the_command_prints_the_version_to_pin_and_never_the_secret(
    stripe_double: StripeDouble,
    secret_manager_double: SecretManagerDouble,
    secret_manager_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    create_secret(secret_manager_client, register.DEFAULT_SECRET)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("STRIPE_SECRET_KEY", stripe_double.platform_key)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_double.base_url)
    monkeypatch.setenv("OMNIROO_SECRET_MANAGER_ENDPOINT", secret_manager_double.base_url)
    code = register.main(["--url", URL, "--project", PROJECT])
    out, err = capsys.readouterr()
    [endpoint] = stripe_double.webhook_endpoints()
    assert code == 0, err
    assert f"created {endpoint['id']}" in out
    assert 'STRIPE_WEBHOOK_SECRET = "1"' in out
    assert endpoint["secret"] not in out + err and "whsec_" not in out + err
