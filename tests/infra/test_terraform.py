"""The Terraform in ``infra/``, read with an HCL parser and checked against the code: network
exposure, TTL fields, service-account roles, secrets, rules, keys, queues and alerts."""

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.store.base import EXPIRE_AT, FIELDS
from tests.infra.terraform import INFRA, load
from tooling.deploy import spec

ANYWHERE = {"0.0.0.0/0", "::/0"}
SPEC = spec.load()
# The only roles a function may hold, by the kind of resource they are bound on.
NARROW = {
    "project": {"roles/datastore.user"},
    "kms_key": {"roles/cloudkms.cryptoKeyEncrypterDecrypter"},
    "topic": {"roles/pubsub.publisher"},
    "subscription": {"roles/pubsub.subscriber"},
    "secret": {"roles/secretmanager.secretAccessor"},
}
PRIMITIVE = re.compile(r"roles/(owner|editor|viewer)\b")


def quoted(expression: str) -> list[str]:
    return re.findall(r'"([^"$]+)"', expression)


def unescape(text: str) -> str:
    return text.replace('\\"', '"')


def test_every_file_parses_and_the_provider_is_pinned_exactly() -> None:
    tf = load()
    assert len(tf.files) >= 10
    [settings] = tf.terraform
    assert settings["required_version"]
    [providers] = settings["required_providers"]
    assert providers["google"]["source"] == "hashicorp/google"
    assert re.fullmatch(r"\d+\.\d+\.\d+", providers["google"]["version"])


def test_every_variable_is_described_typed_and_validated() -> None:
    for name, variable in load().variables.items():
        assert variable.get("description"), name
        assert variable.get("type"), name
        assert variable.get("validation"), f"variable {name} has no validation"


def test_the_example_tfvars_sets_only_declared_variables() -> None:
    text = (INFRA / "terraform.tfvars.example").read_text()
    names = set(re.findall(r"^([a-z_]+)\s*=", text, re.MULTILINE))
    assert names <= set(load().variables)
    required = {n for n, v in load().variables.items() if "default" not in v}
    assert required <= names


# -- Network ----------------------------------------------------------------------------------


def test_no_ingress_rule_allows_the_internet() -> None:
    # The load balancer needs none: serverless NEG traffic never enters the VPC.
    for name, rule in load().of_kind("google_compute_firewall").items():
        if rule.get("direction", "INGRESS") != "INGRESS" or not rule.get("allow"):
            continue
        sources = set(rule.get("source_ranges", []))
        assert not sources & ANYWHERE, f"{name} allows ingress from anywhere"
        assert sources, f"{name} allows ingress without naming its sources"
        for source in sources:
            assert ipaddress.ip_network(source).prefixlen >= 16, (name, source)


def test_default_deny_both_ways_logged_and_egress_only_on_443() -> None:
    rules = load().of_kind("google_compute_firewall")
    denies = {
        rule["direction"]: rule
        for rule in rules.values()
        if rule.get("deny") and rule["deny"][0]["protocol"] == "all"
    }
    assert set(denies["INGRESS"]["source_ranges"]) == {"0.0.0.0/0"}
    assert set(denies["EGRESS"]["destination_ranges"]) == {"0.0.0.0/0"}
    for rule in rules.values():
        assert rule.get("log_config"), f"{rule['name']} is not logged"
        if rule.get("direction") == "EGRESS" and rule.get("allow"):
            assert rule["allow"] == [{"protocol": "tcp", "ports": ["443"]}]
            assert rule["priority"] < denies["EGRESS"]["priority"]


def test_subnet_private_google_access_connector_and_static_nat() -> None:
    tf = load()
    subnet = tf.resource("google_compute_subnetwork", "connector")
    assert subnet["private_ip_google_access"] is True
    assert subnet["log_config"]
    connector = tf.resource("google_vpc_access_connector", "connector")
    assert "google_compute_subnetwork.connector" in connector["subnet"][0]["name"]
    nat = tf.resource("google_compute_router_nat", "nat")
    assert nat["nat_ip_allocate_option"] == "MANUAL_ONLY"
    assert "google_compute_address.nat" in nat["nat_ips"]
    assert "google_compute_address.nat" in tf.outputs["nat_ips"]["value"]


# -- Firestore --------------------------------------------------------------------------------


