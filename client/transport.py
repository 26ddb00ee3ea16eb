"""HTTP to the Blackbook server: one session, timeouts, retries, typed errors.

Every call the client makes is idempotent — reads, a push (the server knows each
`mutation_id`), a hold (a set) — so any of them may be retried. Retries only ride
out a blip; durability comes from the outbox, which keeps a capture until the
server has answered for it, however many syncs that takes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from client.errors import BlackbookError, Offline, ProblemError, problem_class

# Statuses that say "not now" rather than "not this": a proxy or the server will
# likely answer differently in a moment. Any other error status is final.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Failures of the connection itself: the request may or may not have been processed.
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout,
                   requests.exceptions.ChunkedEncodingError)
_PROBLEM_KEYS = ("code", "title", "detail", "errors")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. Waits grow exponentially, with jitter so
    that a store's tablets coming back online together do not retry in lockstep."""

    attempts: int = 5          # tries in all, the first included
    backoff: float = 0.5       # seconds around which the first retry waits; doubles
    max_wait: float = 30.0     # never wait longer; a longer Retry-After is not retried

    def wait(self, retry: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds before retry number `retry` (0-based); None: do not retry."""
        ceiling = min(self.max_wait, self.backoff * 2 ** retry)
        jittered = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is None:
            return jittered
        if retry_after > self.max_wait:
            return None  # honour it by giving up now, not by retrying early
        return max(retry_after, jittered)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive, as requests gives them
    body: Any  # parsed JSON; None for 304 or an empty body


class Transport:
    """Calls to one server with one key. The key is sent, never shown (see __repr__)."""

    def __init__(self, base_url: str, key: str, *, timeout: tuple[float, float] = (3.05, 30.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session = requests.Session()
        # Retries are ours (above); urllib3's own would hide attempts from the policy.
        adapter = _Adapter(max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"Authorization": f"Bearer {key}",
                                      "Accept": "application/json",
                                      "User-Agent": "blackbook-client/1"})

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def call(self, method: str, path: str, *, params: dict | None = None,
             json: Any = None, headers: dict | None = None) -> Answer:
        """One call, retried as the policy says. 2xx and 304 come back; errors raise."""
        return self._retrying(lambda: self._once(method, path, params, json, headers))

    def fetch(self, path: str, params: dict | None = None,
              on_sent: Callable[[], None] = lambda: None) -> requests.Response:
        """A GET retried as `call` is, given back as soon as its headers have arrived:
        the caller reads the body (`parse`) and may act on the headers before it is all
        there (client.crm asks for the next page of the feed). An answer cut off in
        its body raises Offline from `parse`, not here: the caller asks again.
        `path` may carry its query, as a `Link` header gives it. `on_sent()` is
        called once, as soon as the request is on its way, before its answer is
        awaited (at the latest once the call is over, answered or not)."""
        once = _Once(on_sent)
        _SENT.callback = once
        try:
            return self._retrying(lambda: self._send("GET", path, params, None, None,
                                                     stream=True))
        finally:
            _SENT.callback = None
            once()

    def back_off(self, retry: int) -> None:
        """Wait as the policy says before retry number `retry` (0-based) of something the
        caller retries itself (a streamed body cut off on the way: client.crm)."""
        self._sleep(self.retry.wait(retry, None, self._rng) or 0.0)

    def _retrying(self, attempt: Callable[[], Any]) -> Any:
        retry = 0
        while True:
            try:
                return attempt()
            except Offline as failure:
                error: BlackbookError = failure
                retry_after = None
            except ProblemError as failure:
                if failure.status not in RETRY_STATUSES:
                    raise
                error, retry_after = failure, failure.retry_after
            wait = self.retry.wait(retry, retry_after, self._rng)
            retry += 1
            if wait is None or retry >= self.retry.attempts:
                raise error
            self._sleep(wait)

    def _once(self, method: str, path: str, params, json, headers) -> Answer:
        response = self._send(method, path, params, json, headers)
        return Answer(response.status_code, response.headers, _body(response))

    def _send(self, method: str, path: str, params, json, headers,
              stream: bool = False) -> requests.Response:
        try:
            response = self._session.request(method, self.base_url + path, params=params,
                                             json=json, headers=headers, timeout=self.timeout,
                                             allow_redirects=False, stream=stream)
        except _NETWORK_ERRORS as error:
            # The type only: a message can carry the URL, whose query may hold an email.
            raise Offline(f"No answer from {self.base_url} ({type(error).__name__}).") from None
        if response.status_code >= 400:
            raise problem_from(_read(response))
        return response


class _Once:
    def __init__(self, call: Callable[[], None]) -> None:
        self._call: Callable[[], None] | None = call

    def __call__(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            call()


class _Sent(threading.local):
    """What to call in this thread once a request has been written (Transport.fetch)."""

    callback: Callable[[], None] | None = None


_SENT = _Sent()


class _SentConnection(HTTPConnection):
    """requests' connection (urllib3's), saying when a request has been written: it
    then waits for the answer (getresponse)."""

    def getresponse(self, *args, **kwargs):
        if _SENT.callback is not None:
            _SENT.callback()
        return super().getresponse(*args, **kwargs)


class _SentHTTPSConnection(_SentConnection, HTTPSConnection):
    pass


class _SentPool(HTTPConnectionPool):
    ConnectionCls = _SentConnection


class _SentHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _SentHTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter, with connections that say when a request has been written."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _SentPool, "https": _SentHTTPSPool}


def parse(response: requests.Response) -> Any:
    """The JSON body of an answer `fetch` gave (None for 304 or an empty body), read to
    its end: an answer cut off on the way raises Offline."""
    return _body(_read(response))


def _read(response: requests.Response) -> requests.Response:
    """The response with its body read (a streamed one's arrives only now)."""
    try:
        response.content  # noqa: B018 (read and kept by requests)
    except _NETWORK_ERRORS as error:
        raise Offline(f"The answer was cut off ({type(error).__name__}).") from None
    return response


def _body(response: requests.Response) -> Any:
    if response.status_code == 304 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        # A cut or mangled answer is the network's doing: treat it like no answer.
        raise Offline("The server's answer was not valid JSON.") from None


def problem_from(response: requests.Response) -> ProblemError:
    """The typed exception for an error answer, with the problem's code and field errors."""
    body: Any = {}
    if "json" in response.headers.get("Content-Type", ""):
        try:
            body = response.json()
        except ValueError:
            body = {}
    if not isinstance(body, dict):
        body = {}
    code, title, detail, errors = (body.get(key) for key in _PROBLEM_KEYS)
    code = code if isinstance(code, str) else f"http_{response.status_code}"
    cls = problem_class(response.status_code, code)
    return cls(response.status_code, code, title or response.reason or "Error",
               detail, errors, retry_after_seconds(response.headers.get("Retry-After")))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
