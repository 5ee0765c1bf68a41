"""A ``hubspot_push`` instance as a process of its own, for the fault suite to SIGKILL.

``python -m tests.faults.worker`` builds exactly what the deployed function builds
(``wiring.drain_entry`` from the environment: Firestore, Cloud KMS, Stripe, HubSpot) and then
does what Cloud Scheduler's ``drain-sweep`` makes the function do, over and over: find the
projects with keys due and drain each one under its portal's lease. Only two things differ from
production, both to keep the test short: sweeps come every ``FAULTS_SWEEP_EVERY`` seconds
instead of every minute, and leases live ``FAULTS_LEASE_SECONDS`` instead of 60 s (how long a
killed holder keeps its portal locked). A failure escaping a drain is logged and the next sweep
tries again, as Pub/Sub's redelivery of the invocation would.
"""

import os
import time

from shared import logs, wiring
from shared.config import PUSH, Settings
from shared.drain import entry
from tests.faults import broken


def main() -> None:
    logs.setup()
    # Only the suite's own proof that it can fail sets this (tests.faults.broken).
    broken.apply(os.environ.get("FAULTS_BROKEN", ""), setattr)
    built = wiring.drain_entry(Settings.from_env(needs=PUSH))
    built.deps.lease_seconds = float(os.environ.get("FAULTS_LEASE_SECONDS", "3"))
    sweeps = entry.Entry(built.deps)  # no waker: a sweep drains each project here
    pause = float(os.environ.get("FAULTS_SWEEP_EVERY", "0.2"))
    while True:
        try:
            entry.sweep(sweeps)
        except Exception as exc:  # the store away, a lease lost: the next sweep carries on
            logs.warning("fault worker sweep failed", error_type=type(exc).__name__)
        time.sleep(pause)


if __name__ == "__main__":
    main()
