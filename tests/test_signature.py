"""Stripe-Signature verification: rows 1-6 and 38 of the reliability plan, at the unit level."""

import ast
import inspect

import pytest

from shared.errors import SignatureError
from shared.webhook import signature

SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","type":"customer.created"}'
NOW = 1_800_000_000


def test_a_signature_made_with_the_secret_verifies() -> None:
    header = signature.sign(BODY, SECRET, NOW)
    assert signature.verify(BODY, header, [SECRET], NOW) == NOW


def test_wrong_secret_is_refused() -> None:
    header = signature.sign(BODY, "whsec_other", NOW)
    with pytest.raises(SignatureError, match="no signature matches"):
        signature.verify(BODY, header, [SECRET], NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Stripe-Signature"),
        ("", "missing Stripe-Signature"),
        ("v1=abc", "no timestamp"),
        (f"t={NOW}", "no v1 signature"),
        (f"t={NOW},v0=abc", "no v1 signature"),
        ("t=yesterday,v1=abc", "not an integer"),
        ("garbage", "no timestamp"),
        ("\x00\xff,,,===", "no timestamp"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        signature.verify(BODY, header, [SECRET], NOW)


def test_reserialized_json_does_not_verify() -> None:
    header = signature.sign(BODY, SECRET, NOW)
    reserialized = b'{"id": "evt_1", "type": "customer.created"}'
    with pytest.raises(SignatureError):
        signature.verify(reserialized, header, [SECRET], NOW)


@pytest.mark.parametrize("skew", [-301, 301, 600, -3600])
def test_timestamps_outside_five_minutes_either_way_are_refused(skew: int) -> None:
    header = signature.sign(BODY, SECRET, NOW + skew)
    with pytest.raises(SignatureError, match="tolerance"):
        signature.verify(BODY, header, [SECRET], NOW)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamps_within_tolerance_pass(skew: int) -> None:
    header = signature.sign(BODY, SECRET, NOW + skew)
    assert signature.verify(BODY, header, [SECRET], NOW) == NOW + skew


def test_rotation_two_v1_values_and_two_secrets() -> None:
    old, new = "whsec_old", "whsec_new"
    both = signature.sign(BODY, old, NOW) + "," + signature.sign(BODY, new, NOW).split(",")[1]
    assert signature.verify(BODY, both, [new], NOW) == NOW
    assert signature.verify(BODY, both, [old], NOW) == NOW
    assert signature.verify(BODY, signature.sign(BODY, old, NOW), [new, old], NOW) == NOW


def test_comparison_is_constant_time() -> None:
    """Row 38: the digest comparison goes through hmac.compare_digest and nothing else."""
    tree = ast.parse(inspect.getsource(signature))
    compares = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "compare_digest"
    ]
    assert compares, "verify must use hmac.compare_digest"
    verify_src = inspect.getsource(signature.verify)
    assert "==" not in verify_src.replace("compare_digest", "")


def test_compare_digest_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = signature.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    signature.verify(BODY, signature.sign(BODY, SECRET, NOW), ["whsec_a", SECRET], NOW)
    assert len(calls) == 2
