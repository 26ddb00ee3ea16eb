"""`crm-pull`: the CRM feed into JSON Lines; a crash at any point, then a re-run, neither
skips nor repeats a change."""

from __future__ import annotations

import json
import time

import pytest
import requests
import sqlalchemy as sa

from client import crm
from client.cli import main
from client.transport import Transport
from server.privacy.models import AccessEntry
from tests.client.conftest import FAST_RETRY
from tests.client.proxy import FaultyProxy
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
