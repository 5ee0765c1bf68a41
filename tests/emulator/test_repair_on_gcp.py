"""History and repair in gcp mode on real parts: Firestore and Pub/Sub emulators, Cloud KMS
through its REST client against the KMS double, both API doubles, and the ``repair`` function
loaded as Cloud Functions loads it. A detached backfill goes over the jobs topic; the scheduled
reconcile collects the dead letters and fans out one job per project over the same topic."""

from collections.abc import Iterator
from typing import Any

import pytest

from shared import projects, wiring
from shared.clock import SystemClock
from shared.config import Settings
from shared.crypto.envelope import Envelope
from shared.drain.dirty import COLLECTION as DIRTY_KEYS
from shared.hubspot.gateway import HubSpotGateway
from shared.queue.base import ThinMessage
from shared.repair import backfill, health, replay
from shared.repair.jobs import Job
from tests.gcp_mode import gcp_mode
from tests.plugins.stack import function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event
from tooling import cli

pytestmark = pytest.mark.emulator


@pytest.fixture
def gcp(
    monkeypatch: pytest.MonkeyPatch,
    firestore_emulator: str,
    pubsub_emulator: str,
    kms_double: Any,
    stripe_double: Any,
    hubspot_double: Any,
) -> Iterator[dict[str, Any]]:
    _, publisher, subscriber, named = gcp_mode(
        monkeypatch,
        (kms_double, stripe_double, hubspot_double),
        "omniroo-repair",
        {"jobs": "repair-trigger", "dead-letters": "dead-letters-hold"},
        OMNIROO_JOBS_TOPIC="jobs",
        OMNIROO_DEAD_LETTER_SUBSCRIPTION="dead-letters-hold",
    )
    paths = {
        "jobs": named["jobs"],
        "dead_letters": named["dead-letters"],
        "trigger": named["repair-trigger"],
        "hold": named["dead-letters-hold"],
    }
    settings = Settings.from_env()
    store = wiring.build_store(settings)
    envelope = Envelope(wiring.build_key_service(settings))
    account = stripe_double.add_account()
    portal, token = hubspot_double.add_portal()
    HubSpotGateway(token, SystemClock(), hubspot_double.base_url).ensure_schema()
    owner = projects.create_account(store, "repair@omniroo.test", SystemClock().now())
    project_id = projects.create_project(
        store,
        envelope,
        projects.NewProject(owner, account, False, token, str(portal), {"reconcile_drift": "off"}),
        SystemClock().now(),
    )
    yield {
        "store": store,
        "publisher": publisher,
        "subscriber": subscriber,
        "paths": paths,
        "account": account,
        "project_id": project_id,
    }
    subscriber.close()


def _deliver_jobs(gcp: dict[str, Any], client: Any) -> list[Job]:
    """Hand every job waiting on the trigger subscription to the function, as Eventarc would,
    until none is left; the jobs handed over."""
    handed: list[Job] = []
    while True:
        response = gcp["subscriber"].pull(
            subscription=gcp["paths"]["trigger"], max_messages=10, timeout=10
        )
        received = list(response.received_messages)
        if not received:
            return handed
        for r in received:
            event = pubsub_cloud_event(bytes(r.message.data), dict(r.message.attributes))
            assert post_cloud_event(client, event).status_code == 200
            handed.append(Job.decode(bytes(r.message.data)))
        gcp["subscriber"].acknowledge(
            subscription=gcp["paths"]["trigger"], ack_ids=[r.ack_id for r in received]
        )


def test_a_detached_backfill_runs_in_the_repair_function(
    gcp: dict[str, Any], stripe_double: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(130):
        stripe_double.create_customer(gcp["account"], email=f"g{n}@example.com")
    code = cli.main(["backfill", gcp["project_id"], "--kinds", "customers", "--detach"])
    assert code == 0 and capsys.readouterr().out.split("\t")[1] == "running"
    client = function_client("repair", "cloudevent")
    assert _deliver_jobs(gcp, client) == [Job("backfill", gcp["project_id"])]
    found = backfill.progress(gcp["store"], gcp["project_id"])
    assert found is not None and (found.status, found.marked) == ("done", 130)
    assert len(list(gcp["store"].scan(DIRTY_KEYS))) == 130


def test_the_scheduled_reconcile_collects_dead_letters_and_runs_each_project(
    gcp: dict[str, Any], stripe_double: Any
) -> None:
    project_id = gcp["project_id"]
    stripe_double.create_customer(gcp["account"], email="undelivered@example.com")
    dead = ThinMessage(
        project_id, gcp["account"], "evt_dead1", "customer.updated", "cus_d1", "customer", 1, False
    )
    gcp["publisher"].publish(gcp["paths"]["dead_letters"], dead.encode()).result(timeout=10)
    gcp["publisher"].publish(
        gcp["paths"]["jobs"], Job("reconcile").encode(), job="reconcile"
    ).result(timeout=10)
    client = function_client("repair", "cloudevent")
    handed = _deliver_jobs(gcp, client)
    assert handed == [Job("reconcile"), Job("reconcile", project_id)]
    assert [f.event_id for f in replay.failures(gcp["store"], project_id)] == ["evt_dead1"]
    day = health.day(gcp["store"], project_id, health.day_of(SystemClock().now()))
    assert (day.counts["dead_lettered"], day.counts["received"]) == (1, 1)
    [run] = day.runs
    assert (run.kind, run.status, run.counts["accepted"]) == ("reconcile", "done", 1)
