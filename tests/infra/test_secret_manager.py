"""The Secret Manager adapter through the real client library, against the local REST double."""

from typing import Any

import pytest

from doubles.secret_manager import SecretManagerDouble
from tests.plugins.secret_manager import PROJECT, create_secret
from tooling.secrets import SecretError, SecretManager

SECRET = f"projects/{PROJECT}/secrets/omniroo-stripe-webhook-secret"


@pytest.fixture
def secrets(secret_manager_client: Any) -> SecretManager:
    create_secret(secret_manager_client, "omniroo-stripe-webhook-secret")
    return SecretManager(secret_manager_client, PROJECT)


def test_versions_are_numbered_and_latest_is_the_newest(
    secrets: SecretManager, secret_manager_double: SecretManagerDouble
) -> None:
    assert not secrets.has_version("omniroo-stripe-webhook-secret")
    assert secrets.add_version("omniroo-stripe-webhook-secret", "whsec_one") == "1"
    assert secrets.add_version("omniroo-stripe-webhook-secret", "whsec_two") == "2"
    assert secrets.has_version("omniroo-stripe-webhook-secret")
    assert secrets.access("omniroo-stripe-webhook-secret") == "whsec_two"
    assert secrets.access("omniroo-stripe-webhook-secret", "1") == "whsec_one"
    assert secret_manager_double.versions(SECRET) == [1, 2]


def test_a_disabled_version_is_not_latest(
    secrets: SecretManager, secret_manager_double: SecretManagerDouble
) -> None:
    secrets.add_version("omniroo-stripe-webhook-secret", "whsec_one")
    secrets.add_version("omniroo-stripe-webhook-secret", "whsec_two")
    secret_manager_double.disable(SECRET, 2)
    assert secrets.access("omniroo-stripe-webhook-secret") == "whsec_one"
    with pytest.raises(SecretError, match="versions/2"):
        secrets.access("omniroo-stripe-webhook-secret", "2")


def test_a_secret_terraform_did_not_create_is_named_not_created(secrets: SecretManager) -> None:
    with pytest.raises(SecretError, match="does not exist: create it with terraform apply"):
        secrets.add_version("omniroo-unknown", "whsec_x")


def test_an_outage_is_a_secret_error_without_the_value(
    secrets: SecretManager, secret_manager_double: SecretManagerDouble
) -> None:
    secret_manager_double.fail_next(5, 503)
    with pytest.raises(SecretError) as failure:
        secrets.add_version("omniroo-stripe-webhook-secret", "whsec_do_not_print")
    assert "whsec_do_not_print" not in str(failure.value)
