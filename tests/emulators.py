"""Starts and stops the Google Cloud CLI emulators (Firestore, Pub/Sub) for the tests.

Each emulator runs in its own process group on a free port, with its output in a temporary log.
``gcloud`` starts a wrapper script that starts Java, so stopping signals the whole group, and
waits until no member is left: a test run must never leave a JVM behind.
"""

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = "omniroo-test"
START_TIMEOUT = 60.0
STOP_GRACE = 5.0


class EmulatorError(RuntimeError):
    """An emulator did not come up; the message carries the end of its log."""


def gcloud_available() -> bool:
    return shutil.which("gcloud") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(kind: str, host_port: str) -> list[str]:
    if kind == "firestore":
        return ["gcloud", "emulators", "firestore", "start", f"--host-port={host_port}"]
    if kind == "pubsub":
        return [
            "gcloud", "beta", "emulators", "pubsub", "start",
            f"--host-port={host_port}", f"--project={PROJECT}",
        ]  # fmt: skip
    raise ValueError(f"unknown emulator {kind!r}")


@dataclass(eq=False)
class Emulator:
    kind: str
    host_port: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stopped: bool = field(default=False)

    def stop(self) -> None:
        """Terminate the whole process group, then kill what is left after a grace period."""
        if self.stopped:
            return
        self.stopped = True
        _running.discard(self)
        pgid = self.process.pid  # the leader of its own session, so also the group id
        _signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(STOP_GRACE)
        # The JVM may outlive the gcloud wrapper; whatever is still in the group goes now.
        _signal_group(pgid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + STOP_GRACE
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.log_path.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


_running: set[Emulator] = set()


def start(kind: str, timeout: float = START_TIMEOUT, extra: tuple[str, ...] = ()) -> Emulator:
    """Start an emulator and return once it answers HTTP; ``EmulatorError`` otherwise.
    ``extra``: more flags for ``gcloud`` (``--import-data=...`` to start from an export)."""
    host_port = f"127.0.0.1:{free_port()}"
    fd, log_name = tempfile.mkstemp(prefix=f"omniroo-{kind}-emulator-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            [*_command(kind, host_port), *extra],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    emulator = Emulator(kind, host_port, process, Path(log_name))
    _running.add(emulator)
    try:
        _wait_ready(emulator, timeout)
    except BaseException:
        emulator.stop()
        raise
    return emulator


def export_firestore(emulator: Emulator, directory: Path, project: str = PROJECT) -> Path:
    """Export every document of ``project`` through the emulator's own export endpoint (what
    the Firebase CLI's ``emulators:export`` calls); the metadata file ``--import-data`` takes."""
    directory.mkdir(parents=True, exist_ok=True)
    body = json.dumps(
        {"database": f"projects/{project}/databases/(default)", "export_directory": str(directory)}
    ).encode()
    request = urllib.request.Request(
        f"http://{emulator.host_port}/emulator/v1/projects/{project}:export",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    found = sorted(directory.glob("*/*.overall_export_metadata"))
    if not found:
        raise EmulatorError(f"the Firestore emulator exported nothing into {directory}")
    return found[-1]


def _wait_ready(emulator: Emulator, timeout: float) -> None:
    # Both emulators answer "Ok" to a plain GET once their gRPC server is listening.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emulator.process.poll() is not None:
            raise EmulatorError(
                f"{emulator.kind} emulator exited with {emulator.process.returncode}:\n"
                f"{emulator.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"http://{emulator.host_port}/", timeout=1) as response:
                if response.read().strip() == b"Ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise EmulatorError(
        f"{emulator.kind} emulator not up on {emulator.host_port} within {timeout:g} s:\n"
        f"{emulator.log_tail()}"
    )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@atexit.register
def _stop_all() -> None:
    # Fixture teardown stops emulators; this only covers a run that was interrupted.
    for emulator in list(_running):
        emulator.stop()