def test_ttl_policies_are_exactly_the_expiry_fields_the_code_writes() -> None:
    tf = load()
    expiring = {collection for collection, fields in FIELDS.items() if EXPIRE_AT in fields}
    declared = set(quoted(tf.locals["ttl_collections"]))
    assert declared == expiring, (
        f"infra/firestore.tf ttl_collections must be exactly the collections of FIELDS "
        f"(shared/store/base.py) that hold {EXPIRE_AT}: add {sorted(expiring - declared)}, "
        f"remove {sorted(declared - expiring)}"
    )
    assert tf.locals["ttl_field"] == EXPIRE_AT
    ttl = tf.resource("google_firestore_field", "ttl")
    assert ttl["for_each"] == "${local.ttl_collections}"
    assert ttl["field"] == "${local.ttl_field}"
    assert ttl["ttl_config"] == [{}]
    assert ttl["index_config"] == [{}]  # an indexed, ever-growing timestamp makes hotspots


def test_firestore_is_native_and_protected() -> None:
    database = load().resource("google_firestore_database", "main")
    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["delete_protection_state"] == "DELETE_PROTECTION_ENABLED"


def test_firestore_rules_deny_every_client_and_are_deployed() -> None:
    rules = (INFRA / "firestore.rules").read_text()
    code = re.sub(r"//[^\n]*", "", rules)
    allows = re.findall(r"allow\s+([a-z, ]+):\s*if\s+([^;]+);", code)
    assert allows == [("read, write", "false")]
    assert "match /{document=**}" in code
    ruleset = load().resource("google_firebaserules_ruleset", "firestore")
    assert "firestore.rules" in ruleset["source"][0]["files"][0]["content"]
    assert load().resource("google_firebaserules_release", "firestore")["name"] == "cloud.firestore"


# -- Identities and roles ---------------------------------------------------------------------


def test_terraform_derives_every_role_from_the_allowlist() -> None:
    tf = load()
    assert tf.locals["spec"] == '${jsondecode(file("${path.module}/functions.json"))}'
    derived = {
        "google_project_iam_member": "project_bindings",
        "google_kms_crypto_key_iam_member": "key_bindings",
        "google_pubsub_topic_iam_member": "topic_bindings",
        "google_pubsub_subscription_iam_member": "subscription_bindings",
        "google_secret_manager_secret_iam_member": "secret_bindings",
        "google_artifact_registry_repository_iam_member": "repository_bindings",
    }
    for kind, local in derived.items():
        body = tf.resource(kind, "fn")
        assert body["for_each"] == "${local." + local + "}"
        assert body["role"] == "${each.value.role}"
        assert body["member"] == "${google_service_account.sa[each.value.who].member}"
    # Any other grant is one of the two the platform's own agents need, on one resource each.
    others = {
        (kind, name)
        for kind, named in tf.resources.items()
        if kind.endswith(("_iam_member", "_iam_binding", "_iam_policy"))
        for name in named
        if name != "fn"
    }
    assert others == {
        ("google_service_account_iam_member", "pubsub_agent_token_creator"),
        ("google_pubsub_topic_iam_member", "dead_letter_publisher"),
    }
    for text in (p.read_text() for p in INFRA.glob("*.tf")):
        assert not PRIMITIVE.search(text)
        assert "google_project_iam_binding" not in text and "google_project_iam_policy" not in text


def test_one_service_account_per_function_and_identity() -> None:
    tf = load()
    assert tf.resource("google_service_account", "sa")["for_each"] == "${local.account_ids}"
    accounts = [fn.account for fn in SPEC.functions.values()] + list(SPEC.identities)
    assert len(set(accounts)) == len(accounts)
    # prefix of at most 11 characters + "-" + account: a service account id has at most 30
    assert all(len(account) <= 13 for account in accounts)


@pytest.mark.parametrize("name", sorted(SPEC.functions))
def test_each_function_holds_only_narrow_roles_on_single_resources(name: str) -> None:
    fn = SPEC.functions[name]
    assert spec.Binding("roles/datastore.user", "project") in fn.roles
    for binding in fn.roles:
        kind = binding.on.split(":")[0]
        assert binding.role in NARROW[kind], binding
        if kind == "topic":
            assert binding.on.removeprefix("topic:") in SPEC.topics
        if kind == "subscription":
            assert binding.on.removeprefix("subscription:") in SPEC.subscriptions
        if kind == "secret":
            assert binding.on.removeprefix("secret:") in SPEC.secrets
    assert len(set(fn.roles)) == len(fn.roles)


