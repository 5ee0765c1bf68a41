"""``make run``'s access log names the path only: the OAuth callbacks' query carries a one-time
code and state (and the HubSpot double's consent page more), which do not belong in a log."""

import logging
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from tooling.local import server


def answer_ok(environ: dict[str, object], start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"ok"]


@pytest.fixture(params=[server.AccessLog, WSGIRequestHandler], ids=["make-run", "werkzeug"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, type]]:
    handler = request.param
    httpd = make_server("127.0.0.1", 0, answer_ok, request_handler=handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", handler
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_the_access_log_has_the_path_without_the_query(
    served: tuple[str, type], caplog: pytest.LogCaptureFixture
) -> None:
    base, handler = served
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        got = requests.get(
            f"{base}/oauth/stripe/callback?code=ac_SECRETCODE&state=SECRETSTATE", timeout=5
        )
    assert got.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /oauth/stripe/callback" in line and "200" in line for line in lines)
    leaked = any("SECRETCODE" in line or "SECRETSTATE" in line for line in lines)
    # werkzeug's own handler writes the query: the reason make run uses AccessLog
    assert leaked is (handler is WSGIRequestHandler)
