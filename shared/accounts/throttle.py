"""Sign-in throttling: slows password guessing down without letting an attacker lock the owner out.

Three counters of failed attempts, each a ``login_throttle`` document whose id is the SHA-256 of
what it counts (no email or address in clear). Past its free failures a counter makes the next
attempt wait 1 s, then 2, 4, ... up to its cap:

============  ================================  ====  ======  ====================================
counter       counts failures of                free  cap     forgotten
============  ================================  ====  ======  ====================================
``pair``      one email from one client         5     15 min  24 h after the last failure, or at a
                                                              success from that client
``client``    one client, whatever the email    20    15 min  24 h after the last failure (never
                                                              at a success: an attacker could sign
                                                              in to an account of their own)
``email``     one email, from clients still     10    60 s    24 h after the last failure
              within their own 5 free failures
============  ================================  ====  ======  ====================================

The rule that keeps the owner in: an attacker on one address is stopped by ``pair`` and
``client``, which hold only that address, and adds at most 5 failures to ``email``, so the owner
signs in from any other address at once. ``email`` engages only when at least three addresses
have failed on the same email (a spread-out attack); then every attempt from an untrusted address
waits its turn, so at most about 75 failures an hour get through (ASVS 4.0.3 2.2.1: at most 100),
and the owner on a new address waits at most 60 s. A client that signed in to the email in the
last 30 days is trusted and skips ``email`` altogether.

Password spraying from one address (one password over many emails) hits ``client``. A spray spread
over many addresses and many emails, a try or two each, is not throttled here: the password policy
(15 characters, common passwords refused) is what makes it fail.

An attempt is reserved before the password is checked (its counters go up and the next wait is
set in one transaction each), so a burst of parallel requests gets no more tries than the same
requests in a row. A success gives its reservations back. A refused attempt is neither checked nor
counted. Keys are the email as typed (normalised), not an account id, so an unknown email is
throttled exactly like a known one and "try again in N seconds" tells nothing about which exists.

The same counters slow down other things one client can repeat at our cost (``admit_client``
with another rule): ``contact``, security reports from one client address, each stored 180 days
and raising an alert: past 5 in a day, 1 s, 2 s, 4 s, ... up to an hour between reports.
"""

import ipaddress
import math
from dataclasses import dataclass

from shared.accounts.ids import digest
from shared.clock import Clock
from shared.errors import BadRequest
from shared.store.base import EXPIRE_AT, Doc, Store

COLLECTION = "login_throttle"
FORGET_SECONDS = 24 * 3600
TRUST_SECONDS = 30 * 86400


@dataclass(frozen=True)
class Rule:
    kind: str
    free: int
    cap: float
    what: str = "sign-in attempts"  # what the refusal says there were too many of

    def wait(self, failures: int) -> float:
        """Seconds the next attempt waits after ``failures`` failures."""
        if failures <= self.free:
            return 0.0
        return float(min(self.cap, 2 ** min(failures - self.free - 1, 30)))


PAIR = Rule("pair", free=5, cap=900)
CLIENT = Rule("client", free=20, cap=900)
EMAIL = Rule("email", free=10, cap=60)
CONTACT = Rule("contact", free=5, cap=3600, what="reports from your address")


class Throttled(BadRequest):
    status = 429

    def __init__(self, retry_after: float, what: str = PAIR.what) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        unit = "second" if self.retry_after == 1 else "seconds"
        super().__init__(f"Too many {what}. Try again in {self.retry_after} {unit}.")


