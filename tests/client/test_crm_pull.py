"""`crm-pull`: the CRM feed into JSON Lines; a crash at any point, then a re-run, neither
skips nor repeats a change."""

from __future__ import annotations

import json

import pytest

from client import crm
from client.cli import main
from client.transport import Transport
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
