"""``make deploy DRY_RUN=1``: the exact gcloud commands, checked flag by flag against
``infra/functions.json`` and the Terraform outputs; and the build directory each one uploads."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.config import PUSH, WEBHOOK, Needs, Settings
from shared.errors import ConfigError
from tests.infra.terraform import INFRA, load
from tooling.deploy import plan, spec, stage
from tooling.deploy.__main__ import main as deploy_main

ROOT = INFRA.parent
EXAMPLE = INFRA / "outputs.example.json"
SPEC = spec.load()
OUTPUTS = plan.read_outputs(EXAMPLE.read_text())


def flags(step: plan.Step) -> dict[str, str]:
    found: dict[str, str] = {}
    for word in step.argv:
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            found[name] = value
    return found


def deploy_steps(every: bool = False) -> dict[str, plan.Step]:
    present = set(SPEC.functions) if every else None
    built = plan.build(SPEC, OUTPUTS, present=present)
    return {s.function: s for s in built.steps if s.argv[:3] == ("gcloud", "functions", "deploy")}


def test_every_function_with_a_folder_is_deployed_and_the_others_are_named() -> None:
    built = plan.build(SPEC, OUTPUTS)
    existing = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert set(built.staged) == existing & set(SPEC.functions)
    assert set(built.skipped) == set(SPEC.functions) - existing
    assert {"stripe_webhook", "hubspot_push"} <= set(built.staged)


@pytest.mark.parametrize("name", sorted(SPEC.functions))
def test_each_deploy_command_has_the_flags_of_its_spec(name: str) -> None:
    fn = SPEC.functions[name]
    step = deploy_steps(every=True)[name]
    given = flags(step)
    assert step.argv[3] == name
    assert "gen2" in given
    assert given["runtime"] == "python312"
    assert given["entry-point"] == name
    assert given["source"] == f".omniroo/build/{name}"
    assert given["service-account"] == OUTPUTS["service_accounts"][name]
    assert given["vpc-connector"] == OUTPUTS["vpc_connector"]
    assert given["egress-settings"] == "all"
    assert given["memory"] == fn.memory
    assert given["timeout"] == f"{fn.timeout_seconds}s"
    assert given["min-instances"] == str(fn.min_instances)
    assert given["max-instances"] == str(fn.max_instances)
    env = dict(item.split("=", 1) for item in given["set-env-vars"].split(","))
    assert env["OMNIROO_ENV"] == "gcp"
    assert env["GOOGLE_CLOUD_PROJECT"] == OUTPUTS["project_id"]
    assert env["OMNIROO_KMS_KEY"] == OUTPUTS["kms_key"]
    assert env["OMNIROO_DRAIN_TOPIC"] == OUTPUTS["topics"]["drain"]
    if not fn.public:
        assert 0 < float(env["OMNIROO_DRAIN_TIME_LIMIT"]) < fn.timeout_seconds
    if fn.public:
        assert given["ingress-settings"] == "internal-and-gclb"
        assert "trigger-http" in given
    else:
        assert given["ingress-settings"] == "internal-only"
        assert given["trigger-topic"] == OUTPUTS["topics"][fn.trigger]
        assert given["trigger-service-account"] == OUTPUTS["service_accounts"]["trigger"]
        assert "retry" in given


@pytest.mark.parametrize("name", sorted(SPEC.functions))
def test_secrets_are_mounted_from_pinned_versions_and_exist_in_terraform(name: str) -> None:
    fn = SPEC.functions[name]
    given = flags(deploy_steps(every=True)[name])
    mounted = dict(item.split("=", 1) for item in given.get("set-secrets", "").split(",") if item)
    assert set(mounted) == set(fn.secrets)
    for env_name, reference in mounted.items():
        secret_id, version = reference.split(":")
        assert secret_id == OUTPUTS["secrets"][env_name]
        assert version == OUTPUTS["secret_versions"][env_name] and version.isdigit()
        assert env_name in SPEC.secrets  # so Terraform's local.secret_ids declares it


def test_hubspot_push_is_triggered_by_the_drain_topic_with_dead_lettering() -> None:
    steps = [s for s in plan.build(SPEC, OUTPUTS).steps if s.function == "hubspot_push"]
    deploy, invoker, trigger, subscription, update, agent = steps
    assert flags(deploy)["trigger-topic"] == OUTPUTS["topics"]["drain"]
    assert invoker.argv[:3] == ("gcloud", "functions", "add-invoker-policy-binding")
    assert flags(invoker)["member"] == f"serviceAccount:{OUTPUTS['service_accounts']['trigger']}"
    assert trigger.capture == "HUBSPOT_PUSH_TRIGGER"
    assert subscription.capture == "HUBSPOT_PUSH_SUBSCRIPTION"
    assert "$HUBSPOT_PUSH_TRIGGER" in subscription.argv
    assert (
        "$HUBSPOT_PUSH_SUBSCRIPTION" in update.argv and "$HUBSPOT_PUSH_SUBSCRIPTION" in agent.argv
    )
    delivery = OUTPUTS["delivery"]
    assert flags(update) == {
        "project": OUTPUTS["project_id"],
        "dead-letter-topic": delivery["dead_letter_topic"],
        "max-delivery-attempts": str(delivery["max_delivery_attempts"]),
        "min-retry-delay": "10s",
        "max-retry-delay": "600s",
        "message-retention-duration": "86400s",
    }
    assert flags(agent)["role"] == "roles/pubsub.subscriber"


def test_the_public_functions_are_the_load_balancer_routes() -> None:
    public = {
        name for name, step in deploy_steps(every=True).items() if "trigger-http" in flags(step)
    }
    assert public == {name for name, fn in SPEC.functions.items() if fn.public}
    for name in public:
        assert "allow-unauthenticated" in flags(deploy_steps(every=True)[name])


def test_a_missing_or_floating_pin_is_refused_and_an_override_wins() -> None:
    unpinned = {**OUTPUTS, "secret_versions": {}}
    with pytest.raises(plan.PlanError, match="STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"):
        plan.build(SPEC, unpinned)
    with pytest.raises(plan.PlanError, match="version number, not 'latest'"):
        plan.build(SPEC, OUTPUTS, {"STRIPE_WEBHOOK_SECRET": "latest"})
    step = deploy_steps()["stripe_webhook"]
    assert flags(step)["set-secrets"].endswith(":3")
    built = plan.build(SPEC, OUTPUTS, {"STRIPE_WEBHOOK_SECRET": "7"})
    assert (
        "--set-secrets=STRIPE_WEBHOOK_SECRET=omniroo-stripe-webhook-secret:7" in built.steps[0].argv
    )


def test_a_missing_output_names_it() -> None:
    partial = {k: v for k, v in OUTPUTS.items() if k != "vpc_connector"}
    with pytest.raises(plan.PlanError, match="'vpc_connector' is missing"):
        plan.build(SPEC, partial)


def test_captured_values_are_substituted_and_printed_as_shell_variables() -> None:
    step = plan.Step(("gcloud", "x", "$A_B"), capture="C")
    assert step.render() == 'C=$(gcloud x "$A_B")'
    assert plan.substitute("$A_B", {"A_B": "projects/p/subscriptions/s"}) == (
        "projects/p/subscriptions/s"
    )


def test_make_deploy_dry_run_prints_runnable_shell_and_no_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "deploy", "DRY_RUN=1", f"TF_OUTPUTS={EXAMPLE}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    text = result.stdout
    assert not re.search(r"(sk|rk)_(live|test)_|whsec_", text)
    commands = [
        line for line in text.replace("\\\n", " ").splitlines() if line.startswith(("g", "H"))
    ]
    deploys = [shlex.split(c) for c in commands if c.startswith("gcloud functions deploy")]
    assert {words[3] for words in deploys} == set(plan.build(SPEC, OUTPUTS).staged)
    script = tmp_path / "deploy.sh"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)  # it parses as shell


def test_dry_run_calls_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"dry run ran {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(stage, "stage", refuse)
    assert deploy_main(["--dry-run", "--outputs", str(EXAMPLE)]) == 0
    assert "gcloud functions deploy stripe_webhook" in capsys.readouterr().out


def test_outputs_the_plan_reads_are_declared_in_terraform() -> None:
    assert set(OUTPUTS) <= set(load().outputs)


# -- What each function uploads -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["stripe_webhook", "hubspot_push"])
def test_the_build_dir_holds_main_shared_and_requirements_only_and_imports(
    name: str, tmp_path: Path
) -> None:
    target = stage.stage(SPEC.functions[name], tmp_path / name)
    assert sorted(p.name for p in target.iterdir()) == ["main.py", "requirements.txt", "shared"]
    shipped = {p.relative_to(target).as_posix() for p in target.rglob("*")}
    assert "shared/wiring.py" in shipped
    assert not any(p.startswith("tooling/deploy") or "__pycache__" in p for p in shipped)
    assert (target / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    env = {
        "PATH": os.environ["PATH"],
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path / "data"),
        "STRIPE_SECRET_KEY": "sk_test_staged",
        "STRIPE_WEBHOOK_SECRET": "whsec_staged",
    }
    # Imported from the build dir alone, as the runtime does: shared/ must be inside it.
    subprocess.run(
        [sys.executable, "-c", f"import main; assert callable(main.{name})"],
        cwd=target,
        env=env,
        check=True,
        timeout=60,
    )


# -- Settings a deployed function starts with -----------------------------------------------------


@pytest.mark.parametrize(("name", "needs"), [("stripe_webhook", WEBHOOK), ("hubspot_push", PUSH)])
def test_the_settings_accept_exactly_what_deploy_gives_the_function(
    name: str, needs: Needs
) -> None:
    given = flags(deploy_steps()[name])
    env = dict(item.split("=", 1) for item in given["set-env-vars"].split(","))
    samples = {
        "STRIPE_WEBHOOK_SECRET": "whsec_sample",
        "STRIPE_SECRET_KEY": "sk_test_sample",
        "HUBSPOT_CLIENT_SECRET": "hubspot-secret-sample",
    }
    for item in given.get("set-secrets", "").split(","):
        env[item.split("=")[0]] = samples[item.split("=")[0]]
    assert Settings.from_env(env, needs=needs).env == "gcp"
    for secret in [item.split("=")[0] for item in given.get("set-secrets", "").split(",") if item]:
        with pytest.raises(ConfigError, match=secret):
            Settings.from_env({k: v for k, v in env.items() if k != secret}, needs=needs)


def test_the_example_outputs_are_valid_json() -> None:
    assert json.loads(EXAMPLE.read_text())["region"]["value"]


# -- A real run, against a stand-in gcloud ------------------------------------------------------

FAKE_GCLOUD = """#!/usr/bin/env bash
echo "$*" >> "$GCLOUD_LOG"
case "$*" in
  "functions describe"*) echo "projects/p/locations/r/triggers/hubspot-push-1" ;;
  "eventarc triggers describe"*) echo "projects/p/subscriptions/eventarc-r-hubspot-push-1-sub" ;;
  *"--fail-me"*) exit 1 ;;
