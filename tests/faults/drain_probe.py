"""The push path alone in a process of its own, for measuring its memory.

``python -m tests.faults.drain_probe PROJECT_ID`` builds the drainer of ``make run`` from the
environment (SQLite in ``OMNIROO_DATA_DIR``, the doubles' URLs), drains the project until no key
is left, and prints one JSON line: the process's peak resident memory (``ru_maxrss``), and what
it settled. The doubles run in the caller's process, so their memory is not counted here.
"""

import json
import resource
import sys

from shared import wiring
from shared.clock import SystemClock
from shared.config import PUSH, Settings
from shared.crypto.envelope import Envelope
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys


def main(project_id: str) -> None:
    settings = Settings.from_env(needs=PUSH)
    clock = SystemClock()
    store = wiring.build_store(settings)
    deps = wiring.build_drain(settings, store, Envelope(wiring.build_key_service(settings)), clock)
    settled: dict[str, int] = {}
    rounds = 0
    while DirtyKeys(store, clock).take([project_id], 1):
        report = drainer.drain(project_id, deps)
        rounds += report.rounds
        for status, n in report.settled.items():
            settled[status] = settled.get(status, 0) + n
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"peak_bytes": peak_kib * 1024, "settled": settled, "rounds": rounds}))


if __name__ == "__main__":
    main(sys.argv[1])
