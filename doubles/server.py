"""Serve a WSGI app on 127.0.0.1 in a background thread, so real HTTP clients can reach a double."""

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    """No access log: the project's tests read stdout/stderr as their own log lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ServerThread:
    """A threaded werkzeug server on a free (or given) port, stopped cleanly in milliseconds."""

    def __init__(self, wsgi_app: WSGIApp, port: int = 0) -> None:
        self._app = wsgi_app
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        server = make_server(
            "127.0.0.1", self._port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._server = server
        # A short poll interval keeps stop() fast: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
            name=f"double-{server.server_port}",
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Served:
    """Start, stop and ``with`` for a double that is itself a WSGI app, served by a
    ``ServerThread`` on 127.0.0.1. Subclasses set ``_stopping`` (an Event their slow answers
    watch) and ``_server = None`` in their ``__init__``."""

    base_url: str
    _server: ServerThread | None
    _stopping: threading.Event

    def start(self, port: int = 0) -> str:
        self._stopping.clear()
        self._server = ServerThread(self, port)  # type: ignore[arg-type]
        self.base_url = self._server.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()  # cuts short any injected wait
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
