"""Settings, read once per instance from the environment (and ``.env`` locally).

In production the secrets arrive as environment variables mounted from Secret Manager; a
``<NAME>_FILE`` variable pointing at a mounted secret file works too. A missing or malformed
setting raises ``ConfigError`` naming it, so the instance refuses to start rather than limp.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from shared.errors import ConfigError

ENVS = ("local", "gcp")


@dataclass(frozen=True)
class Settings:
    env: str = "local"
    stripe_secret_key: str = ""
    stripe_webhook_secrets: tuple[str, ...] = ()
    stripe_api_base: str | None = None
    hubspot_api_base: str | None = None
    webhook_max_bytes: int = 1024 * 1024
    data_dir: Path = Path(".omniroo")
    gcp_project: str = ""
    kms_key_name: str = ""
    kms_endpoint: str | None = None
    drain_topic: str = "drain"
    jobs_topic: str = "jobs"
    dead_letter_subscription: str = "dead-letters-hold"
    firestore_database: str = "(default)"
    hubspot_timeout: float = 10.0
    stripe_timeout: float = 10.0
    stripe_client_id: str = ""
    stripe_connect_base: str | None = None
    hubspot_client_id: str = ""
    hubspot_client_secret: str = ""
    hubspot_auth_base: str = "https://app.hubspot.com"
    public_url: str = "http://localhost:8080"
    # the write path: a portal's HubSpot calls per ten seconds (X-HubSpot-RateLimit-Max lowers
    # it), retries of a batch call after a 5xx or a timeout, drainer threads of the embedded
    # mode, and how long one hubspot_push invocation starts rounds for
    hubspot_calls_per_10s: int = 100
    hubspot_retries: int = 4
    local_drainers: int = 4
    drain_time_limit: float = 480.0

    @property
    def local(self) -> bool:
        return self.env == "local"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, needs: "Needs | None" = None
    ) -> "Settings":
        """Read the settings; ``needs`` names what this function cannot start without (by
        default everything the embedded mode needs, where one process plays every function)."""
        env = dict(os.environ if environ is None else environ)
        _check_required(env, needs or EVERYTHING)
        values: dict[str, object] = {}
        for name, (field, parse) in _TABLE.items():
            raw = read(env, name)
            if raw is not None:
                values[field] = parse(raw, name)
        return cls(**values)  # type: ignore[arg-type]


def read(env: Mapping[str, str], name: str) -> str | None:
    """``NAME`` from the environment, or the contents of the file named by ``NAME_FILE``."""
    if env.get(name, "") != "":
        return env[name]
    path = env.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from exc


def _env_name(value: str, name: str) -> str:
    if value not in ENVS:
        raise ConfigError(f"{name} must be one of {', '.join(ENVS)}, not {value!r}")
    return value


def _stripe_key(value: str, name: str) -> str:
    if not value.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise ConfigError(f"{name} must be a Stripe secret or restricted key (sk_... or rk_...)")
    return value


def _webhook_secrets(value: str, name: str) -> tuple[str, ...]:
    secrets = tuple(s.strip() for s in value.split(",") if s.strip())
    if not secrets or not all(s.startswith("whsec_") for s in secrets):
        raise ConfigError(f"{name} must be one or more whsec_... secrets, comma-separated")
    return secrets


def _url(value: str, name: str) -> str:
    parts = urlparse(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def _stripe_client_id(value: str, name: str) -> str:
    if not value.startswith("ca_"):
        raise ConfigError(f"{name} must be a Stripe Connect client id (ca_...)")
    return value


def _positive[T: (int, float)](kind: Callable[[str], T], what: str) -> Callable[[str, str], T]:
    def parse(value: str, name: str) -> T:
        try:
            number = kind(value)
        except ValueError:
            number = kind("0")
        if number <= 0:
            raise ConfigError(f"{name} must be a positive {what}, not {value!r}")
        return number

    return parse


_positive_int = _positive(int, "integer")
_positive_float = _positive(float, "number")


def _count(value: str, name: str) -> int:
    if not value.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def _text(value: str, name: str) -> str:
    return value


def _path(value: str, name: str) -> Path:
    return Path(value)


# environment variable -> (Settings field, parser). Parsers name the variable in their errors.
_TABLE: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "OMNIROO_ENV": ("env", _env_name),
    "STRIPE_SECRET_KEY": ("stripe_secret_key", _stripe_key),
    "STRIPE_WEBHOOK_SECRET": ("stripe_webhook_secrets", _webhook_secrets),
    "STRIPE_API_BASE": ("stripe_api_base", _url),
    "HUBSPOT_API_BASE": ("hubspot_api_base", _url),
    "OMNIROO_WEBHOOK_MAX_BYTES": ("webhook_max_bytes", _positive_int),
    "OMNIROO_DATA_DIR": ("data_dir", _path),
    "GOOGLE_CLOUD_PROJECT": ("gcp_project", _text),
    "OMNIROO_KMS_KEY": ("kms_key_name", _text),
    "OMNIROO_KMS_ENDPOINT": ("kms_endpoint", _url),
    "OMNIROO_DRAIN_TOPIC": ("drain_topic", _text),
    "OMNIROO_JOBS_TOPIC": ("jobs_topic", _text),
    "OMNIROO_DEAD_LETTER_SUBSCRIPTION": ("dead_letter_subscription", _text),
    "OMNIROO_FIRESTORE_DATABASE": ("firestore_database", _text),
    "OMNIROO_HUBSPOT_TIMEOUT": ("hubspot_timeout", _positive_float),
    "OMNIROO_STRIPE_TIMEOUT": ("stripe_timeout", _positive_float),
    "STRIPE_CLIENT_ID": ("stripe_client_id", _stripe_client_id),
    "STRIPE_CONNECT_BASE": ("stripe_connect_base", _url),
    "HUBSPOT_CLIENT_ID": ("hubspot_client_id", _text),
    "HUBSPOT_CLIENT_SECRET": ("hubspot_client_secret", _text),
    "HUBSPOT_AUTH_BASE": ("hubspot_auth_base", _url),
    "OMNIROO_PUBLIC_URL": ("public_url", _url),
    "OMNIROO_HUBSPOT_CALLS_PER_10S": ("hubspot_calls_per_10s", _positive_int),
    "OMNIROO_HUBSPOT_RETRIES": ("hubspot_retries", _count),
    "OMNIROO_LOCAL_DRAINERS": ("local_drainers", _positive_int),
    "OMNIROO_DRAIN_TIME_LIMIT": ("drain_time_limit", _positive_float),
}


# Settings every deployment needs, and those only production needs.
@dataclass(frozen=True)
class Needs:
    """The settings a function cannot start without, always and in production only. Each
    function asks only for its own, so each is granted only its own secrets."""

    always: tuple[str, ...]
    gcp: tuple[str, ...] = ("GOOGLE_CLOUD_PROJECT",)


WEBHOOK = Needs(("STRIPE_WEBHOOK_SECRET",))
# The push refreshes HubSpot OAuth tokens, which takes the app's client secret.
PUSH = Needs(
    ("STRIPE_SECRET_KEY", "HUBSPOT_CLIENT_SECRET"), ("GOOGLE_CLOUD_PROJECT", "OMNIROO_KMS_KEY")
)
# Backfill, reconcile and replay read Stripe and HubSpot (refreshing OAuth tokens) like the push.
REPAIR = PUSH
# The callbacks' client ids and public URL are not secrets; deploy does not set them yet, so
# they are checked where they are used (shared.oauth.flows raises ConfigError naming them).
# The Stripe callback keeps no token, so it needs no key service (and holds no KMS role).
STRIPE_OAUTH = Needs(("STRIPE_SECRET_KEY",))
HUBSPOT_OAUTH = Needs(("HUBSPOT_CLIENT_SECRET",), ("GOOGLE_CLOUD_PROJECT", "OMNIROO_KMS_KEY"))
EVERYTHING = Needs(
    ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"), ("GOOGLE_CLOUD_PROJECT", "OMNIROO_KMS_KEY")
)


def _check_required(env: Mapping[str, str], needs: Needs) -> None:
    mode = _env_name(read(env, "OMNIROO_ENV") or "local", "OMNIROO_ENV")
    # Locally one process plays every function, so it needs what all of them need.
    needed = needs.always + needs.gcp if mode == "gcp" else EVERYTHING.always
    missing = [name for name in needed if read(env, name) is None]
    if missing:
        raise ConfigError(f"missing setting: {', '.join(missing)} (see .env.example)")


def load_dotenv(path: Path, environ: dict[str, str]) -> None:
    """Fill ``environ`` from a ``.env`` file without overriding what is already set."""
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environ.setdefault(key.strip(), value)
