"""Row 35 [own]: the security rules deny every client-SDK access, checked on the Firestore
emulator with infra/firestore.rules loaded. Only the functions' service accounts (which bypass
rules, like the emulator's "owner") reach the data."""

import secrets
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.emulator
RULES = Path(__file__).resolve().parents[2] / "infra" / "firestore.rules"


@pytest.mark.parametrize("signed_in", [False, True])
def test_rules_deny_every_client_read_and_write(firestore_emulator: str, signed_in: bool) -> None:
    project = f"omniroo-rules-{secrets.token_hex(4)}"
    base = f"http://{firestore_emulator}"
    loaded = requests.put(
        f"{base}/emulator/v1/projects/{project}:securityRules",
        timeout=10,
        json={"rules": {"files": [{"content": RULES.read_text()}]}},
    )
    assert loaded.status_code == 200, loaded.text
    docs = f"{base}/v1/projects/{project}/databases/(default)/documents"
    owner = {"Authorization": "Bearer owner"}
    seeded = requests.patch(
        f"{docs}/projects/prj_1",
        headers=owner,
        timeout=10,
        json={"fields": {"account_id": {"stringValue": "acc_1"}}},
    )
    assert seeded.status_code == 200, seeded.text
    # The emulator takes an unsigned JWT as a signed-in Firebase user.
    client = {"Authorization": "Bearer " + _unsigned_jwt("acc_1")} if signed_in else {}
    for method, url, body in [
        ("GET", f"{docs}/projects/prj_1", None),
        ("GET", f"{docs}/tokens/prj_1", None),
        ("PATCH", f"{docs}/projects/prj_1", {"fields": {"x": {"stringValue": "y"}}}),
        ("POST", f"{docs}/accounts", {"fields": {"email": {"stringValue": "a@b.co"}}}),
        ("DELETE", f"{docs}/projects/prj_1", None),
    ]:
        answer = requests.request(method, url, json=body, headers=client, timeout=10)
        assert answer.status_code == 403, (method, url, answer.status_code, answer.text[:200])
    still = requests.get(f"{docs}/projects/prj_1", headers=owner, timeout=10)
    assert still.status_code == 200 and "x" not in still.json()["fields"]


def _unsigned_jwt(uid: str) -> str:
    import base64
    import json

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {
        "sub": uid,
        "user_id": uid,
        "aud": "omniroo",
        "iss": "https://securetoken.google.com/omniroo",
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
