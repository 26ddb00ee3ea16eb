"""The change log: every write appends, numbered in commit order, nothing from a rollback."""

import random
import threading

import pytest
import sqlalchemy as sa

from server.changelog import service as changelog
from server.changelog.models import Change
from server.consent import service as consent
from server.core.errors import Rejected
from server.customer_requests import service as requests_service
from server.customers import service as customers
from server.extensions import db
from server.notes import service as notes_service
from tests.factories import ADMIN, consent_event, make_customer, make_request


def log(session):
    return session.execute(sa.select(Change.seq, Change.entity, Change.record_id, Change.op,
                                     Change.version, Change.store_id)
                           .order_by(Change.seq)).all()


def test_each_write_appends_one_numbered_change(session, world):
    customer = make_customer(session, world.tablet_a.actor)
    record = make_request(session, world.tablet_a.actor, customer)
    customers.update(session, world.tablet_a.actor, customer.id, {"given_name": "Grace"})
    session.commit()
    store = world.store_a.id
    # A customer is logged for everyone (no store) and for each store that holds them.
    assert log(session) == [(1, "customer", customer.id, "upsert", 1, None),
                            (2, "customer", customer.id, "upsert", 1, store),
                            (3, "request", record.id, "upsert", 1, store),
                            (4, "customer", customer.id, "upsert", 2, None),
                            (5, "customer", customer.id, "upsert", 2, store)]


def test_two_edits_in_one_transaction_log_the_last_version_once(session, world):
    customer = make_customer(session, world.tablet_a.actor)
    for name in ("Grace", "Mary"):
        customers.update(session, world.tablet_a.actor, customer.id, {"given_name": name})
    session.commit()
    assert [(e, v, s) for _, e, _, _, v, s in log(session)] == [
        ("customer", 1, None), ("customer", 1, world.store_a.id),
        ("customer", 3, None), ("customer", 3, world.store_a.id)]


def test_a_rolled_back_savepoint_leaves_no_change(session, world):
    kept = customers.create(session, world.tablet_a.actor, {"given_name": "Kept"})
    with pytest.raises(Rejected), changelog.savepoint(session):
        customers.create(session, world.tablet_a.actor, {"given_name": "Lost"})
        raise Rejected("refused")
    session.commit()
    assert {r for _, _, r, *_ in log(session)} == {kept.id}


def test_a_rolled_back_transaction_leaves_no_change(session, world):
    customers.create(session, world.tablet_a.actor, {"given_name": "Gone"})
    session.rollback()
    make_customer(session, world.tablet_a.actor)
    assert [seq for seq, *_ in log(session)] == [1, 2]


def test_concurrent_writers_number_changes_in_commit_order(app, world):
    """Writers that overlap still get numbers in the order their commits land.

    On PostgreSQL the second writer inserts while the first holds its number and
    waits at the counter; on SQLite it waits at BEGIN IMMEDIATE.
    """
    actor = world.tablet_a.actor
    first_has_number = threading.Event()
    order: list[str] = []

    def writer(name: str, hold: bool) -> None:
        with app.app_context():
            if not hold:
                first_has_number.wait(5)
            customers.create(db.session, actor, {"given_name": name})
            if hold:
                # Take the number, then stall before COMMIT; the other writer must wait.
                changelog.write_pending(db.session())
                first_has_number.set()
                threading.Event().wait(0.5)
            db.session.commit()
            order.append(name)
            db.session.remove()

    threads = [threading.Thread(target=writer, args=("slow", True)),
               threading.Thread(target=writer, args=("fast", False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    with app.app_context():
        names = db.session.execute(sa.text(
            "SELECT c.given_name FROM changes ch JOIN customers c ON c.id = ch.record_id "
            "WHERE ch.store_id IS NULL "
            "ORDER BY ch.seq")).scalars().all()
    assert order == ["slow", "fast"]
    assert names == ["slow", "fast"]


def _superseded_by_definition(session):
    """Each change and whether a later change of its record in its stream exists."""
    later = sa.orm.aliased(Change)
    exists = sa.exists().where(later.entity == Change.entity,
                               later.record_id == Change.record_id,
                               later.store_id.is_not_distinct_from(Change.store_id),
                               later.seq > Change.seq)
    rows = session.execute(sa.select(Change.seq, Change.superseded, exists)
                           .order_by(Change.seq)).all()
    return [(seq, flag) for seq, flag, _ in rows], [(seq, truth) for seq, _, truth in rows]


@pytest.mark.parametrize("seed", range(4))
def test_superseded_is_set_exactly_where_a_later_change_of_the_record_exists(session, world,
                                                                            seed):
    """Random edits, notes, requests, consent and holds, committed in random groups: the
    flag each change carries equals "a later change of this record in this stream"."""
    rng = random.Random(seed)
    tablets = [world.tablet_a.actor, world.tablet_b.actor]
    people = [make_customer(session, rng.choice(tablets)) for _ in range(3)]
    requests, notes = [], []
    for step in range(40):
        actor, person = rng.choice(tablets), rng.choice(people)
        action = rng.choice(["edit", "edit", "request", "transition", "note", "note_edit",
                             "note_delete", "consent", "hold"])
        if action == "edit":
            customers.update(session, actor, person.id, {"given_name": f"N{step}"})
        elif action == "request":
            requests.append(requests_service.create(session, actor, {
                "customer_id": person.id, "type": "hold", "sku": f"S-{step}"}))
        elif action == "transition" and requests:
            record = rng.choice(requests)
            if record.status == "open":
                requests_service.transition(session, ADMIN, record.id,
                                            "in_progress", None, None)
        elif action == "note":
            notes.append(notes_service.create(session, actor, {"customer_id": person.id,
                                                               "body": f"Likes {step}"}))
        elif action == "note_edit" and notes:
            notes_service.update(session, ADMIN, rng.choice(notes).id,
                                 f"Prefers {step}")
        elif action == "note_delete" and notes:
            notes_service.delete(session, ADMIN, notes.pop().id)
        elif action == "consent":
            consent.append(session, actor, consent_event(person.id, action="deny"))
        elif action == "hold":
            customers.hold(session, actor, [person.id])
        if rng.random() < 0.4:
            session.commit()
    session.commit()
    flags, truth = _superseded_by_definition(session)
    assert len(flags) > 40
    assert flags == truth


def test_every_logged_entity_has_its_views_registered(app):
    from server.changelog import bodies

    assert changelog.missing_registrations() == set()
    assert bodies.missing(bodies.LOGGED) == set()
    for entity in bodies.WITH_HISTORY:
        assert bodies.histories_of(entity) is not None, entity


def test_the_app_refuses_to_start_when_a_logged_entity_has_no_view(monkeypatch, tmp_path):
    from server import create_app, notes
    from server.changelog import bodies

    views = {entity: view for entity, view in bodies._TABLET_VIEW.items() if entity != "note"}
    monkeypatch.setattr(bodies, "_TABLET_VIEW", views)
    monkeypatch.setattr(notes, "install", lambda: None)
    monkeypatch.setenv("BLACKBOOK_INSTANCE", str(tmp_path))
    with pytest.raises(RuntimeError, match="view of note"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'refused.sqlite3'}",
                    "TESTING": True})
