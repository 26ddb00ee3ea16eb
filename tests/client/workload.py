"""A simulated tablet for the fault-injection test: random captures and edits at the
counter, syncs now and then, spells offline — and a note of everything it captured,
so the test can say what the server must hold.

Each tablet edits only records it created (two tablets' edits of one field would be
genuine conflicts for an associate to settle, tested elsewhere); it reads and builds
on everything its store holds, other tablets' customers included, and now and then
picks a customer of the other store after a lookup on the server.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from client import remote
from client.errors import BlackbookError, Offline
from client.sync import SyncEngine
from client.tablet import Tablet

# The request lifecycle (server/customer_requests/lifecycle.py), to make legal steps.
NEXT = {"open": ("in_progress", "ready", "fulfilled", "cancelled", "expired"),
        "in_progress": ("open", "ready", "fulfilled", "cancelled", "expired"),
        "ready": ("in_progress", "fulfilled", "cancelled")}
REASON = {"fulfilled": "collected", "cancelled": "customer_cancelled", "expired": "no_response"}
COLOURS = ("tan", "navy", "black", "grey", "red", "olive")


@dataclass
class Expected:
    """What the server must hold for one record this tablet created."""

    entity: str
    fields: dict[str, Any]
    version: int = 1
    statuses: list[str] = field(default_factory=lambda: ["open"])
    deleted: bool = False


class Registry:
    """Customers each store's tablets have synced, for the other store to pick."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_store: dict[str, list[tuple[str, str]]] = {}

    def add(self, store: str, customers: list[tuple[str, str]]) -> None:
        with self._lock:
            self._by_store.setdefault(store, []).extend(customers)

    def other_than(self, store: str, rng: random.Random) -> tuple[str, str] | None:
        with self._lock:
            others = [c for s, found in self._by_store.items() if s != store for c in found]
        return rng.choice(others) if others else None


