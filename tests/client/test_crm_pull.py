"""`crm-pull`: the CRM feed into JSON Lines; a crash at any point, then a re-run, neither
skips nor repeats a change."""

from __future__ import annotations

import contextlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from client import crm
from client.cli import main
from client.errors import Offline
from client.transport import Transport
from server.audit.models import AccessEntry
from tests.client.conftest import FAST_RETRY
from tests.client.proxy import FaultyProxy
from tests.client.scripted import ScriptedServer, answer, cut
from tests.factories import make_customer, make_request

pytestmark = pytest.mark.e2e


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class Crash(Exception):
    pass


def test_a_crash_after_writing_a_page_neither_skips_nor_repeats(live_server, session, world,
                                                                 tmp_path):
    for n in range(12):
        make_request(session, world.tablet_a.actor,
                     make_customer(session, world.tablet_a.actor, given_name=f"C{n}"))
    transport = Transport(live_server, world.tokens["crm"])
    out, checkpoint = tmp_path / "feed.jsonl", tmp_path / "feed.checkpoint"
    written = 0

    def crash_on_third_page():
        nonlocal written
        written += 1
        if written == 3:
            raise Crash  # page 3 is in the file, its checkpoint is not

    with pytest.raises(Crash):
        crm.follow(transport, out, checkpoint, limit=5, after_write=crash_on_third_page)
    assert len(lines(out)) == 15  # three pages on disk, two checkpointed
    done = crm.follow(transport, out, checkpoint, limit=5)
    assert done.pages == 3  # pages 3, 4, 5 (the last one short)
    got = lines(out)
    assert len(got) == 24 == len({(c["entity"], c["id"]) for c in got})

    # Later changes are appended, nothing else.
    make_customer(session, world.tablet_b.actor, given_name="Late")
    done = crm.follow(transport, out, checkpoint, limit=5)
    assert done.changes == 1
    assert [c["record"]["given_name"] for c in lines(out)[24:]] == ["Late"]
    transport.close()


def test_the_command_line(live_server, session, world, tmp_path, monkeypatch, capsys):
    make_customer(session, world.tablet_a.actor)
    out = tmp_path / "crm.jsonl"
    monkeypatch.setenv("BLACKBOOK_CRM_KEY", world.tokens["crm"])
    assert main(["crm-pull", "--server", live_server, "--out", str(out)]) == 0
    assert "1 changes in 1 pages" in capsys.readouterr().out
    assert [c["entity"] for c in lines(out)] == ["customer"]
    assert (tmp_path / "crm.jsonl.checkpoint").exists()
    monkeypatch.setenv("BLACKBOOK_CRM_KEY", world.tablet_a.token)  # not a crm key
    assert main(["crm-pull", "--server", live_server, "--out", str(out)]) == 1
    assert world.tokens["crm"] not in capsys.readouterr().err


def make_requests(session, world, count: int) -> int:
    """`count` customers with a request each: twice as many changes."""
    for n in range(count):
        make_request(session, world.tablet_a.actor,
                     make_customer(session, world.tablet_a.actor, given_name=f"C{n}"))
    return 2 * count


def pages_read(session) -> int:
    """Feed pages the server has answered: each is logged as read (its own commit)."""
    count = session.scalar(sa.select(sa.func.count()).select_from(AccessEntry)
                           .where(AccessEntry.what == "crm feed"))
    session.rollback()
    return count


def test_the_next_page_is_asked_for_while_this_one_is_written(live_server, session, world,
                                                              tmp_path):
    expected = make_requests(session, world, 12)
    transport = Transport(live_server, world.tokens["crm"])
    answered_while_writing = []

    def first_page_written():
        if not answered_while_writing:  # wait (bounded) for the read-ahead to be answered
            deadline = time.monotonic() + 10
            while pages_read(session) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            answered_while_writing.append(pages_read(session))

    out = tmp_path / "feed.jsonl"
    crm.follow(transport, out, tmp_path / "feed.checkpoint", limit=5,
               after_write=first_page_written)
    transport.close()
    assert answered_while_writing[0] >= 2  # page 2 was answered before page 1 was committed
    got = lines(out)
    assert len(got) == expected == len({(c["entity"], c["id"]) for c in got})


