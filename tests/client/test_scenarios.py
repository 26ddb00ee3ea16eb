"""The interleavings of tests/sync_scenarios.py, played by tablets of the Python client
against the real server (gunicorn): no edit lost, no value replaced unseen, every
tablet converging on the server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from client import outbox
from client.sync import SyncEngine, SyncReport, ensure_identity
from client.tablet import Tablet
from server.consent.models import ConsentEvent
from server.notes.models import Note
from tests import sync_scenarios
from tests.client.helpers import snapshot, sync
from tests.factories import make_customer, make_note, make_request, make_tablet

pytestmark = pytest.mark.e2e


class PythonTablet:
    """sync_scenarios.Driver over the client library."""

    def __init__(self, tablet: Tablet) -> None:
        self.tablet, self.capture = tablet, tablet.capture

    def edit(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        if entity == "note":
            self.capture.edit_note(record_id, fields["body"])
        else:
            getattr(self.capture, f"edit_{entity}")(record_id, **fields)

    def status(self, request_id: str, status: str, reason: str | None) -> None:
        self.capture.request_status(request_id, status, reason)

    def delete_note(self, note_id: str) -> None:
        self.capture.delete_note(note_id)

    def withdraw(self, customer_id: str) -> None:
        self.capture.consent(customer_id, "marketing", "email", "withdraw",
                             method="associate_entry")

    def new_note(self, customer_id: str, body: str) -> None:
        self.capture.note(customer_id, body)

    def sync(self) -> None:
        sync(self.tablet)

    def _engine(self) -> SyncEngine:
        return SyncEngine(self.tablet.store, self.tablet.api)

    def push(self) -> None:
        self._engine().push(ensure_identity(self.tablet.store, self.tablet.api), SyncReport())

    def pull(self) -> None:
        self._engine().pull(SyncReport())

    def _waiting(self, state: str) -> list[dict[str, Any]]:
        return [{"mutation_id": row.mutation_id, "entity": row.entity,
                 "conflicts": row.conflicts or []} for row in self.tablet.store.outbox(state)]

    def conflicts(self) -> list[dict[str, Any]]:
        return self._waiting("conflict")

    def attention(self) -> list[dict[str, Any]]:
        return self._waiting("attention")

    def resolve(self, mutation_id: str, keep: str, values: dict | None) -> None:
        outbox.resolve(self.tablet.store, mutation_id, keep, values)

    def discard(self, mutation_id: str) -> None:
        outbox.discard(self.tablet.store, mutation_id)

    def pending(self) -> int:
        return self.tablet.store.counts()["pending"]

    def shown(self, entity: str, record_id: str) -> dict[str, Any] | None:
        return self.tablet.store.shown(entity, record_id)


def shared_records(session, store) -> tuple[dict[str, str], Any]:
    """The customer, request and note every scenario starts from, and a reader of the
    server's records (through a pull of a key of the same store) and consent count."""
    actor = make_tablet(session, store)
    customer = make_customer(session, actor.actor, **sync_scenarios.START["customer"])
    request = make_request(session, actor.actor, customer, size="38", colour="tan")
    note = make_note(session, actor.actor, customer, body="Likes navy")
    ids = {"customer": str(customer.id), "request": str(request.id), "note": str(note.id)}
    return ids, actor.token


def server_reader(live_server: str, token: str, session):
    def server(entity: str, record_id: str):
        if entity == "consents":
            session.close()
            return session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent).where(
                ConsentEvent.customer_id == uuid.UUID(record_id)))
        if entity == "note_bodies":
            session.close()
            return sorted(session.scalars(sa.select(Note.body).where(
                Note.customer_id == uuid.UUID(record_id))))
        held = snapshot(live_server, token).get((entity, record_id))
        return None if held is None else held[1]
    return server


@pytest.mark.parametrize("scenario", sync_scenarios.SCENARIOS, ids=lambda s: s.name)
def test_tablets_editing_the_same_records_lose_nothing(scenario, world, tablets, session,
                                                       live_server):
    ids, token = shared_records(session, world.store_a)
    drivers = {}
    for name in "ABC"[:scenario.tablets]:
        tablet = tablets(world.store_a, name)
        sync(tablet)
        drivers[name] = PythonTablet(tablet)
    sync_scenarios.run(scenario, drivers, ids, server_reader(live_server, token, session))


def test_the_table_holds_at_least_thirty_interleavings():
    assert len(sync_scenarios.SCENARIOS) >= 30
    assert len({s.name for s in sync_scenarios.SCENARIOS}) == len(sync_scenarios.SCENARIOS)