class SimulatedTablet:
    def __init__(self, name: str, tablet: Tablet, store_code: str, rng: random.Random,
                 registry: Registry, unreachable: Tablet) -> None:
        self.name, self.tablet, self.store_code = name, tablet, store_code
        self.rng, self.registry, self.unreachable = rng, registry, unreachable
        self.captured: list[str] = []
        self.expected: dict[tuple[str, str], Expected] = {}
        self.known_customers: list[str] = []
        self.unsynced_customers: list[tuple[str, str]] = []
        self.offline_for = 0
        self.offline_syncs = 0

    # -- the day at the counter -------------------------------------------------------------

    def run(self, quota: int, deadline: float) -> None:
        """Capture `quota` mutations, syncing now and then; offline once a quarter of
        the way through, and at random spells besides."""
        while len(self.captured) < quota and time.monotonic() < deadline:
            self.capture_something()
            if len(self.captured) == quota // 4:
                self.go_offline()
            if self.offline_for:
                self.offline_for -= 1
                if self.rng.random() < 0.05:
                    self.sync_while_offline()
            elif self.rng.random() < 0.02:
                self.sync()
                if self.rng.random() < 0.15:
                    self.go_offline()

    def go_offline(self) -> None:
        self.offline_for = self.rng.randint(20, 120)
        self.sync_while_offline()

    def sync(self) -> None:
        """One sync through the faulty network, which may break it off."""
        try:
            SyncEngine(self.tablet.store, self.tablet.api, batch_size=100, page_size=200).sync()
        except BlackbookError:
            return  # the network won this time: the outbox keeps everything
        if not self.tablet.store.outbox():  # every customer captured so far is on the server
            self.registry.add(self.store_code, self.unsynced_customers)
            self.unsynced_customers = []
        self.known_customers = [c["id"] for c in self.tablet.store.records("customer")]

    def sync_while_offline(self) -> None:
        waiting = len(self.tablet.store.outbox())
        try:
            SyncEngine(self.unreachable.store, self.unreachable.api).sync()
        except Offline:
            self.offline_syncs += 1
        else:
            raise AssertionError("a sync with no network claimed to succeed")
        assert len(self.tablet.store.outbox()) == waiting

    def capture_something(self) -> None:
        actions = [(0.16, self.new_customer), (0.08, self.edit_customer),
                   (0.20, self.new_request), (0.14, self.edit_request),
                   (0.14, self.step_request), (0.12, self.new_note), (0.07, self.edit_note),
                   (0.05, self.delete_note), (0.01, self.pick_from_other_store)]
        [action] = self.rng.choices([a for _, a in actions], [w for w, _ in actions])
        if not action():
            self.new_customer()

    # -- captures --------------------------------------------------------------------------

    def _own(self, entity: str, alive=lambda e: not e.deleted) -> list[tuple[str, Expected]]:
        return [(record_id, e) for (kind, record_id), e in self.expected.items()
                if kind == entity and alive(e)]

    def _count(self, captured) -> None:
        self.captured.append(captured.mutation_id)

    def _unique(self, word: str) -> str:
        return f"{word}-{self.name}-{len(self.captured)}"

    def new_customer(self) -> bool:
        fields = {"given_name": self._unique("Giv"), "family_name": self._unique("Fam")}
        email = f"{self._unique('c').lower()}@example.com"  # never edited: how others find them
        phone = ("07400 " if self.store_code == "A-01" else "+44 7400 ") \
            + f"{self.rng.randrange(10**6):06d}"
        captured = self.tablet.capture.customer(**fields, email=email, phone=phone)
        self._count(captured)
        self.expected[("customer", captured.record_id)] = Expected("customer", fields)
        self.known_customers.append(captured.record_id)
        self.unsynced_customers.append((captured.record_id, email))
        return True

    def edit_customer(self) -> bool:
        own = self._own("customer")
        if not own:
            return False
        record_id, expected = self.rng.choice(own)
        name = self.rng.choice(("given_name", "family_name"))
        change = {name: self._unique(name[:3])}
        self._count(self.tablet.capture.edit_customer(record_id, **change))
        expected.fields |= change
        expected.version += 1
        return True

    def new_request(self, customer_id: str | None = None) -> bool:
        if not (customer_id or self.known_customers):
            return False
        fields = {"description": self._unique("item"), "size": str(self.rng.randint(34, 46)),
                  "colour": self.rng.choice(COLOURS)}
        captured = self.tablet.capture.request(
            customer_id or self.rng.choice(self.known_customers), "back_in_stock", **fields)
        self._count(captured)
        self.expected[("request", captured.record_id)] = Expected(
            "request", fields | {"status": "open", "status_reason": None})
        return True

    def _open_requests(self) -> list[tuple[str, Expected]]:
        return self._own("request", lambda e: e.fields["status"] in NEXT)

    def edit_request(self) -> bool:
        own = self._open_requests()
        if not own:
            return False
        record_id, expected = self.rng.choice(own)
        change = self.rng.choice(({"description": self._unique("item")},
                                  {"size": self._unique("s")[:32]},
                                  {"colour": self._unique("c")}))
        self._count(self.tablet.capture.edit_request(record_id, **change))
        expected.fields |= change
        expected.version += 1
        return True

    def step_request(self) -> bool:
        own = self._open_requests()
        if not own:
            return False
        record_id, expected = self.rng.choice(own)
        status = self.rng.choice(NEXT[expected.fields["status"]])
        reason = REASON.get(status)
        self._count(self.tablet.capture.request_status(record_id, status, reason))
        expected.fields |= {"status": status, "status_reason": reason}
        expected.statuses.append(status)
        expected.version += 1
        return True

    def new_note(self) -> bool:
        if not self.known_customers:
            return False
        body = self._unique("Prefers")
        captured = self.tablet.capture.note(self.rng.choice(self.known_customers), body)
        self._count(captured)
        self.expected[("note", captured.record_id)] = Expected("note", {"body": body})
        return True

    def edit_note(self) -> bool:
        own = self._own("note")
        if not own:
            return False
        record_id, expected = self.rng.choice(own)
        body = self._unique("Likes")
        self._count(self.tablet.capture.edit_note(record_id, body))
        expected.fields["body"] = body
        expected.version += 1
        return True

    def delete_note(self) -> bool:
        own = self._own("note")
        if not own:
            return False
        record_id, expected = self.rng.choice(own)
        self._count(self.tablet.capture.delete_note(record_id))
        expected.deleted = True
        return True

    def pick_from_other_store(self) -> bool:
        """At the counter: a customer of another store, found on the server and picked."""
        wanted = self.registry.other_than(self.store_code, self.rng)
        if wanted is None or self.offline_for:
            return False
        customer_id, email = wanted
        try:
            found = remote.find(self.tablet.store, self.tablet.api, {"email": email})
            if [c["id"] for c in found] != [customer_id]:
                raise AssertionError(f"a synced customer was not found by email: {found}")
            remote.pick(self.tablet.store, self.tablet.api, customer_id)
        except BlackbookError:
            return False  # the network won this time; the associate carries on
        return self.new_request(customer_id)