esac
"""


@pytest.fixture
def gcloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gcloud"
    script.write_text(FAKE_GCLOUD)
    script.chmod(0o755)
    log = tmp_path / "gcloud.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("GCLOUD_LOG", str(log))
    monkeypatch.setattr(plan, "BUILD_ROOT", tmp_path / "build")
    return log


def test_a_deploy_stages_each_function_and_feeds_captured_names_forward(
    gcloud: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy_main(["--outputs", str(EXAMPLE)]) == 0
    calls = gcloud.read_text().splitlines()
    declared = list(spec.load().functions)
    assert [c.split()[2] for c in calls if c.startswith("functions deploy")] == declared
    assert "eventarc triggers describe projects/p/locations/r/triggers/hubspot-push-1" in "\n".join(
        calls
    )
    update = next(c for c in calls if c.startswith("pubsub subscriptions update"))
    assert update.split()[3] == "projects/p/subscriptions/eventarc-r-hubspot-push-1-sub"
    for name in ("stripe_webhook", "hubspot_push"):
        assert (tmp_path / "build" / name / "shared" / "wiring.py").is_file()
        assert f"--source={tmp_path / 'build' / name}" in "\n".join(calls)
    assert f"deployed: {', '.join(declared)}" in capsys.readouterr().err


def test_a_failing_command_stops_the_deploy(
    gcloud: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = (
        plan.Step(("gcloud", "first")),
        plan.Step(("gcloud", "--fail-me")),
        plan.Step(("gcloud", "never")),
    )
    monkeypatch.setattr(plan, "build", lambda *a, **k: plan.Plan(steps, (), ()))
    assert deploy_main(["--outputs", str(EXAMPLE)]) == 1
    assert gcloud.read_text().splitlines() == ["first", "--fail-me"]
    assert "deploy: stopped" in capsys.readouterr().err


def test_without_an_outputs_file_terraform_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/usr/bin/env bash\ncat {EXAMPLE}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert deploy_main(["--dry-run", "--only", "stripe_webhook"]) == 0
    out = capsys.readouterr().out
    assert "gcloud functions deploy stripe_webhook" in out
    assert "gcloud functions deploy hubspot_push" not in out
    assert "# skipped hubspot_push: not asked for" in out
    assert deploy_main(["--dry-run", "--only", "reconcile"]) == 2
    assert "no such function folder: reconcile" in capsys.readouterr().err