def test_the_roles_the_brief_names_for_the_deployed_functions() -> None:
    webhook, push = SPEC.functions["stripe_webhook"], SPEC.functions["hubspot_push"]
    assert webhook.secrets == ("STRIPE_WEBHOOK_SECRET",)
    assert spec.Binding("roles/pubsub.publisher", "topic:drain") in webhook.roles
    assert not any(b.on == "kms_key" for b in webhook.roles)  # it stores no token
    assert sorted(push.secrets) == ["HUBSPOT_CLIENT_SECRET", "STRIPE_SECRET_KEY"]  # refresh
    assert push.trigger == "drain"
    # The drainer wakes projects (the sweep's fan-out, itself before its timeout): no other topic.
    assert [b.on for b in push.roles if b.on.startswith("topic:")] == ["topic:drain"]
    assert SPEC.functions["purge"].roles == (spec.Binding("roles/datastore.user", "project"),)


def test_the_repair_function_reads_what_it_repairs_and_publishes_only_its_own_jobs() -> None:
    repair = SPEC.functions["repair"]
    assert repair.trigger == "jobs"
    assert sorted(repair.secrets) == ["HUBSPOT_CLIENT_SECRET", "STRIPE_SECRET_KEY"]
    assert spec.Binding("roles/cloudkms.cryptoKeyEncrypterDecrypter", "kms_key") in repair.roles
    assert [b.on for b in repair.roles if b.role == "roles/pubsub.publisher"] == ["topic:jobs"]
    assert [b.on for b in repair.roles if b.role == "roles/pubsub.subscriber"] == [
        "subscription:dead_letters"
    ]
    # the function's own idea of its timeout, by which its job chains, is the deployed one
    source = (repair.folder / "main.py").read_text()
    assert f"TIMEOUT_SECONDS = {repair.timeout_seconds}" in source
    tf = load()
    body = tf.resource("google_pubsub_subscription_iam_member", "fn")
    assert body["subscription"] == "${local.subscription_ids[each.value.subscription]}"
    hold = tf.resource("google_pubsub_subscription", "dead_letters")
    assert hold["name"] == "${var.name_prefix}-${local.subscriptions.dead_letters}"


# -- Secrets, keys, queues ----------------------------------------------------------------------


def test_every_mounted_secret_exists_in_terraform_without_a_value() -> None:
    tf = load()
    secret = tf.resource("google_secret_manager_secret", "secret")
    assert secret["for_each"] == "${local.secret_ids}"
    assert "local.spec.secrets" in tf.locals["secret_ids"]
    mounted = {s for fn in SPEC.functions.values() for s in fn.secrets}
    assert mounted <= set(SPEC.secrets)
    assert "google_secret_manager_secret_version" not in tf.resources
    variables = (INFRA / "terraform.tfvars.example").read_text()
    assert not re.search(r"(sk|rk)_(live|test)_|whsec_|pat-", variables)


def test_the_key_rotates_within_90_days_and_cannot_be_destroyed() -> None:
    tf = load()
    key = tf.resource("google_kms_crypto_key", "tokens")
    assert key["lifecycle"] == [{"prevent_destroy": True}]
    assert key["rotation_period"] == "${var.kms_rotation_period}"
    default = tf.variables["kms_rotation_period"]["default"]
    assert int(default.removesuffix("s")) <= 90 * 86400
    assert "<= 7776000" in tf.variables["kms_rotation_period"]["validation"][0]["condition"]


def test_topics_and_the_dead_letter_hold_keep_messages_no_longer_than_needed() -> None:
    tf = load()
    assert set(SPEC.topics) == {"drain", "dead_letters", "jobs"}
    hold = tf.resource("google_pubsub_subscription", "dead_letters")
    assert int(hold["message_retention_duration"].removesuffix("s")) <= 7 * 86400
    assert hold["retry_policy"]
    delivery = tf.locals["delivery"]
    assert int(delivery["message_retention"].removesuffix("s")) <= 86400
    assert delivery["max_delivery_attempts"] == "${var.push_max_delivery_attempts}"
    purge = tf.resource("google_cloud_scheduler_job", "purge")
    assert "jobs" in purge["pubsub_target"][0]["topic_name"]
    sweep = tf.resource("google_cloud_scheduler_job", "drain_sweep")
    assert "drain" in sweep["pubsub_target"][0]["topic_name"]
    assert sweep["schedule"] == "${var.drain_sweep_schedule}"
    assert tf.variables["drain_sweep_schedule"]["default"] == "* * * * *"


