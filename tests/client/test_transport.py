"""The transport's retry rules, over real HTTP to a scripted server on 127.0.0.1."""

from __future__ import annotations

import random
import socket

import pytest

from client import errors
from client.transport import RetryPolicy, Transport, retry_after_seconds
from tests.client.scripted import RESET, ScriptedServer, answer, problem, stall

POLICY = RetryPolicy(attempts=4, backoff=0.01, max_wait=5.0)
OK = answer(200, {"fine": True})
CUT = ("answer", 200, {"Content-Type": "application/json"}, b'{"cu')


def transport(url: str, sleeps: list[float], **options) -> Transport:
    options = {"retry": POLICY, "timeout": (1.0, 2.0)} | options
    return Transport(url, "bb_test_secret", sleep=sleeps.append, rng=random.Random(7), **options)


# (script, what comes back: a status or an exception type, requests the server saw)
CASES = {
    "an answer": ([OK], 200, 1),
    "304 is an answer": ([answer(304)], 304, 1),
    "503 then an answer": ([problem(503, "unavailable"), OK], 200, 2),
    "502 and 504 then an answer": ([answer(502), answer(504), OK], 200, 3),
    "429 then an answer": ([problem(429, "rate_limited"), OK], 200, 2),
    "a reset then an answer": ([RESET, OK], 200, 2),
    "a mangled body then an answer": ([CUT, OK], 200, 2),
    "503 every time": ([problem(503, "unavailable")] * 4, errors.Unavailable, 4),
    "429 every time": ([problem(429, "rate_limited")] * 4, errors.RateLimited, 4),
    "reset every time": ([RESET] * 4, errors.Offline, 4),
    "500 is not retried": ([problem(500, "internal_error"), OK], errors.ServerError, 1),
    "400 is not retried": ([problem(400, "malformed"), OK], errors.Malformed, 1),
    "401 is not retried": ([problem(401, "unauthorized"), OK], errors.Unauthorized, 1),
    "403 is not retried": ([problem(403, "forbidden"), OK], errors.Forbidden, 1),
    "404 is not retried": ([problem(404, "not_found"), OK], errors.NotFound, 1),
    "409 is not retried": ([problem(409, "conflict"), OK], errors.Conflict, 1),
    "410 cursor_expired": ([problem(410, "cursor_expired"), OK], errors.CursorExpired, 1),
    "412 is not retried": ([problem(412, "version_mismatch"), OK], errors.ProblemError, 1),
    "413 is not retried": ([problem(413, "too_large"), OK], errors.TooLarge, 1),
    "422 is not retried": ([problem(422, "validation_failed"), OK], errors.Invalid, 1),
}


@pytest.mark.parametrize(("script", "outcome", "seen"), CASES.values(), ids=CASES.keys())
def test_retry_rules(script, outcome, seen):
    sleeps: list[float] = []
    with ScriptedServer(script) as server:
        calls = transport(server.url, sleeps)
        if isinstance(outcome, int):
            assert calls.call("POST", "/api/v1/sync/push", json={}).status == outcome
        else:
            with pytest.raises(outcome) as raised:
                calls.call("POST", "/api/v1/sync/push", json={})
            assert type(raised.value) is outcome
        assert len(server.requests) == seen
    assert len(sleeps) == seen - 1  # a wait before each retry, none after the last


def test_a_422_carries_the_servers_field_errors_and_code():
    field_errors = {"json": {"email": ["Not a valid email address."]}}
    script = [problem(422, "validation_failed", errors=field_errors,
                      detail="Some fields are not valid; see errors.")]
    with ScriptedServer(script) as server, pytest.raises(errors.Invalid) as raised:
        transport(server.url, []).call("GET", "/api/v1/customers")
    assert raised.value.errors == field_errors
    assert raised.value.code == "validation_failed" and raised.value.status == 422
    assert "see errors" in str(raised.value)


def test_an_error_page_that_is_not_json_still_has_a_type():
    page = answer(502, None, content_type="text/html")
    with ScriptedServer([page] * 4) as server, pytest.raises(errors.Unavailable) as raised:
        transport(server.url, []).call("GET", "/healthz")
    assert raised.value.code == "http_502"


def test_waits_grow_exponentially_with_jitter_up_to_the_cap():
    policy = RetryPolicy(attempts=10, backoff=0.5, max_wait=4.0)
    rng = random.Random(1)
    waits = [policy.wait(retry, None, rng) for retry in range(8)]
    ceilings = [0.5, 1, 2, 4, 4, 4, 4, 4]
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered: tablets do not retry in lockstep


def test_retry_after_in_seconds_is_waited_at_least():
    sleeps: list[float] = []
    script = [answer(503, {}, headers={"Retry-After": "3"}), OK]
    with ScriptedServer(script) as server:
        assert transport(server.url, sleeps).call("GET", "/x").status == 200
    assert sleeps == [3.0]


def test_retry_after_as_an_http_date():
    now = 1_445_412_400.0  # 2015-10-21 07:26:40 UTC
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 80.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None


def test_a_retry_after_longer_than_the_longest_wait_is_not_retried():
    sleeps: list[float] = []
    script = [answer(429, {}, headers={"Retry-After": "120"}), OK]
    with ScriptedServer(script) as server:
        with pytest.raises(errors.RateLimited) as raised:
            transport(server.url, sleeps).call("GET", "/x")
        assert len(server.requests) == 1
    assert raised.value.retry_after == 120.0 and sleeps == []


def test_a_read_timeout_is_retried_then_reported_offline():
    sleeps: list[float] = []
    with ScriptedServer([stall(0.6), stall(0.6)]) as server:
        calls = transport(server.url, sleeps, timeout=(1.0, 0.2),
                          retry=RetryPolicy(attempts=2, backoff=0.01))
        with pytest.raises(errors.Offline):
            calls.call("GET", "/api/v1/sync/pull")
        assert len(server.requests) == 2


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


def test_no_server_is_offline_and_says_nothing_of_the_key_or_query():
    sleeps: list[float] = []
    calls = transport(f"http://127.0.0.1:{closed_port()}", sleeps)
    with pytest.raises(errors.Offline) as raised:
        calls.call("GET", "/api/v1/customers", params={"email": "ada@example.com"})
    assert len(sleeps) == POLICY.attempts - 1
    assert "ada@example.com" not in str(raised.value)
    assert "bb_test_secret" not in str(raised.value) + repr(calls)


def test_every_call_carries_the_key_and_asks_for_json():
    with ScriptedServer([OK]) as server:
        transport(server.url, []).call("GET", "/api/v1/me")
        headers = server.requests[0]["headers"]
    assert headers["Authorization"] == "Bearer bb_test_secret"
    assert headers["Accept"] == "application/json"
