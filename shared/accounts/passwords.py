"""Passwords: the policy a new password must meet, and bcrypt hashing that never truncates.

The policy (OWASP ASVS 5.0 V6.2, NIST SP 800-63B-4 §3.1.1.2):

- at least ``MIN_LENGTH`` = 15 characters (Unicode code points). ASVS 6.2.1 requires 8 and
  strongly recommends 15; NIST SP 800-63B-4 requires 15 for a password that is the only factor,
  and at Omniroo it is (there is no MFA). Lower it to 8 only together with MFA.
- at most ``MAX_BYTES`` = 72 bytes of UTF-8, bcrypt's own limit. A longer password is refused with a
  message that says so: never truncated (ASVS 6.2.8; bcrypt ≥ 5 raises instead of truncating) and
  never pre-hashed (a pre-hash would need its own scheme and migration for little gain at 72 bytes).
  Every ASCII password up to 72 characters fits, which covers ASVS 6.2.9's 64 characters; a
  password of multi-byte characters reaches the limit sooner (18 emoji of 4 bytes each).
- any composition (ASVS 6.2.5), checked exactly as received: no trimming, no case folding and no
  Unicode normalisation (ASVS 6.2.8).
- refused when it is on a small built-in list of the most common long passwords, repeats one
  shorter string, follows a keyboard, alphabet or digit run, or is a common or context word (the
  email, its parts, "omniroo") with only digits and symbols around it (ASVS 6.2.4, 6.2.11). A full
  breached-password check (ASVS 6.2.12) is not part of this.

Hashing: bcrypt ``$2b$`` with a work factor of ``DEFAULT_COST`` = 12, configurable but never below
``MIN_COST`` = 12. ``verify_dummy`` spends the same time as a real check, so that an unknown email
costs what a wrong password costs.
"""

import re

import bcrypt

from shared.errors import BadRequest, ConfigError

MIN_LENGTH = 15
MAX_BYTES = 72
MIN_COST = 12
DEFAULT_COST = 12
MAX_COST = 16  # each step doubles the time; 16 is ~5 s per sign-in, already too slow to serve

# The most common passwords of 15 characters or more in public breach corpora (lower case). The
# rules below catch most of the rest of that list's shapes: repeats, runs, word plus digits.
COMMON = frozenset(
    {
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "qwertyuiopasdfgh",
        "qwertyuiopasdfghjkl",
        "qwertyuiop123456",
        "qwertyuiop1234567890",
        "1q2w3e4r5t6y7u8i",
        "1q2w3e4r5t6y7u8i9o0p",
        "1qaz2wsx3edc4rfv",
        "1qaz2wsx3edc4rfv5tgb",
        "zaq12wsxcde34rfv",
        "!qaz2wsx#edc4rfv",
        "!qaz@wsx#edc$rfv",
        "1qaz@wsx#edc$rfv",
        "abcd1234abcd1234",
        "a1b2c3d4e5f6g7h8",
        "correcthorsebatterystaple",
        "correct horse battery staple",
        "thequickbrownfox",
        "thequickbrownfoxjumpsoverthelazydog",
        "the quick brown fox jumps over the lazy dog",
        "thisismypassword",
        "mypasswordispassword",
        "ilovemyboyfriend",
        "ilovemygirlfriend",
        "manchesterunited",
        "spongebobsquarepants",
        "supercalifragilisticexpialidocious",
        "administrator123",
        "iloveyouforever",
        "lovelovelovelove",
        "nopasswordneeded",
    }
)

# Words that make a password guessable when the rest of it is digits and symbols.
_COMMON_WORDS = (
    "password",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "qwerty",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "login",
    "changeme",
    "trustno1",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "master",
    "secret",
    "omniroo",
    "stripe",
    "hubspot",
)

_RUNS = (
    "0123456789" * 3,
    "abcdefghijklmnopqrstuvwxyz" * 2,
    "qwertyuiopasdfghjklzxcvbnm" * 2,
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p" * 2,
    "1q2w3e4r5t6y7u8i9o0p" * 2,
)
_RUNS_BOTH_WAYS = (*_RUNS, *(run[::-1] for run in _RUNS))
_WORD_PART = re.compile(r"[a-z0-9]{3,}")


class PasswordRejected(BadRequest):
    """The message is meant for the person choosing the password, as it is."""


