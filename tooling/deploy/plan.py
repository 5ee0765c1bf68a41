"""From the Terraform outputs and ``infra/functions.json`` to the exact gcloud commands of a deploy.

Pure: nothing here calls anything. ``make deploy`` runs the steps, ``make deploy DRY_RUN=1``
prints them, and the tests read them. A step may capture a command's output into a shell variable
(the name of the Pub/Sub subscription Eventarc created) that later steps use as ``$NAME``.
"""

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.deploy.spec import ROOT, Function, Spec

RUNTIME = "python312"
BUILD_ROOT = ROOT / ".omniroo" / "build"
_VARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


class PlanError(Exception):
    """The outputs or the pins cannot make a complete, reproducible deploy; says what is missing."""


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    capture: str | None = None  # shell variable that takes the command's standard output
    function: str = ""

    def render(self) -> str:
        """The command as a shell line; a long one is continued with one flag a line."""
        head = [w for w in self.argv if not w.startswith("--")]
        flags = [w for w in self.argv if w.startswith("--")]
        words = " ".join(_quote(word) for word in head)
        separator = " \\\n    " if len(flags) > 6 else " "
        if flags:
            words += separator + separator.join(_quote(flag) for flag in flags)
        return f"{self.capture}=$({words})" if self.capture else words


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    staged: tuple[str, ...]  # functions whose source is staged and deployed
    skipped: tuple[str, ...]  # declared functions not deployed: no folder yet, or not asked for

    def render(self) -> str:
        lines = [
            f"# stage {_relative(source_dir(name))}: main.py, shared/, requirements.txt"
            for name in self.staged
        ]
        lines += [f"# skipped {name}: {_why_skipped(name)}" for name in self.skipped]
        lines += [step.render() for step in self.steps]
        return "\n".join(lines)


