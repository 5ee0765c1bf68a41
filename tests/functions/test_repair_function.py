"""The ``repair`` function, loaded as Cloud Functions loads it, in the embedded mode: a backfill
job runs with its chained steps, the scheduled reconcile fans out, unreadable messages are
acknowledged."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared import wiring
from shared.config import Settings
from shared.drain.dirty import Key
from shared.repair import backfill, health
from shared.repair.jobs import Job
from tests.plugins.stack import function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event
from tests.repair_fixtures import PROJECT, Repo, make_repo


@pytest.fixture
def repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stripe_double: StripeDouble,
    hubspot_double: HubSpotDouble,
) -> Iterator[Repo]:
    for name, value in {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": stripe_double.platform_key,
        "STRIPE_WEBHOOK_SECRET": "whsec_repair",
        "STRIPE_API_BASE": stripe_double.base_url,
        "HUBSPOT_API_BASE": hubspot_double.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    made = make_repo(tmp_path, stripe_double, hubspot_double, {"reconcile_drift": "off"})
    made.clock.t = time.time()
    yield made
    made.store.close()
    wiring._runtimes.pop(Settings.from_env(), None)


def _job(job: Job) -> dict[str, object]:
    return pubsub_cloud_event(job.encode(), {"job": job.job})


def test_a_backfill_job_runs_to_the_end(repo: Repo) -> None:
    customers = repo.customers(120)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    client = function_client("repair", "cloudevent")
    assert post_cloud_event(client, _job(Job("backfill", PROJECT))).status_code == 200
    found = backfill.progress(repo.store, PROJECT)
    assert found is not None and (found.status, found.marked) == ("done", 120)
    assert repo.dirty() == {Key(PROJECT, "customer", c) for c in customers}


def test_the_scheduled_reconcile_runs_every_project(repo: Repo) -> None:
    repo.customers(2)
    client = function_client("repair", "cloudevent")
    assert post_cloud_event(client, _job(Job("reconcile"))).status_code == 200
    [run] = health.day(repo.store, PROJECT, health.day_of(time.time())).runs
    assert (run.kind, run.status, run.counts["accepted"]) == ("reconcile", "done", 2)


def test_unreadable_and_foreign_jobs_are_acknowledged(repo: Repo) -> None:
    client = function_client("repair", "cloudevent")
    assert post_cloud_event(client, pubsub_cloud_event(b"\x00not json")).status_code == 200
    assert post_cloud_event(client, _job(Job("purge"))).status_code == 200
