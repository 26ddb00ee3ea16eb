"""The fault-injection proof again, with the tablets of one store editing the SAME records:
the edits collide, associates settle conflicts at random (mine, theirs, merge), and a
quarter of requests fail on the way (tests/client/proxy.py). Then the network heals and
everything syncs. The oracle:

- nothing lost: every mutation captured ends applied on the server (under one of the ids
  it was sent with) or given up by an associate's decision;
- nothing duplicated: never two ids of one capture applied;
- no silent overwrite: wherever an edit was applied, the value it replaced is the one its
  associate had seen (at capture, or when they settled a conflict) — read from the change
  log's history of the record;
- every tablet's cache equals a fresh snapshot of the server; the server never answered
  500 or 503.

Longer, by hand: BB_SHARED_SEEDS=1,2,3,4,5 BB_SHARED_MUTATIONS=5000 BB_SHARED_RATE=0.4
.venv/bin/python -m pytest -q tests/client/test_fault_injection_shared.py
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
import traceback
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from client import outbox, overlay
from client.errors import BlackbookError
from client.sync import SyncEngine
from client.transport import RetryPolicy
from server.changelog.models import Change
from server.sync.models import AppliedMutation
from tests.client.conftest import open_tablet
from tests.client.helpers import assert_cache_is_the_servers
from tests.client.proxy import FaultyProxy
from tests.client.test_transport import closed_port
from tests.factories import make_customer, make_note, make_request, make_tablet

pytestmark = pytest.mark.e2e

SEEDS = [int(s) for s in os.environ.get("BB_SHARED_SEEDS", "1,2").split(",")]
TABLETS = int(os.environ.get("BB_SHARED_TABLETS", "4"))
MUTATIONS = int(os.environ.get("BB_SHARED_MUTATIONS", "600"))
FAULT_RATE = float(os.environ.get("BB_SHARED_RATE", "0.25"))
MINUTES = float(os.environ.get("BB_SHARED_MINUTES", "3"))
SHARED = 4  # customers, each with a request and a note: few, so edits collide
RETRY = RetryPolicy(attempts=2, backoff=0.005, max_wait=0.05)
STEPS = ("in_progress", "ready")  # legal from any open status, so "mine" is always legal


class Ledger:
    """What every tablet sent and decided, across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, tuple[str, int, dict]] = {}  # mutation id → lineage, what went
        self.lineages: dict[tuple[str, int], set[str]] = {}
        self.given_up: set[tuple[str, int]] = set()
        self.decisions: Counter = Counter()

    def record_batch(self, tablet: str, batch: list[outbox.Outgoing]) -> None:
        with self.lock:
            for outgoing in batch:
                row = outgoing.row
                self.sent[row.mutation_id] = (tablet, row.seq, {
                    "entity": row.entity, "op": row.op, "id": row.record_id,
                    "fields": row.fields, "seen": row.seen, "creates": row.creates,
                    "base": outgoing.base_version})
                self.lineages.setdefault((tablet, row.seq), set()).add(row.mutation_id)


