"""Settings: a missing or malformed one stops start-up with a message that names it."""

from pathlib import Path

import pytest

from shared.config import Settings, load_dotenv
from shared.errors import ConfigError
from tests.plugins.stack import function_client

GOOD = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_a"}


def test_defaults_are_local() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.local and settings.stripe_webhook_secrets == ("whsec_a",)


def test_several_webhook_secrets_are_comma_separated() -> None:
    settings = Settings.from_env({**GOOD, "STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old"})
    assert settings.stripe_webhook_secrets == ("whsec_new", "whsec_old")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET"),
        ({**GOOD, "STRIPE_SECRET_KEY": "pk_test_x"}, "STRIPE_SECRET_KEY"),
        ({**GOOD, "STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"),
        ({**GOOD, "STRIPE_API_BASE": "localhost:1234"}, "STRIPE_API_BASE"),
        ({**GOOD, "HUBSPOT_API_BASE": "ftp://x"}, "HUBSPOT_API_BASE"),
        ({**GOOD, "OMNIROO_ENV": "prod"}, "OMNIROO_ENV"),
        ({**GOOD, "OMNIROO_WEBHOOK_MAX_BYTES": "-1"}, "OMNIROO_WEBHOOK_MAX_BYTES"),
        ({**GOOD, "OMNIROO_HUBSPOT_TIMEOUT": "soon"}, "OMNIROO_HUBSPOT_TIMEOUT"),
        ({**GOOD, "OMNIROO_ENV": "gcp"}, "GOOGLE_CLOUD_PROJECT"),
        ({**GOOD, "OMNIROO_ENV": "gcp", "GOOGLE_CLOUD_PROJECT": "p"}, "OMNIROO_KMS_KEY"),
    ],
)
def test_bad_settings_name_themselves(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_secrets_can_come_from_mounted_files(tmp_path: Path) -> None:
    secret = tmp_path / "whsec"
    secret.write_text("whsec_from_file\n")
    settings = Settings.from_env(
        {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET_FILE": str(secret)}
    )
    assert settings.stripe_webhook_secrets == ("whsec_from_file",)


def test_an_unreadable_mounted_secret_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET_FILE"):
        Settings.from_env(
            {
                "STRIPE_SECRET_KEY": "sk_test_x",
                "STRIPE_WEBHOOK_SECRET_FILE": str(tmp_path / "missing"),
            }
        )


def test_dotenv_fills_without_overriding(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nA=1\nexport B='two words'\nC=\"3\"\n")
    environ = {"A": "kept"}
    load_dotenv(dotenv, environ)
    assert environ == {"A": "kept", "B": "two words", "C": "3"}
    dotenv.write_text("not a setting\n")
    with pytest.raises(ConfigError, match=":1"):
        load_dotenv(dotenv, {})


@pytest.mark.parametrize(
    ("name", "kind", "needed"),
    [
        ("stripe_webhook", "http", "STRIPE_WEBHOOK_SECRET"),
        ("hubspot_push", "cloudevent", "STRIPE_SECRET_KEY"),
    ],
)
def test_a_function_refuses_to_start_without_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, kind: str, needed: str
) -> None:
    monkeypatch.setenv("OMNIROO_ENV", "gcp")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "omniroo-test")
    monkeypatch.setenv("OMNIROO_KMS_KEY", "projects/p/locations/l/keyRings/r/cryptoKeys/k")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match=needed):
        function_client(name, kind)


def test_each_function_needs_only_its_own_secret() -> None:
    from shared.config import PUSH, WEBHOOK

    gcp = {"OMNIROO_ENV": "gcp", "GOOGLE_CLOUD_PROJECT": "p"}
    assert Settings.from_env({**gcp, "STRIPE_WEBHOOK_SECRET": "whsec_a"}, needs=WEBHOOK)
    with pytest.raises(ConfigError, match="OMNIROO_KMS_KEY"):
        Settings.from_env({**gcp, "STRIPE_SECRET_KEY": "sk_test_x"}, needs=PUSH)
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        Settings.from_env({"STRIPE_WEBHOOK_SECRET": "whsec_a"}, needs=WEBHOOK)  # local: all
