"""Password policy and bcrypt hashing: RELIABILITY row 37, with real bcrypt at cost 12.

Each bcrypt call at cost 12 takes about a third of a second here, so hashes are made once per
module and reused; the policy checks need no hash at all.
"""

import bcrypt
import pytest

from shared.accounts import passwords
from shared.accounts.passwords import (
    MAX_BYTES,
    MIN_COST,
    MIN_LENGTH,
    PasswordHasher,
    PasswordRejected,
    check_new,
)
from shared.errors import BadRequest, ConfigError

# 19 different emoji of 4 bytes each (U+1F600...), so no rule but length can refuse them.
EMOJI = "".join(chr(0x1F600 + i) for i in range(19))
ASCII_72 = "otters drift down the river at dusk, holding paws so none floats away..."


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


@pytest.fixture(scope="module")
def hash_72(hasher: PasswordHasher) -> str:
    return hasher.hash(ASCII_72)


class TestRow37Lengths:
    def test_72_bytes_hash_and_verify(self, hasher: PasswordHasher, hash_72: str) -> None:
        assert len(ASCII_72.encode()) == MAX_BYTES
        check_new(ASCII_72)
        assert hash_72.startswith("$2b$12$")
        assert hasher.verify(ASCII_72, hash_72)

    def test_every_byte_counts_up_to_72(self, hasher: PasswordHasher, hash_72: str) -> None:
        # The last character is part of the hash: nothing was cut off before bcrypt saw it.
        assert not hasher.verify(ASCII_72[:-1] + "j", hash_72)

    @pytest.mark.parametrize("size", [73, 100])
    def test_over_72_bytes_is_refused_not_truncated(
        self, hasher: PasswordHasher, size: int
    ) -> None:
        password = ("p" * 40 + "q" * 60)[:size]
        with pytest.raises(PasswordRejected) as refused:
            check_new(password)
        assert f"at most 72 bytes, and this one is {size}" in str(refused.value)
        assert "Nothing was cut off" in str(refused.value)
        assert isinstance(refused.value, BadRequest) and refused.value.status == 400
        with pytest.raises(PasswordRejected):
            hasher.hash(password)

    def test_checking_over_72_bytes_is_refused_too(
        self, hasher: PasswordHasher, hash_72: str
    ) -> None:
        # Truncated to 72 this would match; bcrypt 5 refuses, and so do we, with our message.
        with pytest.raises(PasswordRejected, match="73"):
            hasher.verify(ASCII_72 + "!", hash_72)

    def test_18_four_byte_emoji_are_72_bytes_and_fine(self, hasher: PasswordHasher) -> None:
        password = EMOJI[:18]
        assert len(password) == 18 and len(password.encode()) == 72
        check_new(password)
        hashed = hasher.hash(password)
        assert hashed.startswith("$2b$12$")
        assert hasher.verify(password, hashed)

    def test_19_emoji_are_76_bytes_and_refused(self) -> None:
        with pytest.raises(PasswordRejected, match="this one is 76"):
            check_new(EMOJI)


class TestCost:
    def test_default_cost_is_12(self) -> None:
        assert PasswordHasher().cost == MIN_COST == 12

    @pytest.mark.parametrize("cost", [4, 10, 11, 17, 31])
    def test_cost_outside_12_to_16_is_a_config_error(self, cost: int) -> None:
        with pytest.raises(ConfigError, match="bcrypt cost"):
            PasswordHasher(cost)

    def test_a_cheaper_or_older_hash_needs_rehash(
        self, hasher: PasswordHasher, hash_72: str
    ) -> None:
        cheap = bcrypt.hashpw(b"x" * 20, bcrypt.gensalt(4)).decode()
        old_variant = hash_72.replace("$2b$", "$2a$", 1)
        assert hasher.needs_rehash(cheap)
        assert hasher.needs_rehash(old_variant)
        assert not hasher.needs_rehash(hash_72)


class TestPolicy:
    def test_minimum_is_15_characters(self) -> None:
        assert MIN_LENGTH == 15
        with pytest.raises(PasswordRejected, match="at least 15 characters"):
            check_new("river otter bu")
        check_new("river otter bus")

    @pytest.mark.parametrize(
        "password",
        [
            "all lower case words",
            "ALL UPPER CASE WORDS",
            "no digits or symbols here",
            "ünïcödé pässwörd fine",
            "   spaces   around   ",
            "tab\tand\nnewline inside",
            "a\x00nul in the middle ok",
        ],
    )
    def test_no_composition_rules(self, password: str) -> None:
        check_new(password)

    @pytest.mark.parametrize(
        "password",
        [
            "correct horse battery staple",
            "CorrectHorseBatteryStaple",
            "123456789012345",
            "1qaz2wsx3edc4rfv",
            "passwordpassword",
            "abcabcabcabcabcabc",
            "zzzzzzzzzzzzzzzz",
            "qwertyuiopasdfghj",
            "zyxwvutsrqponmlkj",
            "0987654321098765",
            "Password12345678!",
            "omniroo2024!!!!!!",
            "iloveyou!!!!!!2024",
        ],
    )
    def test_common_and_guessable_passwords_are_refused(self, password: str) -> None:
        with pytest.raises(PasswordRejected, match="too common or too easy"):
            check_new(password)

    def test_context_words_with_digits_are_refused(self) -> None:
        context = ("jane.doe@example.org",)
        for password in ("jane.doe1234567890", "JaneDoe!!2024!!!!!", "example2024example!"):
            with pytest.raises(PasswordRejected):
                check_new(password, context)
        check_new("jane likes long walks", context)  # a context word among other words is fine

    def test_verified_exactly_as_received(self, hasher: PasswordHasher, hash_72: str) -> None:
        # No case folding, no trimming: each of these is a different password.
        for variant in (ASCII_72.upper(), " " + ASCII_72[1:]):
            assert not hasher.verify(variant, hash_72)


@pytest.mark.parametrize("cost", range(passwords.MIN_COST, passwords.MAX_COST + 1))
def test_an_unknown_email_is_checked_against_a_hash_of_the_same_cost(cost: int) -> None:
    dummy = passwords._dummy_hash(cost)
    assert dummy.startswith(f"$2b${cost}$".encode())
    assert bcrypt.checkpw(b"Quietly-Orbiting-Teapot-4711", dummy) is False