def check_new(password: str, context: tuple[str, ...] = ()) -> None:
    """Raise ``PasswordRejected`` unless ``password`` may be set. ``context`` holds words a guess
    would start from: the account's email, for one."""
    size = utf8_size(password)
    if size > MAX_BYTES:
        raise PasswordRejected(too_long_message(size))
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"password: use at least {MIN_LENGTH} characters")
    if _is_guessable(password, context):
        raise PasswordRejected(
            "password: this one is too common or too easy to guess; choose another"
        )


def utf8_size(password: str) -> int:
    try:
        return len(password.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: not text a browser sends
        raise PasswordRejected("password: not valid text") from exc


def too_long_message(size: int) -> str:
    return (
        f"password: at most {MAX_BYTES} bytes, and this one is {size}. Accented letters take 2 "
        "bytes and emoji 4, so a password of such characters must be shorter. Nothing was cut off."
    )


def _is_guessable(password: str, context: tuple[str, ...]) -> bool:
    lowered = password.lower()
    if lowered in COMMON:
        return True
    if any(lowered == lowered[:n] * (len(lowered) // n) for n in _periods(len(lowered))):
        return True
    alnum = "".join(c for c in lowered if c.isalnum())
    if len(alnum) >= 6 and any(alnum in run for run in _RUNS_BOTH_WAYS):
        return True
    words = [*_COMMON_WORDS]
    for item in context:
        item = item.lower()
        words += [item, item.split("@")[0], *_WORD_PART.findall(item)]
    rest = lowered
    for word in sorted({w for w in words if len(w) >= 3}, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != lowered and not any(c.isalpha() for c in rest)


def _periods(length: int) -> list[int]:
    return [n for n in range(1, length // 2 + 1) if length % n == 0]


class PasswordHasher:
    """bcrypt at a fixed work factor. Refuses rather than truncates a password over 72 bytes."""

    def __init__(self, cost: int = DEFAULT_COST) -> None:
        if not MIN_COST <= cost <= MAX_COST:
            raise ConfigError(f"bcrypt cost: between {MIN_COST} and {MAX_COST}, not {cost}")
        self.cost = cost

    def hash(self, password: str) -> str:
        hashed = bcrypt.hashpw(_encode(password), bcrypt.gensalt(self.cost, prefix=b"2b"))
        return hashed.decode("ascii")

    def verify(self, password: str, hashed: str) -> bool:
        return bcrypt.checkpw(_encode(password), hashed.encode("ascii"))

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one ``verify`` at this cost, for an account that does not exist."""
        bcrypt.checkpw(_encode(password), _dummy_hash(self.cost))

    def needs_rehash(self, hashed: str) -> bool:
        """True when ``hashed`` was made at a lower cost than this hasher's (or another variant)."""
        match = re.match(r"^\$2b\$(\d\d)\$", hashed)
        return match is None or int(match.group(1)) < self.cost


def _encode(password: str) -> bytes:
    size = utf8_size(password)
    if size > MAX_BYTES:
        raise PasswordRejected(too_long_message(size))
    return password.encode("utf-8")


# One hash per allowed cost, of 16 random bytes nobody kept: checking a password against it costs
# exactly what a real check costs. Made ahead rather than at start-up, where it added a whole hash
# (0.3 s at cost 12, 5 s at 16) to every console instance's cold start.
_DUMMY_HASHES = {
    12: b"$2b$12$C4RBTRCgZ4U25F821b7VKOJser1yWBUdVhnpk7oSpCo4gHq98EcMq",
    13: b"$2b$13$GWf.woVhP.DmjXjTe0bVbO8e.CHh1xKKaURGkKT.wxcGqJSZy3FBy",
    14: b"$2b$14$zPOXR3ApRL/.Y/FHohDuAeZAdAZvZrrkv2OifuyqD6yei19N0EQc2",
    15: b"$2b$15$PRs9MPBkImNio.7oByHQbOXie/mAhbs8yLr8xc2JcL5Dhi7iPb7Ve",
    16: b"$2b$16$3/BioXJ/fl7.2O7oeoa5iOyEZTAYRWvayXXZoAICp0Xh/wv11L1lS",
}


def _dummy_hash(cost: int) -> bytes:
    return _DUMMY_HASHES[cost]