def read_outputs(text: str) -> dict[str, Any]:
    """``terraform output -json`` (each value wrapped in {"value": ...}) or a plain object."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise PlanError("Terraform outputs must be a JSON object")
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in raw.items()
    }


def source_dir(name: str) -> Path:
    return BUILD_ROOT / name


def build(
    spec: Spec,
    outputs: Mapping[str, Any],
    pins: Mapping[str, str] | None = None,
    present: set[str] | None = None,
) -> Plan:
    """Every step of a deploy of the functions in ``present`` (default: those with a folder)."""
    out = _Outputs(outputs)
    versions = {**out.get("secret_versions"), **(pins or {})}
    if present is None:
        present = {n for n, fn in spec.functions.items() if (fn.folder / "main.py").is_file()}
    names = [n for n in spec.functions if n in present]
    missing = sorted(
        {s for n in names for s in spec.functions[n].secrets if not str(versions.get(s, ""))}
    )
    if missing:
        raise PlanError(
            f"no pinned version for {', '.join(missing)}: set secret_versions in terraform.tfvars "
            "(then terraform apply) or SECRET_VERSIONS='NAME=N ...' on the make command line"
        )
    for name, version in versions.items():
        if not str(version).isdigit():
            raise PlanError(f"{name} must be pinned to a version number, not {version!r}")
    steps: list[Step] = []
    for name in names:
        steps.extend(_function_steps(spec.functions[name], out, versions))
    skipped = tuple(n for n in spec.functions if n not in names)
    return Plan(tuple(steps), tuple(names), skipped)


class _Outputs:
    def __init__(self, outputs: Mapping[str, Any]) -> None:
        self._outputs = outputs

    def get(self, key: str) -> Any:
        if key not in self._outputs:
            raise PlanError(f"Terraform output {key!r} is missing: run terraform apply in infra/")
        return self._outputs[key]

    def account(self, who: str) -> str:
        accounts = self.get("service_accounts")
        if who not in accounts:
            raise PlanError(f"no service account for {who!r} in the Terraform outputs")
        return str(accounts[who])


def _oauth_env(out: "_Outputs") -> dict[str, str]:
    """Client ids and the public URL (none is a secret), so OAuth settings are whole at start."""
    oauth = out.get("oauth")
    return {
        "STRIPE_CLIENT_ID": str(oauth["stripe_client_id"]),
        "HUBSPOT_CLIENT_ID": str(oauth["hubspot_client_id"]),
        "OMNIROO_PUBLIC_URL": str(oauth["public_url"]),
    }


def _function_steps(fn: Function, out: _Outputs, versions: Mapping[str, str]) -> list[Step]:
    project, region = str(out.get("project_id")), str(out.get("region"))
    topics = out.get("topics")
    secrets = out.get("secrets")
    where = (f"--project={project}", f"--region={region}")
    env = {
        "OMNIROO_ENV": "gcp",
        "GOOGLE_CLOUD_PROJECT": project,
        "OMNIROO_KMS_KEY": str(out.get("kms_key")),
        "OMNIROO_DRAIN_TOPIC": str(topics["drain"]),
        "OMNIROO_JOBS_TOPIC": str(topics["jobs"]),
        "OMNIROO_DEAD_LETTER_SUBSCRIPTION": str(out.get("subscriptions")["dead_letters"]),
        "OMNIROO_FIRESTORE_DATABASE": str(out.get("firestore_database")),
        **_oauth_env(out),
    }
    if not fn.public:
        # A drain stops starting rounds well before the function's timeout, then wakes its
        # project again for the next invocation.
        env["OMNIROO_DRAIN_TIME_LIMIT"] = str(max(fn.timeout_seconds - 60, fn.timeout_seconds // 2))
    argv = [
        "gcloud", "functions", "deploy", fn.name, "--gen2", *where,
        f"--runtime={RUNTIME}",
        f"--source={_relative(source_dir(fn.name))}",
        f"--entry-point={fn.name}",
        f"--service-account={out.account(fn.name)}",
        f"--build-service-account=projects/{project}/serviceAccounts/{out.account('build')}",
        f"--docker-repository={out.get('docker_repository')}",
        f"--ingress-settings={'internal-and-gclb' if fn.public else 'internal-only'}",
        f"--vpc-connector={out.get('vpc_connector')}",
        "--egress-settings=all",
        f"--memory={fn.memory}",
        f"--timeout={fn.timeout_seconds}s",
        f"--min-instances={fn.min_instances}",
        f"--max-instances={fn.max_instances}",
        "--set-env-vars=" + ",".join(f"{k}={v}" for k, v in env.items()),
    ]  # fmt: skip
    if fn.secrets:
        argv.append(
            "--set-secrets="
            + ",".join(f"{name}={secrets[name]}:{versions[name]}" for name in fn.secrets)
        )
    if fn.public:
        # The load balancer carries no Google identity, so the public functions admit any caller;
        # --ingress-settings keeps their own URLs closed to the internet.
        argv += ["--trigger-http", "--allow-unauthenticated", "--quiet"]
        return [Step(tuple(argv), function=fn.name)]
    trigger_account = out.account("trigger")
    argv += [
        f"--trigger-topic={topics[fn.trigger]}",
        f"--trigger-service-account={trigger_account}",
        "--retry",
        "--quiet",
    ]
    return [Step(tuple(argv), function=fn.name), *_delivery_steps(fn, out, trigger_account)]


def _delivery_steps(fn: Function, out: _Outputs, trigger_account: str) -> list[Step]:
    """Invoker for the trigger identity, then retry, dead-letter and retention on the
    subscription Eventarc created (it cannot be declared in Terraform)."""
    project, region = str(out.get("project_id")), str(out.get("region"))
    delivery = out.get("delivery")
    prefix = fn.name.upper()
    trigger, subscription = f"{prefix}_TRIGGER", f"{prefix}_SUBSCRIPTION"
    steps = [
        ("gcloud", "functions", "add-invoker-policy-binding", fn.name,
         f"--project={project}", f"--region={region}",
         f"--member=serviceAccount:{trigger_account}"),
        ("gcloud", "functions", "describe", fn.name, "--gen2",
         f"--project={project}", f"--region={region}",
         "--format=value(eventTrigger.trigger)"),
        ("gcloud", "eventarc", "triggers", "describe", f"${trigger}",
         f"--project={project}", f"--location={region}",
         "--format=value(transport.pubsub.subscription)"),
        ("gcloud", "pubsub", "subscriptions", "update", f"${subscription}",
         f"--project={project}",
         f"--dead-letter-topic={delivery['dead_letter_topic']}",
         f"--max-delivery-attempts={delivery['max_delivery_attempts']}",
         f"--min-retry-delay={delivery['min_retry_delay']}",
         f"--max-retry-delay={delivery['max_retry_delay']}",
         f"--message-retention-duration={delivery['message_retention']}"),
        ("gcloud", "pubsub", "subscriptions", "add-iam-policy-binding", f"${subscription}",
         f"--project={project}", f"--member={delivery['pubsub_agent']}",
         "--role=roles/pubsub.subscriber"),
    ]  # fmt: skip
    captures: list[str | None] = [None, trigger, subscription, None, None]
    return [
        Step(tuple(argv), capture=capture, function=fn.name)
        for argv, capture in zip(steps, captures, strict=True)
    ]


def _why_skipped(name: str) -> str:
    if (ROOT / "functions" / name / "main.py").is_file():
        return "not asked for"
    return f"functions/{name}/ does not exist yet"


def _quote(word: str) -> str:
    if _VARIABLE.fullmatch(word):
        return f'"{word}"'
    return shlex.quote(word)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def substitute(word: str, captured: Mapping[str, str]) -> str:
    """A word with ``$NAME`` replaced by what an earlier step captured."""
    return _VARIABLE.sub(lambda m: captured[m.group(1)], word)
