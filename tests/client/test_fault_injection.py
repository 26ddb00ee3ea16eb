"""The proof that nothing captured is lost or duplicated, whatever the network does.

The real server (gunicorn) runs on 127.0.0.1; between it and several simulated
tablets (two stores, separate local files, each in its own thread) sits a proxy
that resets connections, loses answers after the server processed the request,
answers 502/503/504, delays, and delivers requests twice. Tablets capture and
edit at random, sync now and then, and go offline for spells. Then the network
heals, every tablet syncs until its outbox is empty, and the test checks:

- every captured mutation is on the server exactly once (the server's applied
  mutations are exactly the captured ones, each from its device, and every record
  holds exactly what its tablet captured, at the version that many edits make,
  with each status step once);
- every tablet's cache equals a fresh snapshot of its scope from the server;
- no outbox holds anything (so nothing applied), nothing needs attention or is in
  conflict, and the server never answered 500.

A longer soak, by hand (any of these; defaults in brackets):

    BB_FAULT_SEEDS=1,2,3,4,5,6,7,8 [1..5]   BB_FAULT_TABLETS=6 [4]
    BB_FAULT_MUTATIONS=20000 [2000, per seed, all tablets]   BB_FAULT_RATE=0.4 [0.25]
    BB_FAULT_MINUTES=30 [3, the time one seed may take]
    .venv/bin/python -m pytest -q tests/client/test_fault_injection.py
"""

from __future__ import annotations

import os
import random
import threading
import time
import traceback
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from client.errors import BlackbookError
from client.sync import SyncEngine
from client.transport import RetryPolicy
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note
from tests.client.conftest import open_tablet
from tests.client.helpers import applied_on_server, assert_cache_is_the_servers
from tests.client.proxy import DECK, FaultyProxy
from tests.client.test_transport import closed_port
from tests.client.workload import Registry, SimulatedTablet
from tests.factories import make_tablet

pytestmark = pytest.mark.e2e

SEEDS = [int(s) for s in os.environ.get("BB_FAULT_SEEDS", "1,2,3,4,5").split(",")]
TABLETS = int(os.environ.get("BB_FAULT_TABLETS", "4"))
MUTATIONS = int(os.environ.get("BB_FAULT_MUTATIONS", "2000"))
FAULT_RATE = float(os.environ.get("BB_FAULT_RATE", "0.25"))
MINUTES = float(os.environ.get("BB_FAULT_MINUTES", "3"))
RETRY = RetryPolicy(attempts=2, backoff=0.005, max_wait=0.05)
MODELS = {"customer": Customer, "request": CustomerRequest, "note": Note}


def _start_tablets(seed, world, session, proxy, tmp_path) -> list[SimulatedTablet]:
    registry, dead = Registry(), f"http://127.0.0.1:{closed_port()}"
    sims = []
    for n in range(TABLETS):
        store = (world.store_a, world.store_b)[n % 2]
        device = make_tablet(session, store)
        session.commit()
        path = tmp_path / f"tablet-{n}.sqlite3"
        # Two tries a call: the network often wins, and the engine has to recover.
        tablet = open_tablet(proxy.url, device.token, path, associate=f"A-{n}", retry=RETRY)
        unreachable = open_tablet(dead, device.token, path)  # the same file, no network
        sims.append(SimulatedTablet(f"t{n}", tablet, store.code, random.Random(f"{seed}/{n}"),
                                    registry, unreachable))
    return sims


def _run_day(sims: list[SimulatedTablet]) -> None:
    deadline = time.monotonic() + MINUTES * 60
    errors: list[str] = []

    def day(sim: SimulatedTablet) -> None:
        try:
            sim.run(-(-MUTATIONS // TABLETS), deadline)
        except BaseException:  # surfaced below, with the tablet's name
            errors.append(f"{sim.name}: {traceback.format_exc()}")

    threads = [threading.Thread(target=day, args=(sim,), name=sim.name) for sim in sims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MINUTES * 60 + 60)
    assert not errors, "\n".join(errors)
    assert not any(thread.is_alive() for thread in threads), "a tablet never finished its day"


def _heal_and_sync_everything(sims: list[SimulatedTablet]) -> None:
    """The network is back: sync until every outbox is empty, then once more each so
    every tablet has pulled everyone's last changes."""
    for _ in range(20):
        for sim in sims:
            if sim.tablet.store.outbox():
                try:
                    SyncEngine(sim.tablet.store, sim.tablet.api, max_rounds=100).sync()
                except BlackbookError as error:  # healed: nothing should fail any more
                    raise AssertionError(f"{sim.name}: {error!r}") from error
        if not any(sim.tablet.store.outbox() for sim in sims):
            break
    for sim in sims:
        SyncEngine(sim.tablet.store, sim.tablet.api).sync()


def _assert_server_holds_exactly_what_was_captured(sims, session) -> None:
    applied = applied_on_server(session)
    for sim in sims:
        device = sim.tablet.store.state("device_id")
        mine = {m for m, d in applied.items() if d == device}
        assert mine == set(sim.captured), (
            f"{sim.name}: lost {len(set(sim.captured) - mine)}, "
            f"unexpected {len(mine - set(sim.captured))}")
    assert len(applied) == sum(len(sim.captured) for sim in sims)
    created = Counter()
    for sim in sims:
        for (entity, record_id), expected in sim.expected.items():
            stored = session.get(MODELS[entity], uuid.UUID(record_id))
            if expected.deleted:
                assert stored is None, (sim.name, entity, record_id)
                continue
            created[entity] += 1
            held = {name: getattr(stored, name) for name in expected.fields}
            assert (held, stored.version) == (expected.fields, expected.version), (
                sim.name, entity, record_id)
            if entity == "request":
                assert [c.to_status for c in stored.history] == expected.statuses
    for entity, model in MODELS.items():  # nothing on the server that no tablet created
        assert session.scalar(sa.select(sa.func.count()).select_from(model)) == created[entity]


@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_captured_is_lost_or_duplicated_whatever_the_network_does(
        seed, world, session, live_server, database_url, tmp_path):
    with FaultyProxy(live_server, FAULT_RATE, seed) as proxy:
        sims = _start_tablets(seed, world, session, proxy, tmp_path)
        _run_day(sims)
        faults, relayed = sum(proxy.faults.values()), proxy.requests
        proxy.heal()
        _heal_and_sync_everything(sims)

    assert sum(len(sim.captured) for sim in sims) >= MUTATIONS
    assert faults >= FAULT_RATE * (relayed - DECK), (faults, relayed)  # as bad as promised
    assert set(proxy.faults) == set(FaultyProxy.kinds), proxy.faults  # in every way
    assert all(sim.offline_syncs for sim in sims)
    assert proxy.statuses[500] == 0, "the server answered 500"  # no input may cause one
    for sim in sims:
        waiting = sim.tablet.store.outbox()
        assert waiting == [], (sim.name, sim.tablet.store.counts(), waiting[:3])
    _assert_server_holds_exactly_what_was_captured(sims, session)
    for sim in sims:
        assert_cache_is_the_servers(sim.tablet, live_server)
        sim.tablet.close()
        sim.unreachable.close()
