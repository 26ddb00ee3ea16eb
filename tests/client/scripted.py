"""A tiny HTTP server on 127.0.0.1 that answers from a script, for the transport's tests.

Each request takes the next step of the script: an answer (status, headers, body),
"reset" (the connection is reset without an answer), an answer `cut` off halfway
through its body, or ("stall", seconds) (the answer comes late, for read timeouts).
Requests are recorded.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None,
           content_type: str = "application/json") -> tuple:
    return ("answer", status, {"Content-Type": content_type} | (headers or {}),
            b"" if body is None else json.dumps(body).encode())


def problem(status: int, code: str, **extra: Any) -> tuple:
    body = {"type": f"urn:blackbook:problem:{code}", "title": code, "status": status,
            "code": code} | extra
    return answer(status, body, content_type="application/problem+json")


RESET = ("reset",)


def cut(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple:
    """An answer whose body stops halfway: the connection is reset after its headers and
    half of its body (Content-Length says the whole)."""
    return ("cut", *answer(status, body, headers)[1:])


def stall(seconds: float) -> tuple:
    return ("stall", seconds)


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded server that does not print a client hanging up on it (a test's
    client times out or resets on purpose)."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedServer:
    def __init__(self, script: list[tuple]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self._server = QuietHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.scripted = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def next_step(self) -> tuple:
        return self.script.pop(0) if self.script else answer(500, {"title": "script ended"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
        """Quiet."""

    def do_GET(self) -> None:
        scripted: ScriptedServer = self.server.scripted  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scripted.requests.append({"method": self.command, "path": self.path,
                                  "headers": dict(self.headers),
                                  "json": json.loads(body) if body else None})
        step = scripted.next_step()
        if step[0] == "reset":
            self._reset()
            return
        if step[0] == "stall":
            time.sleep(step[1])
            step = answer(200, {})
        kind, status, headers, payload = step
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if kind == "cut":
            self.wfile.write(payload[:len(payload) // 2])
            self.wfile.flush()
            self._reset()
            return
        self.wfile.write(payload)

    do_POST = do_GET  # noqa: N815 (the name http.server calls)

    def _reset(self) -> None:
        """Close with RST (linger 0): the client sees its connection reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
