"""Retention rules: each does what it says once, leaves the rest alone, and tells tablets."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from server.core.types import utcnow
from server.customer_requests import service as requests
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.dashboard import search_index
from server.dashboard.models import RequestSearch
from server.notes.models import Note
from server.privacy import retention
from tests.factories import make_customer, make_note, make_request
from tests.sync.helpers import pull_all

RULES = retention.Rules(months_closed_requests=12, months_notes=12,
                        months_inactive_customers=24, days_stale=30)
LONG_AGO = utcnow() - timedelta(days=800)


def age(session, model, record_id, **columns):
    session.execute(sa.update(model).where(model.id == record_id).values(**columns))
    session.commit()


def test_each_rule_once_and_nothing_else(client, session, world):
    tablet = world.tablet_a.actor
    # An inactive customer, with an old request and note of their own.
    gone = make_customer(session, tablet, given_name="Gone")
    gone_request = make_request(session, tablet, gone, description="Gone's request")
    gone_note = make_note(session, tablet, gone, body="Gone's note")
    # An active customer: an old closed request and an old note, a request past due, one
    # with no due date left untouched, one due soon, and a recent note.
    active = make_customer(session, tablet, given_name="Active")
    closed = make_request(session, tablet, active, description="For the wedding in May")
    requests.transition(session, tablet, closed.id, "fulfilled", "collected", None)
    session.commit()
    old_note = make_note(session, tablet, active, body="Old note")
    late = make_request(session, tablet, active, due_date=date.today() - timedelta(days=45))
    undated = make_request(session, tablet, active, description="Call when it is in")
    fresh = make_request(session, tablet, active, due_date=date.today() + timedelta(days=3))
    recent_note = make_note(session, tablet, active, body="Recent note")
    _, cursor = pull_all(client, world.tablet_a)
    search_index.catch_up(session)  # the search holds a copy of each request's text

    for model, record_id, columns in (
            (CustomerRequest, closed.id, {"closed_at": LONG_AGO, "updated_at": LONG_AGO}),
            (Note, old_note.id, {"created_at": LONG_AGO, "updated_at": LONG_AGO}),
            (CustomerRequest, gone_request.id, {"updated_at": LONG_AGO,
                                                "due_date": date.today()}),
            (Note, gone_note.id, {"created_at": LONG_AGO, "updated_at": LONG_AGO}),
            (Customer, gone.id, {"updated_at": LONG_AGO}),
            (CustomerRequest, undated.id, {"updated_at": utcnow() - timedelta(days=40)})):
        age(session, model, record_id, **columns)
    # Gone's note would be deleted anyway: the erasure, first, takes it.
    assert retention.pending(session, RULES) == {
        "inactive customers erased": 1, "requests expired": 2,
        "closed requests anonymised": 1, "notes deleted": 2}
    expected = {"inactive customers erased": 1, "requests expired": 2,
                "closed requests anonymised": 1, "notes deleted": 1}
    first = retention.apply(session, RULES, batch=1)
    assert first.done == expected
    second = retention.apply(session, RULES)
    assert second.done == dict.fromkeys(expected, 0)

    session.expire_all()
    assert session.get(CustomerRequest, late.id).status_reason == "past_due"
    assert session.get(CustomerRequest, undated.id).status_reason == "retention"
    assert session.get(CustomerRequest, fresh.id).status == "open"
    assert session.get(CustomerRequest, closed.id).description is None
    assert session.get(CustomerRequest, closed.id).sku == closed.sku  # demand stays
    # The search's copies of the cleared texts went with them, and come back cleared.
    assert session.get(RequestSearch, closed.id) is None
    assert session.get(RequestSearch, gone_request.id) is None
    assert session.get(RequestSearch, fresh.id) is not None  # the rest stays
    search_index.catch_up(session)
    assert session.get(RequestSearch, closed.id).text == closed.sku.lower() + "  "
    assert "gone" not in session.get(RequestSearch, gone_request.id).text
    assert session.get(Note, old_note.id) is None
    assert session.get(Note, recent_note.id) is not None
    assert session.get(Customer, gone.id).erased_at is not None
    assert session.get(Customer, active.id).erased_at is None
    # Tablets hear of all of it like any other change.
    changes, _ = pull_all(client, world.tablet_a, cursor)
    tombstones = {(c["entity"], c["id"]): c["reason"] for c in changes if c["op"] == "delete"}
    assert tombstones[("customer", str(gone.id))] == "erased"
    assert tombstones[("note", str(old_note.id))] == "retention"
    assert tombstones[("note", str(gone_note.id))] == "erased"
    statuses = {c["id"]: c["record"]["status"] for c in changes if c["entity"] == "request"}
    assert statuses[str(late.id)] == statuses[str(undated.id)] == "expired"


def test_the_command_reports_and_a_dry_run_changes_nothing(app, session, world):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer)
    age(session, Note, note.id, created_at=LONG_AGO)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert dry.exit_code == 0 and "notes deleted: 1 to do" in dry.output
    session.expire_all()
    assert session.get(Note, note.id) is not None
    done = runner.invoke(args=["privacy", "retention"])
    assert done.exit_code == 0, done.output
    assert "notes deleted: 1" in done.output
    session.expire_all()
    assert session.get(Note, note.id) is None
