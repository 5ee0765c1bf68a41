"""The operator's command line, against the doubles: account, project, listings."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.stack import PLATFORM_KEY, SECRETS
from tooling import cli


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hubspot_double: Any) -> Any:
    for name, value in {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": SECRETS[0],
        "HUBSPOT_API_BASE": hubspot_double.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    return hubspot_double


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_create_project_prints_its_id_and_sets_up_hubspot(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    portal, token = env.add_portal()
    code, project_id, _ = run(
        capsys,
        "create-project",
        "--email",
        "Owner@Example.com",
        "--stripe-account",
        "acct_1CLI",
        "--hubspot-token",
        token,
    )
    assert code == 0 and project_id.startswith("prj_")
    assert "stripe_customer_id" in env.property_names(portal, "contacts")
    code, listing, _ = run(capsys, "projects")
    assert listing.split("\t")[:3] == [project_id, "acct_1CLI", "test"]
    assert token not in listing
    assert run(capsys, "outcomes", project_id) == (0, "", "")


def test_same_account_and_mode_twice_is_refused(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = env.add_portal()
    args = [
        "create-project",
        "--email",
        "o@example.com",
        "--stripe-account",
        "acct_1Twice",
        "--hubspot-token",
        token,
    ]
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 2 and "already connected" in err
    assert run(capsys, *args, "--live")[0] == 0


def test_bad_input_gets_a_clear_error(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, token = env.add_portal()
    code, _, err = run(
        capsys,
        "create-project",
        "--email",
        "o@example.com",
        "--stripe-account",
        "cus_123",
        "--hubspot-token",
        token,
        "--skip-hubspot-setup",
    )
    assert code == 2 and "stripe_account" in err
    code, _, err = run(capsys, "create-account", "--email", "not-an-email")
    assert code == 2 and "email" in err


def test_a_token_hubspot_refuses_is_reported(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "create-project",
        "--email",
        "o@example.com",
        "--stripe-account",
        "acct_1Bad",
        "--hubspot-token",
        "pat-na1-wrong",
    )
    assert code == 2 and "hubspot" in err.lower()


def test_settings_are_validated_and_rules_checked_against_the_portal(
    env: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    portal, token = env.add_portal()
    pipeline, stages = env.add_pipeline(portal, "deals", "Subscriptions", ["Trial", "Paying"])
    _, project_id, _ = run(
        capsys,
        "create-project",
        "--email",
        "o@example.com",
        "--stripe-account",
        "acct_1Set",
        "--hubspot-token",
        token,
    )
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "pipeline_rules": [
                    {"statuses": ["trialing"], "pipeline": pipeline, "stage": stages["Trial"]}
                ]
            }
        )
    )
    assert run(capsys, "settings", project_id, "--set", str(good)) == (0, "settings saved", "")
    code, shown, _ = run(capsys, "settings", project_id)
    assert code == 0 and json.loads(shown)["pipeline_rules"][0]["stage"] == stages["Trial"]

    unknown = tmp_path / "unknown.json"
    unknown.write_text(
        json.dumps(
            {
                "pipeline_rules": [
                    {"statuses": ["active"], "pipeline": pipeline, "stage": "closedwon"}
                ]
            }
        )
    )
    code, _, err = run(capsys, "settings", project_id, "--set", str(unknown))
    assert code == 2 and f"pipeline '{pipeline}' has no stage 'closedwon'" in err
    code, out, _ = run(capsys, "settings", project_id, "--set", str(unknown), "--force")
    assert code == 0 and "warning: pipeline_rules[0]" in out

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"trials_count_as_mrr": "yes"}))
    code, _, err = run(capsys, "settings", project_id, "--set", str(bad))
    assert code == 2 and "trials_count_as_mrr" in err


def test_outcomes_lists_the_newest_limit_and_refuses_an_unbounded_limit(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, store, _ = cli._deps()
    for i in range(30):
        store.put(
            "outcomes",
            f"evt_{i:02d}",
            {
                "project_id": "prj_1",
                "event_id": f"evt_{i:02d}",
                "type": "customer.updated",
                "stripe_id": f"cus_{i:02d}",
                "status": "synced",
                "hubspot_id": str(i),
                "error_code": "",
                "at": 1000.0 + i,
            },
        )
    code, out, _ = run(capsys, "outcomes", "prj_1", "--limit", "3")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == ["evt_29", "evt_28", "evt_27"]
    assert len(run(capsys, "outcomes", "prj_1")[1].splitlines()) == 20
    for wrong in ("0", "-1", str(cli.MAX_LIMIT + 1), "many"):
        with pytest.raises(SystemExit) as refused:
            cli.main(["outcomes", "prj_1", "--limit", wrong])
        assert refused.value.code == 2
        assert "a whole number from 1 to" in capsys.readouterr().err
