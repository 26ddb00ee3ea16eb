"""A webhook receiver on 127.0.0.1 for the tests: answers from a script, then 200.

Each request is recorded with what it was answered. A step of the script is an HTTP
status, or `"hang"`: wait longer than the worker's timeout, then answer 504 (the
receiver never accepted it). The script is shared by all requests, in arrival order,
like an outage that ends; everything is bounded so a broken test cannot hang.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024


@dataclass
class Received:
    delivery_id: str
    event: str
    timestamp: str
    signature: str
    body: bytes
    answered: int

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    script: list = field(default_factory=list)
    hang_seconds: float = 1.0
    delay_seconds: float = 0.0  # before every answer: widens the window for races
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def next_answer(self):
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def record(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def accepted(self) -> Counter:
        """How many times each delivery id was answered 2xx."""
        with self.lock:
            return Counter(r.delivery_id for r in self.received if 200 <= r.answered < 300)

    def requests(self) -> Counter:
        with self.lock:
            return Counter(r.delivery_id for r in self.received)

    def wait_for(self, count: int, seconds: float = 20) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sum(self.accepted().values()) >= count:
                return True
            time.sleep(0.02)
        return False


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            answer = receiver.next_answer()
            if answer == "hang":
                time.sleep(receiver.hang_seconds)
                answer = 504
            elif receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            receiver.record(Received(self.headers.get("X-Blackbook-Delivery", ""),
                                     self.headers.get("X-Blackbook-Event", ""),
                                     self.headers.get("X-Blackbook-Timestamp", ""),
                                     self.headers.get("X-Blackbook-Signature", ""),
                                     body, answer))
            try:
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the worker gave up waiting and closed the connection
                pass

        def log_message(self, *args):
            pass

    return Handler


class Serving:
    """Starts the receiver's server in a thread; `stop()` shuts it down."""

    def __init__(self, receiver: Receiver) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        self.server.daemon_threads = True
        self.server.timeout = 1
        receiver.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
