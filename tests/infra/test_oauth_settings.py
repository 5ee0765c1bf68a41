"""The OAuth callbacks start with exactly what deploy gives them (their one secret each), and the
secrets infra/functions.json grants them are the ones their settings need."""

import pytest

from shared.config import HUBSPOT_OAUTH, STRIPE_OAUTH, Needs, Settings
from shared.errors import ConfigError
from tests.infra.test_deploy_plan import deploy_steps, flags

SAMPLES = {
    "STRIPE_SECRET_KEY": "sk_test_sample",
    "HUBSPOT_CLIENT_SECRET": "hubspot-secret-sample",
    "STRIPE_WEBHOOK_SECRET": "whsec_sample",
}


@pytest.mark.parametrize(
    ("name", "needs"),
    [("stripe_oauth_callback", STRIPE_OAUTH), ("hubspot_oauth_callback", HUBSPOT_OAUTH)],
)
def test_the_callbacks_start_with_what_deploy_gives_them(name: str, needs: Needs) -> None:
    given = flags(deploy_steps(every=True)[name])
    env = dict(item.split("=", 1) for item in given["set-env-vars"].split(","))
    granted = [item.split("=")[0] for item in given.get("set-secrets", "").split(",") if item]
    assert granted == list(needs.always)
    for secret in granted:
        env[secret] = SAMPLES[secret]
    assert Settings.from_env(env, needs=needs).env == "gcp"
    for secret in granted:
        with pytest.raises(ConfigError, match=secret):
            Settings.from_env({k: v for k, v in env.items() if k != secret}, needs=needs)


def test_the_oauth_settings_are_read_and_checked() -> None:
    env = {
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "STRIPE_CLIENT_ID": "ca_123",
        "STRIPE_CONNECT_BASE": "http://127.0.0.1:1/connect/",
        "HUBSPOT_CLIENT_ID": "client",
        "HUBSPOT_CLIENT_SECRET": "secret",
        "HUBSPOT_AUTH_BASE": "https://app.hubspot.com",
        "OMNIROO_PUBLIC_URL": "https://omniroo.example/",
    }
    settings = Settings.from_env(env)
    assert settings.stripe_client_id == "ca_123"
    assert settings.stripe_connect_base == "http://127.0.0.1:1/connect"
    assert settings.public_url == "https://omniroo.example"
    with pytest.raises(ConfigError, match="STRIPE_CLIENT_ID"):
        Settings.from_env({**env, "STRIPE_CLIENT_ID": "pk_test_nope"})
    with pytest.raises(ConfigError, match="OMNIROO_PUBLIC_URL"):
        Settings.from_env({**env, "OMNIROO_PUBLIC_URL": "omniroo.example"})