# -- Edge -------------------------------------------------------------------------------------


def test_every_public_function_is_routed_behind_cloud_armor() -> None:
    tf = load()
    public = {name for name, fn in SPEC.functions.items() if fn.public}
    assert all(SPEC.functions[name].path for name in public)
    assert tf.resource("google_compute_region_network_endpoint_group", "fn")["for_each"] == (
        "${local.public_functions}"
    )
    backend = tf.resource("google_compute_backend_service", "fn")
    assert backend["security_policy"] == "${google_compute_security_policy.edge.id}"
    proxy = tf.resource("google_compute_target_https_proxy", "https")
    assert "managed_ssl_certificate" in proxy["ssl_certificates"][0]
    armor = json.dumps(tf.resource("google_compute_security_policy", "edge"))
    armor += json.dumps(tf.locals["waf_rules"])
    for rule in ("sqli", "xss", "lfi", "rfi", "rce", "cve-canary"):
        assert rule in armor
    assert '"exceed_action": "deny(429)"' in armor and '"enforce_on_key": "IP"' in armor


# -- Monitoring -------------------------------------------------------------------------------

# Messages a metric matches that the code does not log yet, and who will.
PENDING = {"token refresh failed": "HubSpot OAuth refresh, issue 4"}


def logged_messages() -> str:
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("shared/**/*.py"), *root.glob("functions/*/main.py")]
    return "\n".join(p.read_text() for p in sources if "deploy" not in p.parts)


def webhook_refusal_message(capsys: pytest.CaptureFixture[str]) -> str:
    from shared import logs
    from shared.errors import SignatureError
    from shared.http import error_response

    logs.setup()
    error_response(SignatureError("bad signature"), "webhook")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    return str(json.loads(line)["message"])


def test_each_metric_matches_a_message_the_code_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tf = load()
    code = logged_messages()
    written = {webhook_refusal_message(capsys)}
    for name, metric in tf.locals["log_metrics"].items():
        log_filter = unescape(metric["filter"])
        for message in re.findall(r'jsonPayload\.message="([^"]+)"', log_filter):
            assert message in written or f'"{message}"' in code or message in PENDING, (
                name,
                message,
            )
        for error in re.findall(r'error_type="([A-Za-z]+)"', log_filter):
            assert f"class {error}(" in code
        for service in re.findall(r'service_name="([a-z-]+)"', log_filter):
            assert service.replace("-", "_") in SPEC.functions


def test_the_alerts_the_issue_asks_for_all_notify_the_channel_variable() -> None:
    tf = load()
    assert set(tf.locals["log_metrics"]) >= {
        "webhook-refused",
        "webhook-5xx",
        "push-done",
        "token-refresh-failed",
        "kms-errors",
    }
    policies = tf.of_kind("google_monitoring_alert_policy")
    assert set(policies) == {"count", "push_failure_rate", "dead_letter_backlog"}
    for policy in policies.values():
        assert policy["notification_channels"] == ["${var.notification_channel}"]
    backlog = json.dumps(policies["dead_letter_backlog"])
    assert "num_undelivered_messages" in backlog
    assert (
        "denominator_filter"
        in policies["push_failure_rate"]["conditions"][0]["condition_threshold"][0]
    )


def test_outputs_carry_what_deploy_reads() -> None:
    example: dict[str, Any] = json.loads((INFRA / "outputs.example.json").read_text())
    assert set(example) <= set(load().outputs)


def test_the_console_publishes_replay_wake_ups_and_backfill_jobs_only() -> None:
    console = SPEC.functions["console"]
    published = sorted(b.on for b in console.roles if b.role == "roles/pubsub.publisher")
    assert published == ["topic:drain", "topic:jobs"]
    assert not any(b.role == "roles/pubsub.subscriber" for b in console.roles)
