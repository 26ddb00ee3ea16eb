"""A fault-injecting HTTP proxy between tablets and the real server.

It meets a share `rate` of requests with a fault — dealt like cards, so that every
run of 20 requests holds exactly round(20 × rate) faults at random places — each
fault one of these, at random:

  reset            the connection is reset before the request reaches the server
  drop_response    the server processes the request; its answer is lost (reset)
  bad_gateway      502 without reaching the server
  unavailable      503 without reaching the server (sometimes with Retry-After: 0)
  timeout_after    the server processes the request, the client gets a 504
  delay            the request is held up to `max_delay` seconds, then relayed
  twice            the request reaches the server twice (one after the other, or
                   both at once); the client gets one of the answers
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

from tests.client.scripted import QuietHTTPServer

FAULTS = ("reset", "drop_response", "bad_gateway", "unavailable", "timeout_after", "delay",
          "twice")
DECK = 20
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                         "transfer-encoding", "upgrade", "host", "content-length"})


class Upstream:
    """An answer from the server, as relayed."""

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


class FaultyProxy:
    kinds = FAULTS

    def __init__(self, upstream: str, rate: float, seed: int, max_delay: float = 0.05) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.rate = rate
        self.max_delay = max_delay
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()  # what the server answered, relayed or not
        self._rng = random.Random(seed)
        self._deck: list[bool] = []
        self._lock = threading.Lock()
        self._server = QuietHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=4)

    def heal(self) -> None:
        """No more faults, from the next request on."""
        with self._lock:
            self.rate, self._deck = 0.0, []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
        self._pool.shutdown(wait=True)

    def draw(self) -> tuple[str | None, float]:
        """The fault for the next request (None: none), and a number for its details."""
        with self._lock:
            self.requests += 1
            if not self._deck:
                faulty = round(DECK * self.rate)
                self._deck = [True] * faulty + [False] * (DECK - faulty)
                self._rng.shuffle(self._deck)
            fault = self._rng.choice(FAULTS) if self._deck.pop() else None
            detail = self._rng.random()
            if fault:
                self.faults[fault] += 1
            return fault, detail

    def forward(self, method: str, path: str, headers: list[tuple[str, str]],
                body: bytes) -> Upstream:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
            answer = Upstream(response.status, response.reason, response.getheaders(),
                              response.read())
        finally:
            connection.close()
        with self._lock:
            self.statuses[answer.status] += 1
        return answer

    def forward_twice(self, together: bool, *request) -> Upstream:
        if together:
            both = [self._pool.submit(self.forward, *request) for _ in range(2)]
            return [future.result(timeout=90) for future in both][-1]
        self.forward(*request)
        return self.forward(*request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faulty-proxy"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
        """Quiet: the tests count faults instead."""

    def do_GET(self) -> None:
        self._relay()

    do_POST = do_GET  # noqa: N815 (the name http.server calls)

    def _relay(self) -> None:
        proxy: FaultyProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        request = (self.command, self.path, headers + [("Content-Length", str(len(body)))], body)
        fault, detail = proxy.draw()
        if fault == "reset":
            return self._reset()
        if fault in ("bad_gateway", "unavailable"):
            retry_after = [("Retry-After", "0")] if detail < 0.5 else []
            return self._answer(502 if fault == "bad_gateway" else 503, retry_after)
        if fault == "delay":
            time.sleep(detail * proxy.max_delay)
        answer = (proxy.forward_twice(detail < 0.5, *request) if fault == "twice"
                  else proxy.forward(*request))
        if fault == "drop_response":
            return self._reset()
        if fault == "timeout_after":
            return self._answer(504, [])
        return self._send(answer)

    def _send(self, answer: Upstream) -> None:
        self.send_response(answer.status, answer.reason)
        for name, value in answer.headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _answer(self, status: int, headers: list[tuple[str, str]]) -> None:
        body = b'{"title": "from the proxy"}'
        self.send_response(status)
        for name, value in headers + [("Content-Type", "application/problem+json"),
                                      ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close with RST (linger 0): the client sees its connection reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
