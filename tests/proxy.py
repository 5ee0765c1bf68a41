"""A TCP relay in front of an emulator, so that a test can cut every connection at once (an
outage), move the relay to a restarted emulator, and let clients reconnect to the same address.

Clients (the Firestore library's gRPC channels) keep one address for their life, as they do in
production; an emulator restarted from its export comes up on a new port, so the relay is what
makes "the same database went away and came back" possible.
"""

import contextlib
import socket
import threading

BUFFER = 65536


class Relay:
    def __init__(self, target: str) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._open = True
        self._conns: set[socket.socket] = set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.host_port = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones until ``restore``."""
        with self._lock:
            self._open = False
            conns, self._conns = self._conns, set()
        for conn in conns:
            _shut(conn)

    def restore(self, target: str) -> None:
        with self._lock:
            self._target, self._open = target, True

    def close(self) -> None:
        self._closed = True
        self.cut()
        _shut(self._server)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                target, open_ = self._target, self._open
            if not open_:
                _shut(client)
                continue
            try:
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)), timeout=5)
                upstream.settimeout(None)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(BUFFER):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        _shut(source)
        _shut(sink)


def _shut(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()
