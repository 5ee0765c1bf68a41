"""Fixtures over the Google Cloud CLI emulators.

``firestore_emulator`` and ``pubsub_emulator`` start one emulator each for the session and point
the client libraries at it through ``FIRESTORE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST``.
``firestore_store`` is a FirestoreStore with a prefix of its own on the session emulator;
``killable_firestore`` starts a private emulator that the test may stop;
``restartable_firestore`` one that the test may restart (an outage, then the same data back:
the emulator exports its documents and the new one imports them).

Without ``gcloud`` the tests that use them are skipped, except on CI (``CI=true``), where they
fail: CI must never silently skip the emulator tests. An emulator that does not come up within
60 s is a failure everywhere.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import emulators
from tests.required import missing

if TYPE_CHECKING:
    from shared.store.firestore import FirestoreStore
    from tests.proxy import Relay

# The killable store gives up quickly, so a test of a dead backend stays short.
KILLABLE_DEADLINE = 2.0


def _start(kind: str, extra: tuple[str, ...] = ()) -> emulators.Emulator:
    if not emulators.gcloud_available():
        missing("the Google Cloud CLI (gcloud) is not on PATH: emulator tests cannot run")
    try:
        return emulators.start(kind, extra=extra)
    except emulators.EmulatorError as exc:
        pytest.fail(str(exc))


@contextmanager
def _firestore_store(prefix: str, deadline: float = 10.0) -> Iterator["FirestoreStore"]:
    # Imported here: every test session loads this plugin, most never touch Firestore.
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    from shared.store.firestore import FirestoreStore

    client = firestore.Client(project=emulators.PROJECT, credentials=AnonymousCredentials())
    try:
        # A fresh emulator takes seconds over its first request; pay that before the test does.
        FirestoreStore(client, prefix, deadline=60).get("warm_up", "warm_up")
        yield FirestoreStore(client, prefix=prefix, deadline=deadline)
    finally:
        client.close()


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[str]:
    emulator = _start("firestore")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host_port)
            yield emulator.host_port
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    emulator = _start("pubsub")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PUBSUB_EMULATOR_HOST", emulator.host_port)
            yield emulator.host_port
    finally:
        emulator.stop()


@pytest.fixture
def firestore_store(firestore_emulator: str) -> Iterator["FirestoreStore"]:
    with _firestore_store(f"t{uuid.uuid4().hex[:12]}_") as store:
        yield store


@dataclass
class KillableFirestore:
    store: "FirestoreStore"
    emulator: emulators.Emulator
    deadline: float

    def stop(self) -> None:
        self.emulator.stop()


@pytest.fixture
def killable_firestore() -> Iterator[KillableFirestore]:
    emulator = _start("firestore")
    try:
        with ExitStack() as stack:
            # The client reads the variable once, when it is built.
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host_port)
                store = stack.enter_context(_firestore_store("killable_", KILLABLE_DEADLINE))
            yield KillableFirestore(store, emulator, KILLABLE_DEADLINE)
    finally:
        emulator.stop()


@dataclass
class RestartableFirestore:
    """A private Firestore emulator behind a relay (``tests.proxy``): clients use ``host_port``,
    which stays the same across ``restart``."""

    relay: "Relay"
    emulator: emulators.Emulator
    workdir: Path
    restarts: int = 0

    @property
    def host_port(self) -> str:
        return self.relay.host_port

    def restart(self, project: str, hold: float = 0.0) -> float:
        """Cut every connection (from here on each call fails, as in an outage), export the
        data, stop the emulator, start a new one from the export, keep the outage ``hold``
        seconds longer, and reconnect the relay. Returns how long the database was away."""
        began = time.monotonic()
        self.relay.cut()
        export = emulators.export_firestore(
            self.emulator, self.workdir / f"export-{self.restarts}", project
        )
        self.emulator.stop()
        self.emulator = _start("firestore", (f"--import-data={export}",))
        time.sleep(hold)
        self.relay.restore(self.emulator.host_port)
        self.restarts += 1
        return time.monotonic() - began


@pytest.fixture
def restartable_firestore(tmp_path: Path) -> Iterator[RestartableFirestore]:
    from tests.proxy import Relay

    emulator = _start("firestore")
    relay = Relay(emulator.host_port)
    firestore = RestartableFirestore(relay, emulator, tmp_path)
    try:
        yield firestore
    finally:
        relay.close()
        firestore.emulator.stop()
