"""A backfill killed mid-walk (SIGKILL of the operator's command, a real process) resumes with
nothing missing, and once drained nothing is duplicated in HubSpot."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.drain.dirty import Key
from shared.repair import backfill
from shared.store.sqlite import SqliteStore
from tests.repair_fixtures import PROJECT, make_repo

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 1200


def _cli(data_dir: Path, stripe: StripeDouble) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(data_dir),
        "STRIPE_SECRET_KEY": stripe.platform_key,
        "STRIPE_WEBHOOK_SECRET": "whsec_crash",
        "STRIPE_API_BASE": stripe.base_url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tooling.cli", "backfill", PROJECT, "--resume"],
        env=env,
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _marked(store: SqliteStore) -> int:
    found = backfill.progress(store, PROJECT)
    return found.marked if found else 0


def test_sigkill_mid_backfill_then_resume_marks_every_customer_once(
    tmp_path: Path, stripe_double: StripeDouble
) -> None:
    hubspot = HubSpotDouble(rate_limit=100_000)  # the test clock sleeps without waiting
    hubspot.start()
    repo = make_repo(tmp_path, stripe_double, hubspot)
    customers = repo.customers(CUSTOMERS)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    stripe_double.latency = 0.05  # each page takes a moment, so the kills land mid-walk
    killed_at: list[int] = []
    for threshold in (300, 700):
        process = _cli(tmp_path, stripe_double)
        deadline = time.monotonic() + 60
        while _marked(repo.store) < threshold:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the backfill did not get going"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert process.returncode == -signal.SIGKILL
        found = backfill.progress(repo.store, PROJECT)
        assert found is not None and found.status == "running"
        assert threshold <= found.marked < CUSTOMERS
        killed_at.append(found.marked)
        # The killed process held the lease: it runs out (here at once rather than in 30 s).
        doc = repo.store.get(backfill.COLLECTION, PROJECT)
        assert doc is not None and doc["lease_owner"]
        repo.store.put(backfill.COLLECTION, PROJECT, {**doc, "lease_until": 0.0})
    stripe_double.latency = 0.0
    last = _cli(tmp_path, stripe_double)
    out, err = last.communicate(timeout=120)
    assert last.returncode == 0, err
    assert out.decode().split("\t")[1] == "done"
    done = backfill.progress(repo.store, PROJECT)
    assert done is not None and done.status == "done"
    # Nothing missing: a key for every customer; the counts are of committed pages only, so a
    # page marked again after a kill is counted once.
    assert repo.dirty() == {Key(PROJECT, "customer", c) for c in customers}
    assert done.marked == CUSTOMERS
    assert killed_at[0] < killed_at[1]
    # Nothing duplicated in HubSpot either: drained, each customer is exactly one contact.
    report = repo.drain()
    assert report.settled["synced"] == CUSTOMERS
    synced = [c["properties"]["stripe_customer_id"] for c in repo.contacts()]
    assert sorted(synced) == sorted(customers)
    repo.store.close()
    hubspot.stop()
