"""Kill the tablet's process at each step of a sync (os._exit: no cleanup, no
rollback, like a crash or a flat battery), start again, and the next sync finishes
the job: every capture on the server exactly once, the cache equal to the server's.

Each case forks a child that opens the tablet's file, arms the kill at one point
and syncs; the parent checks the child died there, then syncs the same file.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from client import cache, outbox
from client.api import ServerApi
from client.sync import SyncEngine
from server.changelog import retention
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note
from tests.client.conftest import open_tablet
from tests.client.helpers import applied_on_server, assert_cache_is_the_servers, on_server, sync

pytestmark = pytest.mark.e2e

KILLED = 77
PAGE = 2  # small pages, so a pull has several


def _die_at_call(number: int, original: Callable, *, after: bool = False) -> Callable:
    """`original`, except that call `number` kills the process (before it, or after)."""
    calls = itertools.count(1)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dies = next(calls) == number
        if dies and not after:
            os._exit(KILLED)
        result = original(*args, **kwargs)
        if dies:
            os._exit(KILLED)
        return result

    return wrapper


# Where to die: (object, attribute, call number, after the call?)
POINTS = {
    "push: before the request goes": (ServerApi, "push", 1, False),
    "push: applied by the server, answer lost": (ServerApi, "push", 1, True),
    "push: half the answers recorded": (outbox, "_applied", 3, False),
    "push: answers recorded, before the pull": (SyncEngine, "pull", 1, False),
    "pull: page fetched, not stored": (ServerApi, "pull", 1, True),
    "pull: in the middle of a page": (cache, "apply_change", 2, False),
    "pull: between two pages": (cache, "apply_page", 2, True),
    "second round: before its push": (ServerApi, "push", 2, False),
}


def _sync_until_killed(path, server: str, token: str, point: tuple) -> None:
    owner, name, number, after = point
    setattr(owner, name, _die_at_call(number, getattr(owner, name), after=after))
    tablet = open_tablet(server, token, path)
    _exit_after(lambda: SyncEngine(tablet.store, tablet.api, page_size=PAGE).sync())


def _exit_after(work: Callable[[], Any]) -> None:
    """Run `work` in the child; still alive afterwards means the kill point was missed."""
    try:
        work()
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _run_killed(target: Callable, *args: Any) -> None:
    child = multiprocessing.get_context("fork").Process(target=target, args=args)
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        child.join(10)
    assert child.exitcode == KILLED, f"the child did not die at the kill point ({child.exitcode})"


@pytest.fixture
def scene(world, tablets, session, live_server):
    """A synced tablet with some of the store's records, then offline captures of
    every kind, several of one record (so the sync takes rounds)."""
    other, tablet = tablets(world.store_a, "other"), tablets(world.store_a, "killed")
    old_customer = other.capture.customer("Ada", family_name="Lovelace")
    old_request = other.capture.request(old_customer.record_id, "hold", description="Coat")
    old_note = other.capture.note(old_customer.record_id, "Likes navy")
    sync(other)
    sync(tablet)
    captured = [
        tablet.capture.edit_customer(old_customer.record_id, family_name="King"),
        tablet.capture.request_status(old_request.record_id, "in_progress"),
        tablet.capture.request_status(old_request.record_id, "ready"),
        tablet.capture.delete_note(old_note.record_id),
    ]
    new = tablet.capture.customer("Grace", family_name="Hopper", email="grace@example.com")
    request = tablet.capture.request(new.record_id, "special_order", description="Boots")
    captured += [new, request, tablet.capture.note(new.record_id, "Size 38", request.record_id),
                 tablet.capture.request_status(request.record_id, "cancelled", "duplicate")]
    return {"tablet": tablet, "other": other, "captured": captured, "customer": old_customer,
            "request": old_request, "note": old_note, "new_request": request}


def _assert_finished_exactly_once(scene, session, live_server) -> None:
    tablet = scene["tablet"]
    report = sync(tablet, page_size=PAGE)
    assert report.finished and tablet.store.outbox() == []
    device = tablet.store.state("device_id")
    applied = {m for m, d in applied_on_server(session).items() if d == device}
    assert applied == {c.mutation_id for c in scene["captured"]}
    assert on_server(session, Customer, scene["customer"].record_id).family_name == "King"
    assert on_server(session, Note, scene["note"].record_id) is None
    for key, statuses in (("request", ["open", "in_progress", "ready"]),
                          ("new_request", ["open", "cancelled"])):
        stored = on_server(session, CustomerRequest, scene[key].record_id)
        assert [change.to_status for change in stored.history] == statuses  # none twice
    assert_cache_is_the_servers(tablet, live_server)


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_a_sync_killed_at_any_step_is_finished_by_the_next(scene, point, session,
                                                          live_server):
    tablet = scene["tablet"]
    _run_killed(_sync_until_killed, tablet.store.path, live_server, tablet.config.key, point)
    _assert_finished_exactly_once(scene, session, live_server)


def test_a_resync_killed_half_way_through_its_snapshot_is_finished_by_the_next(
        scene, session, live_server):
    """After a 410 the cache is rebuilt from a snapshot; killed half-way, the next sync
    carries on from where it stopped and still forgets what the snapshot never brought."""
    tablet, other = scene["tablet"], scene["other"]
    gone = other.capture.note(scene["customer"].record_id, "Prefers a call")
    sync(other)
    sync(tablet)
    other.capture.delete_note(gone.record_id)
    sync(other)
    retention.prune(session, timedelta(0))
    session.commit()
    point = (cache, "apply_page", 2, True)

    _run_killed(_sync_until_killed, tablet.store.path, live_server, tablet.config.key, point)

    assert tablet.store.state("snapshot") == "1"  # killed inside the snapshot
    _assert_finished_exactly_once(scene, session, live_server)
    assert tablet.store.shown("note", gone.record_id) is None


def _capture_until_killed(path, server: str, token: str, customer_id: str) -> None:
    from client import store as store_module

    tablet = open_tablet(server, token, path)
    original = store_module.LocalStore.refresh_view
    store_module.LocalStore.refresh_view = _die_at_call(1, original)  # after the INSERT
    _exit_after(lambda: tablet.capture.note(customer_id, "Never saved"))


def test_a_capture_killed_half_written_leaves_no_trace(scene, session, live_server):
    tablet = scene["tablet"]
    notes_before = len(tablet.store.records("note"))
    _run_killed(_capture_until_killed, tablet.store.path, live_server, tablet.config.key,
                scene["customer"].record_id)
    assert len(tablet.store.outbox()) == len(scene["captured"])
    assert len(tablet.store.records("note")) == notes_before
    _assert_finished_exactly_once(scene, session, live_server)