def test_reading_ahead_through_a_faulty_network_neither_skips_nor_repeats(
        live_server, session, world, tmp_path):
    expected = make_requests(session, world, 30)
    out = tmp_path / "feed.jsonl"
    with FaultyProxy(live_server, 0.3, seed=7) as proxy:
        transport = Transport(proxy.url, world.tokens["crm"], retry=FAST_RETRY)
        for _ in range(20):  # a run that gives up after its retries is run again
            try:
                crm.follow(transport, out, tmp_path / "feed.checkpoint", limit=4)
                break
            except Exception:  # noqa: S112 (Offline or a 5xx, as a cron job would see)
                continue
        transport.close()
    assert sum(proxy.faults.values()) >= 5, proxy.faults
    assert proxy.statuses[500] == 0
    got = lines(out)
    assert len(got) == expected == len({(c["entity"], c["id"]) for c in got})


def test_without_a_next_link_each_page_is_asked_for_by_its_cursor(live_server, session, world,
                                                                  tmp_path, monkeypatch):
    expected = make_requests(session, world, 7)
    monkeypatch.setattr(crm, "_cursor_of", lambda url: None)  # as if no Link came
    transport = Transport(live_server, world.tokens["crm"])
    done = crm.follow(transport, tmp_path / "feed.jsonl", tmp_path / "feed.checkpoint", limit=3)
    transport.close()
    assert done.pages == 5
    got = lines(tmp_path / "feed.jsonl")
    assert len(got) == expected == len({(c["entity"], c["id"]) for c in got})


@pytest.mark.parametrize(("link", "followed"), [
    ('</api/v1/feed?cursor=abc&limit=5>; rel="next"', "/api/v1/feed?cursor=abc&limit=5"),
    ('<https://elsewhere.example/api/v1/feed?cursor=abc>; rel="next"', None),
    ('<//elsewhere.example/api/v1/feed?cursor=abc>; rel="next"', None),
    ('</api/v1/customers?cursor=abc>; rel="next"', None),
    ('</api/v1/feed?cursor=abc>; rel="prev"', None),
    (None, None),
])
def test_only_a_next_page_of_the_feed_on_the_same_server_is_followed(link, followed):
    """The key goes with every request the reader makes: never to another address."""
    response = requests.Response()
    if link:
        response.headers["Link"] = link
    assert crm._next_link(response) == followed


def test_the_server_sends_a_page_s_headers_before_writing_its_body(live_server, session,
                                                                  world):
    """Streamed (chunked): the Link to the next page leaves before the page is written."""
    make_requests(session, world, 3)
    with requests.get(f"{live_server}/api/v1/feed", params={"limit": 2}, stream=True,
                      headers=world.headers("crm"), timeout=30) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.headers["Link"].endswith('>; rel="next"')
        assert len(response.json()["changes"]) == 2


def feed_page(changes, cursor, more):
    return {"changes": changes, "next_cursor": cursor, "has_more": more}


def test_a_page_cut_off_in_its_body_is_asked_for_again():
    """The server sends a page's headers before its body (the next page's Link): a body
    cut off on the way is asked for again by its cursor, and nothing is skipped."""
    first = feed_page([{"entity": "customer", "id": "a"}], "c1", True)
    second = feed_page([{"entity": "customer", "id": "b"}], "c2", False)
    link = {"Link": '</api/v1/feed?cursor=c1&limit=1>; rel="next"'}
    # The page after the first is asked for as soon as the first's headers are in, and
    # its answer dropped when the first turns out cut off.
    script = [cut(200, first, link), answer(200, second), answer(200, first, link),
              cut(200, second), answer(200, second)]
    with ScriptedServer(script) as server:
        transport = Transport(server.url, "k", retry=FAST_RETRY)
        with contextlib.closing(crm.pages(transport, None, 1)) as reader:
            got = [change["id"] for page in reader for change in page["changes"]]
        transport.close()
    assert got == ["a", "b"]
    asked = [parse_qs(urlsplit(r["path"]).query).get("cursor") for r in server.requests]
    assert asked == [None, ["c1"], None, ["c1"], ["c1"]]


def test_a_page_cut_off_every_time_gives_up_after_the_policy_s_attempts():
    page = feed_page([{"entity": "customer", "id": "a"}], "c1", False)
    with ScriptedServer([cut(200, page)] * 10) as server:
        transport = Transport(server.url, "k", retry=FAST_RETRY)
        with pytest.raises(Offline), contextlib.closing(crm.pages(transport, None, 1)) as reader:
            list(reader)
        transport.close()
    assert len(server.requests) == FAST_RETRY.attempts
