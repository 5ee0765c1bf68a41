"""The operator's history-and-repair commands: results on stdout, progress on stderr, and the
exit codes scripts rely on (0 done, 1 ended failed, 2 refused, 3 unavailable, 4 stopped)."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.repair import backfill, health
from tests.repair_fixtures import PROJECT, Repo, make_repo
from tooling import cli
from tooling.progress import Bar, render


def _environ(
    monkeypatch: pytest.MonkeyPatch, data: Path, stripe: StripeDouble, hubspot_base: str = ""
) -> None:
    for name, value in {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(data),
        "STRIPE_SECRET_KEY": stripe.platform_key,
        "STRIPE_WEBHOOK_SECRET": "whsec_cli",
        "STRIPE_API_BASE": stripe.base_url,
        "HUBSPOT_API_BASE": hubspot_base,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stripe_double: StripeDouble
) -> Iterator[Repo]:
    _environ(monkeypatch, tmp_path, stripe_double)
    made = make_repo(tmp_path, stripe_double)
    yield made
    made.store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    # The suite's own log handler (shared.logs.setup, once a function module loaded) writes JSON
    # lines to stdout; the command run alone has none. Keep the command's own output.
    result = [line for line in out.splitlines() if not line.startswith("{")]
    return code, "\n".join(result).strip(), err.strip()


def test_backfill_runs_to_the_end_with_a_progress_bar(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.customers(120)
    code, out, err = run(capsys, "backfill", PROJECT, "--kinds", "customers")
    assert code == 0
    run_id, status, marked, counts = out.split("\t")
    assert (status, marked, counts) == ("done", "120/120", "customers:120")
    assert "backfill [" in err and "120/120" in err
    assert run(capsys, "backfill", PROJECT, "--status")[:2] == (0, out)
    code, table, _ = run(capsys, "health", PROJECT, "--days", "1")
    assert code == 0
    header, today, run_line = table.splitlines()
    assert header.split("\t") == ["day", *health.COUNTERS]
    assert today.split("\t")[1:] == ["0"] * len(health.COUNTERS)
    assert run_line.split() == ["backfill", run_id, "done", "customers:120"]


def test_exit_codes_tell_refused_failed_and_stopped_apart(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "backfill", "prj_nope", "--kinds", "customers")[0] == 2
    assert run(capsys, "backfill", PROJECT, "--kinds", "emails")[0] == 2
    assert run(capsys, "backfill", PROJECT, "--status")[0] == 2  # none yet
    assert run(capsys, "backfill", PROJECT, "--detach")[:2] == (
        2,
        "--detach hands the backfill to the repair function: gcp mode only",
    )
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    code, _, err = run(capsys, "backfill", PROJECT, "--kinds", "customers")
    assert code == 2 and "already running" in err
    code, out, _ = run(capsys, "backfill", PROJECT, "--cancel")
    assert code == 0 and out.split("\t")[1] == "cancelled"
    assert run(capsys, "backfill", PROJECT, "--resume")[0] == 4
    repo.store.put(
        "projects",
        PROJECT,
        {**(repo.store.get("projects", PROJECT) or {}), "stripe_account": "acct_revoked"},
    )
    code, out, _ = run(capsys, "backfill", PROJECT, "--kinds", "customers")
    assert code == 1 and out.endswith("error:stripe_account_access")


def test_stripe_unreachable_is_exit_3(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    code, _, err = run(capsys, "backfill", PROJECT, "--kinds", "customers")
    assert code == 3 and "run it again" in err
    assert run(capsys, "backfill", PROJECT, "--status")[1].split("\t")[1] == "running"


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_redraws_on_a_terminal_and_prints_lines_in_a_log() -> None:
    assert render("x", 25, 100, "customers") == f"x [{'#' * 7}{'.' * 23}] 25/100  25%  customers"
    assert render("x", 7, 0) == "x 7"
    term = _Terminal()
    bar = Bar("x", term)
    bar.show(1, 2)
    bar.show(2, 2)
    bar.close()
    assert term.getvalue().count("\r") == 2 and term.getvalue().endswith("\n")
    log = _Pipe()
    bar = Bar("x", log, every=3600)
    bar.show(1, 2)
    bar.show(2, 2)  # throttled in a log
    bar.show(2, 2, force=True)
    assert log.getvalue().splitlines() == [render("x", 1, 2), render("x", 2, 2)]


@pytest.fixture
def paired(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stripe_double: StripeDouble,
    hubspot_double: HubSpotDouble,
) -> Iterator[Repo]:
    """A project paired with a HubSpot portal too, drift checks off."""
    _environ(monkeypatch, tmp_path, stripe_double, hubspot_double.base_url)
    made = make_repo(tmp_path, stripe_double, hubspot_double, {"reconcile_drift": "off"})
    yield made
    made.store.close()


def test_preview_prints_counts_and_start_runs_the_backfill_with_them(
    paired: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = paired
    repo.customers(3)
    repo.hubspot_contact("c0@example.com")
    code, out, _ = run(capsys, "preview", PROJECT, "--kinds", "customers")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["kind\tobjects", "customers\t3"]
    assert lines[2:4] == ["record\tcreated\tupdated\tadopted\tconflicts", "contacts\t2\t0\t1\t0"]
    assert lines[-1].endswith("search 0")
    assert backfill.progress(repo.store, PROJECT) is None  # a preview starts nothing
    code, out, err = run(capsys, "preview", PROJECT, "--kinds", "customers", "--start")
    assert code == 0 and "backfill [" in err
    assert out.splitlines()[-1].split("\t")[1:3] == ["done", "3/3"]


def test_reconcile_reports_each_project_and_exits_1_when_one_failed(
    paired: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = paired
    repo.customers(2)
    code, out, err = run(capsys, "reconcile")
    assert code == 0 and "reconcile [" in err
    project_id, run_id, counts = out.split("\t")
    assert (project_id, counts) == (PROJECT, "undelivered:2 accepted:2")
    assert run_id.startswith("rc_")
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", "prj_revoked", {**project, "stripe_account": "acct_revoked"})
    code, out, _ = run(capsys, "reconcile", PROJECT, "prj_revoked")
    assert code == 1
    assert out.splitlines()[1] == "prj_revoked\tfailed\tstripe_account_access"


def test_replay_lists_by_code_then_replays_and_exits_1_for_what_it_could_not(
    paired: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = paired
    store = repo.store
    base = {"project_id": PROJECT, "hubspot_id": "", "status": "failed", "at": 5.0}
    store.put(
        "outcomes",
        "evt_a",
        {
            **base,
            "event_id": "evt_a",
            "type": "customer.updated",
            "stripe_id": "cus_a",
            "error_code": "hubspot_503",
        },
    )
    store.put(
        "outcomes",
        "evt_b",
        {
            **base,
            "event_id": "evt_b",
            "type": "customer.updated",
            "stripe_id": "cus_b",
            "error_code": "email_in_use",
        },
    )
    store.put(
        "dead_letters",
        "evt_gone",
        {"project_id": PROJECT, "event_id": "evt_gone", "type": "customer.created", "at": 1.0},
    )
    code, out, _ = run(capsys, "replay", PROJECT)
    assert code == 0
    assert out.splitlines()[:3] == ["dead_lettered\t1", "email_in_use\t1", "hubspot_503\t1"]
    assert run(capsys, "replay", PROJECT, "--id", "evt_nope")[0] == 2
    assert run(capsys, "replay", PROJECT, "--code", "hubspot_503")[:2] == (
        0,
        "replayed\t1\nkeys\t1",
    )
    code, out, _ = run(capsys, "replay", PROJECT, "--all")
    assert code == 1
    assert out.splitlines() == ["replayed\t1", "keys\t1", "unresolved\tevent_gone\t1"]
    assert run(capsys, "replay", PROJECT)[1].splitlines()[0] == "dead_lettered\t1"
