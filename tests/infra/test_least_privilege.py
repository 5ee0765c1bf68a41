"""Who holds the Cloud KMS key and the platform's Stripe key (infra/functions.json), and the
table in SECURITY.md that says why: the two must not drift apart."""

import re
from pathlib import Path

from tooling.deploy import spec

SPEC = spec.load()
SECURITY = Path(__file__).resolve().parents[2] / "SECURITY.md"
KMS = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def holders_of_the_key() -> set[str]:
    return {n for n, fn in SPEC.functions.items() if any(b.role == KMS for b in fn.roles)}


def test_only_functions_that_seal_or_open_hubspot_tokens_hold_the_kms_key() -> None:
    # stripe_oauth_callback stores no token: it held encrypt/decrypt it never used.
    assert holders_of_the_key() == {"hubspot_push", "hubspot_oauth_callback", "console", "repair"}


def test_the_platform_stripe_key_is_held_only_where_stripe_is_called() -> None:
    holders = {n for n, fn in SPEC.functions.items() if "STRIPE_SECRET_KEY" in fn.secrets}
    assert holders == {"hubspot_push", "stripe_oauth_callback", "console", "repair"}


def documented() -> dict[str, tuple[set[str], bool]]:
    """SECURITY.md's least-privilege table: function -> (secrets, holds the KMS key)."""
    text = SECURITY.read_text()
    section = text.split("## Least privilege", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[set[str], bool]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"`\w+`", cells[0]):
            secrets = set(re.findall(r"`([A-Z_]+)`", cells[1]))
            rows[cells[0].strip("`")] = (secrets, cells[2].lower().startswith("yes"))
    return rows


def test_security_md_states_exactly_what_each_function_holds() -> None:
    table = documented()
    assert set(table) == set(SPEC.functions)
    for name, fn in SPEC.functions.items():
        assert table[name] == (set(fn.secrets), name in holders_of_the_key()), name
