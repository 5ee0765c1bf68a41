"""A bench section for ``tests/test_bench_report.py``, run apart (``report.apart``) as
``make bench`` runs the backfill: a process of its own whose tables join the report."""

import os

from tooling.bench import report

if __name__ == "__main__":
    report.section("8. Apart", f"Measured in process {os.getpid()}.")
    report.row("records | written", "900", "0.95x")
    report.after("a line under the table")
    report.hand_back()