class SharedTablet:
    def __init__(self, name: str, tablet, unreachable, rng: random.Random, ids: dict,
                 ledger: Ledger) -> None:
        self.name, self.tablet, self.unreachable = name, tablet, unreachable
        self.rng, self.ids, self.ledger = rng, ids, ledger
        self.captured: list[tuple[str, int]] = []
        self.offline_for = 0

    def run(self, quota: int, deadline: float) -> None:
        while len(self.captured) < quota and time.monotonic() < deadline:
            self.capture_something()
            if self.offline_for:
                self.offline_for -= 1
            elif self.rng.random() < 0.08:
                self.sync()
                self.settle_conflicts()
                if self.rng.random() < 0.1:
                    self.offline_for = self.rng.randint(5, 30)

    def sync(self) -> None:
        # The network may win this time: the outbox keeps everything.
        with contextlib.suppress(BlackbookError):
            SyncEngine(self.tablet.store, self.tablet.api, batch_size=50).sync()

    def _word(self, stem: str) -> str:
        return f"{stem}-{self.name}-{len(self.captured)}"

    def _note(self) -> str | None:
        notes = [n["id"] for n in self.tablet.store.records("note")]
        return self.rng.choice(notes) if notes else None

    def capture_something(self) -> None:
        capture, rng = self.tablet.capture, self.rng
        kind = rng.choices(("customer", "request", "status", "note", "delete", "new_note",
                            "consent"), (25, 25, 10, 20, 4, 8, 8))[0]
        customer = rng.choice(self.ids["customer"])
        if kind == "customer":
            captured = capture.edit_customer(customer, **{
                rng.choice(("given_name", "family_name")): self._word("N")})
        elif kind == "request":
            captured = capture.edit_request(rng.choice(self.ids["request"]), **{
                rng.choice(("size", "colour", "description")): self._word("v")[:32]})
        elif kind == "status":
            captured = capture.request_status(rng.choice(self.ids["request"]),
                                              rng.choice(STEPS))
        elif kind in ("note", "delete") and (note := self._note()) is not None:
            captured = (capture.edit_note(note, self._word("Likes")) if kind == "note"
                        else capture.delete_note(note))
        elif kind == "consent":
            captured = capture.consent(customer, "marketing", rng.choice(("email", "sms")),
                                       "withdraw", method="associate_entry")
        else:
            captured = capture.note(customer, self._word("Prefers"))
        row = self.tablet.store.outbox_row(captured.mutation_id)
        self.captured.append((self.name, row.seq))

    def settle_conflicts(self) -> None:
        """The associate looks at each conflict and decides, at random."""
        store = self.tablet.store
        for row in store.outbox("conflict"):
            choices = ["mine", "theirs"] if row.op == "delete" or row.theirs is None \
                else ["mine", "theirs", "merge"]
            keep = self.rng.choice(choices)
            values = None
            if keep == "merge":
                values = {name: (self.rng.choice(STEPS) if name == "status"
                                 else self._word("merged")[:32]) for name in row.conflicts}
            before = {queued.seq for queued in store.outbox()}
            outbox.resolve(store, row.mutation_id, keep, values)
            gone = before - {queued.seq for queued in store.outbox()}  # nothing is sent here
            with self.ledger.lock:
                self.ledger.decisions[keep] += 1
                self.ledger.given_up |= {(self.name, seq) for seq in gone}
        assert store.outbox("attention") == [], store.outbox("attention")[:2]


def _shared_records(session, store) -> dict[str, list[str]]:
    actor = make_tablet(session, store).actor
    customers = [make_customer(session, actor) for _ in range(SHARED)]
    requests_ = [make_request(session, actor, c) for c in customers]
    notes = [make_note(session, actor, c) for c in customers for _ in range(2)]
    return {"customer": [str(c.id) for c in customers],
            "request": [str(r.id) for r in requests_], "note": [str(n.id) for n in notes]}


def _history(session, entity: str, record_id: str) -> list[tuple[int, dict | None]]:
    rows = session.execute(sa.select(Change.version, Change.body).where(
        Change.entity == entity, Change.record_id == uuid.UUID(record_id))
        .order_by(Change.seq))
    return sorted({(version, repr(body)): (version, body) for version, body in rows}.values(),
                  key=lambda pair: pair[0])


def _values(session, sent: dict, name: str) -> list:
    return [(v, (b or {}).get(name)) for v, b in _history(session, sent["entity"], sent["id"])]


def _applied_to(applied: dict, ledger: Ledger, sent: dict) -> list:
    """Every applied mutation of the record, for a failure's message."""
    return sorted(((result.get("version"), ledger.sent[str(m)][0], ledger.sent[str(m)][2]["base"],
                   ledger.sent[str(m)][2]["fields"]) for m, result in applied.items()
                  if str(m) in ledger.sent and ledger.sent[str(m)][2]["id"] == sent["id"]),
                  key=lambda item: item[0] or 0)


def _assert_no_silent_overwrite(session, ledger: Ledger) -> int:
    """Each applied edit replaced, field by field, the value its associate had seen."""
    session.close()
    applied = dict(session.execute(sa.select(AppliedMutation.mutation_id,
                                             AppliedMutation.result)).all())
    checked = 0
    for mutation_id, result in applied.items():
        _, _, sent = ledger.sent.get(str(mutation_id), (None, None, None))
        if sent is None or sent["creates"] or sent["entity"] == "consent" \
                or not result.get("version"):
            continue
        if result.get("unchanged"):
            continue  # the record held its values already: it replaced nothing
        before = [body for version, body in _history(session, sent["entity"], sent["id"])
                  if version < result["version"]]
        assert before, f"{mutation_id} {sent} {result} {_values(session, sent, 'body')}"
        was, seen = before[-1], sent["seen"] or {}
        names = ["body"] if sent["op"] == "delete" else [
            n for n in sent["fields"] if overlay.in_record(sent["entity"], n) and n != "reason"]
        for name in names:
            old = was.get(overlay.field_name(sent["entity"], name))
            assert old == seen.get(name) or old == sent["fields"].get(name), (
                f"{sent['entity']} {sent['id']} {name}: {old!r} replaced unseen "
                f"(seen {seen.get(name)!r}, sent {sent['fields'].get(name)!r}, base "
                f"{sent['base']}, applied at {result['version']}; history "
                f"{_values(session, sent, name)}; applied {_applied_to(applied, ledger, sent)}")
            checked += 1
    return checked