def client_key(address: str) -> str:
    """The part of a client address that identifies one client: an IPv6 client usually holds a
    whole /64, so it counts as one."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Hold:
    rule: Rule
    doc_id: str
    counted: bool


class Attempt:
    """One admitted attempt; tell it how it ended, exactly once."""

    def __init__(self, throttle: "Throttle", holds: list[_Hold]) -> None:
        self._throttle = throttle
        self._holds = holds

    def failed(self) -> None:
        """The reservations stand: they were the failure."""
        self._holds = []

    def succeeded(self) -> None:
        for hold in self._holds:
            if hold.rule is PAIR:
                self._throttle.trust(hold.doc_id)
            else:
                self._throttle.release(hold)
        self._holds = []


class Throttle:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def admit(self, email: str, client: str) -> Attempt:
        """Reserve a sign-in attempt for ``email`` (normalised) from ``client``, or raise
        ``Throttled``."""
        client = client_key(client)
        pair_id = digest(PAIR.kind, email, client)
        client_id = digest(CLIENT.kind, client)
        email_id = digest(EMAIL.kind, email)
        pair = self._live(pair_id)
        trusted = pair is not None and pair.get("trusted_until", 0) > self.clock.now()
        # Look first, so that a refusal names the longest wait and writes nothing.
        ids = [(PAIR, pair_id), (CLIENT, client_id)] + ([] if trusted else [(EMAIL, email_id)])
        self._refuse_if_waiting(
            [pair, self._live(client_id)] + ([] if trusted else [self._live(email_id)])
        )
        holds: list[_Hold] = []
        pair_within_free = True
        for rule, doc_id in ids:
            count = rule is not EMAIL or pair_within_free
            doc = self._reserve(rule, doc_id, count)
            if doc is None:
                for hold in holds:
                    self.release(hold)
                self._refuse_if_waiting([self._live(doc_id)])
                raise Throttled(1)  # lost a race with an attempt that has since been told
            if rule is PAIR:
                pair_within_free = doc["failures"] <= PAIR.free
            holds.append(_Hold(rule, doc_id, count))
        return Attempt(self, holds)

    def admit_client(self, client: str, rule: Rule = CLIENT) -> Attempt:
        """Reserve an attempt counted against ``client`` only, under ``rule`` (sign-up: an email
        that is taken counts as a failure, which slows down guessing who has an account;
        ``CONTACT``: every report counts)."""
        client_id = digest(rule.kind, client_key(client))
        self._refuse_if_waiting([self._live(client_id)], rule.what)
        if self._reserve(rule, client_id, count=True) is None:
            self._refuse_if_waiting([self._live(client_id)], rule.what)
            raise Throttled(1, rule.what)
        return Attempt(self, [_Hold(rule, client_id, True)])

    def trust(self, pair_id: str) -> None:
        now = self.clock.now()
        self.store.put(
            COLLECTION,
            pair_id,
            {
                "kind": PAIR.kind,
                "failures": 0,
                "next_at": 0,
                "trusted_until": now + TRUST_SECONDS,
                EXPIRE_AT: now + TRUST_SECONDS,
            },
        )

    def release(self, hold: _Hold) -> None:
        if not hold.counted:
            return

        def give_back(doc: Doc | None) -> Doc | None:
            if doc is None or doc.get("failures", 0) <= 0:
                return None
            return {**doc, "failures": doc["failures"] - 1}

        self.store.update(COLLECTION, hold.doc_id, give_back)

    def _reserve(self, rule: Rule, doc_id: str, count: bool) -> Doc | None:
        """Count one more attempt and set the next wait; None when the counter says wait."""
        now = self.clock.now()
        taken: list[bool] = []

        def reserve(doc: Doc | None) -> Doc | None:
            taken.clear()
            doc = _alive(doc, now) or {"kind": rule.kind, "failures": 0, "next_at": 0}
            if doc.get("next_at", 0) > now:
                return None
            failures = doc["failures"] + (1 if count else 0)
            taken.append(True)
            return {
                **doc,
                "failures": failures,
                "next_at": now + rule.wait(failures),
                EXPIRE_AT: max(now + FORGET_SECONDS, doc.get("trusted_until", 0)),
            }

        after = self.store.update(COLLECTION, doc_id, reserve)
        return after if taken else None

    def _live(self, doc_id: str) -> Doc | None:
        return _alive(self.store.get(COLLECTION, doc_id), self.clock.now())

    def _refuse_if_waiting(self, docs: list[Doc | None], what: str = PAIR.what) -> None:
        now = self.clock.now()
        wait = max((d.get("next_at", 0) - now for d in docs if d is not None), default=0)
        if wait > 0:
            raise Throttled(wait, what)


def _alive(doc: Doc | None, now: float) -> Doc | None:
    """The document, unless its expiry has passed (Firestore's TTL deletes it only later)."""
    if doc is None or doc.get(EXPIRE_AT, math.inf) <= now:
        return None
    return doc
