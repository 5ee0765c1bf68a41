"""Property tests of the console's forms and query strings through the real function
(``create_app``'s test client): whatever a person or a script posts — any text, control
characters, huge values, repeated or unknown fields, with or without a CSRF token — the answer is
a page or a redirect, never a 5xx or an unhandled exception (issue 13, item 3).

Examples are moderate and derandomized (tests/plugins/fuzzing.py); ``HYPOTHESIS_PROFILE=deep``
explores at random, with many more. Each valid sign-up costs a bcrypt hash, so the sign-up
property keeps its example count low.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from shared import wiring
from shared.clock import FakeClock
from shared.config import Settings
from shared.console.settings_form import CHOICES
from tests.functions.console_helpers import ORIGIN, Console, new_client
from tests.plugins.stack import PLATFORM_KEY, SECRETS

# Form values as a browser or a script can send them: any text (control characters, other
# scripts, NUL), sometimes long, plus values the forms expect.
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x2FFF), min_size=200, max_size=5_000),
    st.sampled_from(["", "0", "-1", "99999999999999999999", "on", "all", "customers", "failed"]),
    st.sampled_from(["../../etc/passwd", "<script>alert(1)</script>", "%00", "{}", "[]", "\x00"]),
)
SETTINGS_NAMES = st.sampled_from(
    [
        *CHOICES,
        "objects",
        "trials_count_as_mrr",
        "rules",
        "mappings",
        "action",
        "settings",
        *(
            f"rule-{i}-{part}"
            for i in (0, 1, 49, 50)
            for part in ("target", "pipeline", "stage", "order", "status", "prices", "remove")
        ),
        *(f"map-{i}-{part}" for i in (0, 1) for part in ("key", "property", "remove")),
    ]
)
# A form: pairs, so a field may repeat (getlist) or be unknown.
FORMS = st.lists(st.tuples(st.one_of(SETTINGS_NAMES, st.text(max_size=20)), TEXT), max_size=14)


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Console, str]]:
    """One account and project for every example (module-scoped: a sign-up costs a bcrypt)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "OMNIROO_ENV": "local",
            "OMNIROO_DATA_DIR": str(tmp_path_factory.mktemp("fuzz") / "data"),
            "STRIPE_SECRET_KEY": PLATFORM_KEY,
            "STRIPE_WEBHOOK_SECRET": ",".join(SECRETS),
            "OMNIROO_PUBLIC_URL": ORIGIN,
            # Complete OAuth settings: a missing one is the operator's 503, not the input's.
            "STRIPE_CLIENT_ID": "ca_fuzz",
            "HUBSPOT_CLIENT_ID": "fuzz-client",
            "HUBSPOT_CLIENT_SECRET": "fuzz-client-secret",
        }.items():
            patch.setenv(name, value)
        config = Settings.from_env()
        runtime = wiring.LocalRuntime(config, clock=FakeClock())
        wiring._runtimes[config] = runtime
        console = Console(new_client(), runtime, runtime.clock)  # type: ignore[arg-type]
        console.sign_up("fuzz@example.com")
        yield console, console.create_project("Fuzzed")
        runtime.drainers.close()
        wiring._runtimes.pop(config, None)


def post(console: Console, path: str, pairs: list[tuple[str, str]], csrf: bool) -> Any:
    data: list[tuple[str, str]] = list(pairs)
    if csrf:
        data.append(("csrf_token", console.csrf("/projects")))
    return console.client.post(path, data=MultiDict(data), headers={"Origin": ORIGIN})


def assert_answered(answer: Any, what: str) -> None:
    assert answer.status_code < 500, (what, answer.status_code, answer.get_data(as_text=True))


@given(pairs=FORMS, csrf=st.booleans())
def test_the_settings_editor_answers_any_form(
    signed_in: tuple[Console, str], pairs: list[tuple[str, str]], csrf: bool
) -> None:
    console, project_id = signed_in
    answer = post(console, f"/projects/{project_id}/settings", pairs, csrf)
    assert_answered(answer, pairs)
    if not csrf:
        assert answer.status_code == 403


@given(
    path=st.sampled_from(
        [
            "/projects",
            "/projects/{p}/backfill/preview",
            "/projects/{p}/backfill/start",
            "/projects/{p}/backfill/cancel",
            "/projects/{p}/replay",
            "/projects/{p}/connect/{x}",
            "/projects/{p}/disconnect/{x}",
            "/account/password",
        ]
    ),
    pairs=st.lists(
        st.tuples(
            st.sampled_from(
                ["name", "mode", "kinds", "failure", "code", "current", "new", "estimate_customers"]
            ),
            TEXT,
        ),
        max_size=8,
    ),
    provider=st.one_of(st.sampled_from(["stripe", "hubspot"]), st.text(max_size=12)),
)
@settings(max_examples=40)
def test_every_signed_in_form_answers_any_post(
    signed_in: tuple[Console, str], path: str, pairs: list[tuple[str, str]], provider: str
) -> None:
    console, project_id = signed_in
    target = path.replace("{p}", project_id).replace("{x}", provider.replace("/", "_") or "x")
    answer = post(console, target, pairs, csrf=True)
    assert_answered(answer, (target, pairs))
    console.client.post(
        f"/projects/{project_id}/backfill/cancel",
        data={"csrf_token": console.csrf("/projects")},
        headers={"Origin": ORIGIN},
    )


@given(
    path=st.sampled_from(
        [
            "/projects/{p}/failures",
            "/projects/{p}/replay",
            "/projects/{p}/backfill",
            "/projects/{p}/health",
            "/projects/{p}/settings",
            "/projects/{p}",
        ]
    ),
    query=st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(["status", "type", "code", "failure", "auto", "saved"]),
                st.text(max_size=10),
            ),
            TEXT,
        ),
        max_size=6,
    ),
)
def test_every_page_answers_any_query_string(
    signed_in: tuple[Console, str], path: str, query: list[tuple[str, str]]
) -> None:
    console, project_id = signed_in
    answer = console.client.get(path.replace("{p}", project_id), query_string=urlencode(query))
    assert_answered(answer, (path, query))


@given(
    path=st.sampled_from(["/sign-in", "/sign-up", "/contact"]),
    pairs=st.lists(
        st.tuples(st.sampled_from(["email", "password", "name", "message"]), TEXT), max_size=6
    ),
    csrf=st.booleans(),
)
@settings(max_examples=30)
def test_the_public_forms_answer_any_post(
    signed_in: tuple[Console, str], path: str, pairs: list[tuple[str, str]], csrf: bool
) -> None:
    console, _ = signed_in
    visitor = Console(new_client(), console.runtime, console.clock)
    data = list(pairs)
    if csrf:
        data.append(("csrf_token", visitor.csrf(path)))
    answer = visitor.client.post(path, data=MultiDict(data), headers={"Origin": ORIGIN})
    assert_answered(answer, (path, pairs))
    if not csrf:
        assert answer.status_code == 403