def _assert_nothing_lost_or_duplicated(session, sims, ledger: Ledger) -> None:
    applied = {str(m) for m in session.scalars(sa.select(AppliedMutation.mutation_id))}
    for sim in sims:
        for lineage in sim.captured:
            ids = ledger.lineages.get(lineage, set())
            landed = ids & applied
            assert len(landed) <= 1, f"{lineage}: applied twice ({landed})"
            assert landed or lineage in ledger.given_up or _deleted_after(
                lineage, ledger, applied), (
                f"{lineage}: lost (sent as {sorted(ids)}, never applied, never given up)")


def _deleted_after(lineage: tuple[str, int], ledger: Ledger, applied: set[str]) -> bool:
    """An edit its own associate's later delete of the record made moot (the record was
    deleted on the server first: the edit is let go, the delete answered as done)."""
    tablet, seq = lineage
    edits = [sent for mid in ledger.lineages.get(lineage, ()) for _, _, sent in
             [ledger.sent[mid]]]
    return any(t == tablet and s > seq and sent["op"] == "delete" and mid in applied
               and sent["id"] in {e["id"] for e in edits}
               for mid, (t, s, sent) in ledger.sent.items())


@pytest.mark.parametrize("seed", SEEDS)
def test_tablets_editing_shared_records_through_faults_lose_nothing(
        seed, world, session, live_server, tmp_path, monkeypatch):
    ids = _shared_records(session, world.store_a)
    ledger = Ledger()
    sims = []
    dead = f"http://127.0.0.1:{closed_port()}"
    with FaultyProxy(live_server, FAULT_RATE, seed) as proxy:
        for n in range(TABLETS):
            device = make_tablet(session, world.store_a)
            session.commit()
            path = tmp_path / f"shared-{n}.sqlite3"
            tablet = open_tablet(proxy.url, device.token, path, associate=f"A-{n}", retry=RETRY)
            unreachable = open_tablet(dead, device.token, path)
            SyncEngine(tablet.store, open_tablet(live_server, device.token, path).api).sync()
            sims.append(SharedTablet(f"t{n}", tablet, unreachable,
                                     random.Random(f"{seed}/{n}"), ids, ledger))
        by_store = {id(sim.tablet.store): sim.name for sim in sims}
        next_batch = outbox.next_batch

        def recorded(store, limit):
            batch = next_batch(store, limit)
            if id(store) in by_store:
                ledger.record_batch(by_store[id(store)], batch)
            return batch

        monkeypatch.setattr(outbox, "next_batch", recorded)
        _run(sims)
        proxy.heal()
        for _ in range(10):
            for sim in sims:
                sim.sync()
                sim.settle_conflicts()
            if not any(sim.tablet.store.outbox() for sim in sims):
                break
        for sim in sims:
            sim.sync()
        faults = sum(proxy.faults.values())

    assert faults >= FAULT_RATE * proxy.requests / 2, (faults, proxy.requests)
    assert proxy.statuses[200] > 0 and all(code < 500 for code in proxy.statuses), \
        proxy.statuses  # what the server itself answered: never a 5xx
    for sim in sims:
        left = sim.tablet.store.outbox()
        assert left == [], (sim.name, left, sim.tablet.store.cached(left[0].entity,
                                                                    left[0].record_id))
    _assert_nothing_lost_or_duplicated(session, sims, ledger)
    assert _assert_no_silent_overwrite(session, ledger) > 50
    assert all(ledger.decisions[keep] > 0 for keep in ("mine", "theirs", "merge")), \
        ledger.decisions
    for sim in sims:
        assert_cache_is_the_servers(sim.tablet, live_server)
        sim.tablet.close()
        sim.unreachable.close()


def _run(sims) -> None:
    deadline = time.monotonic() + MINUTES * 60
    errors: list[str] = []

    def day(sim) -> None:
        try:
            sim.run(-(-MUTATIONS // TABLETS), deadline)
        except BaseException:  # surfaced below, with the tablet's name
            errors.append(f"{sim.name}: {traceback.format_exc()}")

    threads = [threading.Thread(target=day, args=(sim,)) for sim in sims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MINUTES * 60 + 60)
    assert not errors, "\n".join(errors)
