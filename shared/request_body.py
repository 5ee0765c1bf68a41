"""Request bodies read up to a cap, and by nobody past it.

A cap protects memory only if nothing else reads on. functions_framework registers an
after-request hook on every HTTP function, ``read_request`` (functions_framework/__init__.py,
``_configure_app``), that calls ``flask.request.get_data()`` "to avoid connection errors when
returning prematurely"; werkzeug's ``get_data`` reads all that is left of the stream into one
bytes object. So a handler that answered 413 after reading a megabyte was followed by the whole
body in memory anyway (a 200 MiB POST took a webhook instance from 109 to 497 MiB), and so was a
405 to a POST on a function that takes no body.

``limit(app, cap)`` wraps a function's WSGI app the way functions_framework wraps it itself
(``execution_id.WsgiMiddleware``): a declared ``Content-Length`` above the cap is answered 413
before the app runs and before a byte is read; any other body (a chunked one declares no length)
reaches the app behind a stream that ends after ``cap + 1`` bytes, so the framework's hook,
werkzeug and our handlers together can never take more. ``read`` is how a handler takes its
body: all of it, or ``PayloadTooLarge`` once it passes the cap.

What is left on the socket is the server's business: gunicorn (functions_framework's production
server) drains at most 64 KiB of an unread body and then closes the connection
(``gunicorn/http/parser.py``, ``finish_body``); werkzeug's development server (``make run``)
discards it in reads of 10 MB so that the client sees the 413 (``werkzeug/serving.py``).
"""

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import flask
from werkzeug.wsgi import get_content_length

from shared import logs
from shared.errors import PayloadTooLarge

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_CHUNK = 64 * 1024


class _AtMost(io.RawIOBase):
    """The first ``limit`` bytes of a stream, then its end."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._stream.read(min(len(buffer), self._left))
        n = len(data)
        buffer[:n] = data
        self._left -= n
        return n


class BodyCap:
    """WSGI middleware: nothing behind it can read more than ``cap + 1`` body bytes."""

    def __init__(self, app: WSGIApp, cap: int) -> None:
        self.app = app
        self.cap = cap

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        declared = get_content_length(environ)
        if declared is not None and declared > self.cap:
            logs.warning("request refused", reason="declared body above the cap", status=413)
            answer = json.dumps({"error": too_large(self.cap)}).encode()
            start_response(
                "413 Content Too Large",
                [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))],
            )
            return [answer]
        environ["wsgi.input"] = _AtMost(environ["wsgi.input"], self.cap + 1)
        return self.app(environ, start_response)


def limit(cap: int) -> None:
    """Put ``BodyCap`` in front of the app functions_framework is loading this function into.

    ``create_app`` runs a function's module inside its new app's context, and only it adds the
    after-request hook; a module imported any other way (``import main`` to check a build) has
    no app to guard and no hook reading behind it.
    """
    if flask.has_app_context():
        app = flask.current_app
        app.wsgi_app = BodyCap(app.wsgi_app, cap)  # type: ignore[method-assign]


def read(request: flask.Request, cap: int) -> bytes:
    """The whole body, or ``PayloadTooLarge`` as soon as it passes ``cap`` bytes."""
    if request.content_length is not None and request.content_length > cap:
        raise PayloadTooLarge(too_large(cap))
    parts: list[bytes] = []
    size = 0
    # One read may return less than asked (a socket, a chunk): keep reading to the end or the cap.
    while size <= cap:
        part = request.stream.read(min(_CHUNK, cap + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > cap:
        raise PayloadTooLarge(too_large(cap))
    return b"".join(parts)


def too_large(cap: int) -> str:
    return f"body larger than {cap} bytes"
