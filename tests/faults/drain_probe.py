"""The push path alone in a process of its own, for measuring its memory.

``python -m tests.faults.drain_probe PROJECT_ID`` builds the drainer of ``make run`` from the
environment (SQLite in ``OMNIROO_DATA_DIR``, the doubles' URLs), drains the project until no key
is left, and prints one JSON line: the process's peak resident memory, the same before the first
key (imports, set-up), and what it settled. The doubles run in the caller's process, so their
memory is not counted here. The peak is ``VmHWM`` of ``/proc/self/status`` (Linux), not
``ru_maxrss``: Linux carries ``ru_maxrss`` across ``exec`` from the forking parent, so a probe
started by a large test process would report the parent's size.
"""

import json
import sys
from pathlib import Path

from shared import wiring
from shared.clock import SystemClock
from shared.config import PUSH, Settings
from shared.crypto.envelope import Envelope
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys


def high_water() -> int:
    """This process's peak resident memory so far, in bytes."""
    status = Path("/proc/self/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) * 1024


def main(project_id: str) -> None:
    settings = Settings.from_env(needs=PUSH)
    clock = SystemClock()
    store = wiring.build_store(settings)
    deps = wiring.build_drain(settings, store, Envelope(wiring.build_key_service(settings)), clock)
    ready = high_water()  # imports and set-up
    settled: dict[str, int] = {}
    rounds = 0
    while DirtyKeys(store, clock).take([project_id], 1):
        report = drainer.drain(project_id, deps)
        rounds += report.rounds
        for status, n in report.settled.items():
            settled[status] = settled.get(status, 0) + n
    print(
        json.dumps(
            {
                "ready_bytes": ready,
                "peak_bytes": high_water(),
                "settled": settled,
                "rounds": rounds,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
