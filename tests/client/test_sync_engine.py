"""The sync engine against the real server: captures offline, pulls that never
overwrite a pending edit, conflicts and their rules, needs-attention, paging, 410."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from client import outbox, remote
from client.errors import NotATabletKey
from client.sync import SyncEngine, SyncReport, bind
from server.changelog import retention
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note
from tests.client.conftest import open_tablet
from tests.client.helpers import applied_on_server, assert_cache_is_the_servers, on_server, sync
from tests.factories import make_tablet

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair(world, tablets):
    """Two tablets of store A, both synced with a customer and an open request."""
    first, second = tablets(world.store_a, "first"), tablets(world.store_a, "second")
    customer = first.capture.customer("Ada", family_name="Lovelace", email="ada@example.com")
    request = first.capture.request(customer.record_id, "hold", description="Coat",
                                    size="38", colour="tan")
    sync(first)
    sync(second)
    return first, second, customer.record_id, request.record_id


def test_captures_offline_show_at_once_then_sync_to_the_server(world, tablets, session,
                                                                live_server):
    tablet = tablets(world.store_a)
    customer = tablet.capture.customer("Zoë", family_name="Martin", email="Zoe@Example.com",
                                       phone="07911 123456")
    request = tablet.capture.request(customer.record_id, "back_in_stock", sku="BT-38",
                                     description="Chelsea boot", size="38")
    status = tablet.capture.request_status(request.record_id, "in_progress")
    note = tablet.capture.note(customer.record_id, "Prefers a text", request.record_id)
    assert tablet.store.shown("request", request.record_id)["status"] == "in_progress"
    assert [c["id"] for c in tablet.store.find_customers({"name": "zoe"})] == [
        customer.record_id]

    report = sync(tablet)

    assert report.finished and report.pushed["applied"] == 4
    assert tablet.store.outbox() == []
    captured = {customer.mutation_id, request.mutation_id, status.mutation_id, note.mutation_id}
    assert set(applied_on_server(session)) == captured
    stored = on_server(session, Customer, customer.record_id)
    assert (stored.email, stored.phone) == ("zoe@example.com", "+447911123456")
    assert on_server(session, CustomerRequest, request.record_id).status == "in_progress"
    assert_cache_is_the_servers(tablet, live_server)


def test_a_pull_lays_a_pending_edit_over_the_servers_new_copy(pair, live_server):
    first, second, _, request_id = pair
    first.capture.edit_request(request_id, colour="navy")  # pending on the first tablet
    second.capture.edit_request(request_id, size="40")
    sync(second)

    SyncEngine(first.store, first.api).pull(SyncReport())  # a pull alone, no push

    cached = first.store.cached("request", request_id)
    assert (cached.server["size"], cached.server["colour"]) == ("40", "tan")
    assert (cached.body["size"], cached.body["colour"]) == ("40", "navy")
    sync(first)
    assert_cache_is_the_servers(first, live_server)
    assert first.store.shown("request", request_id)["colour"] == "navy"


def test_a_conflict_keeps_both_versions_until_the_associate_keeps_theirs_or_mine(
        pair, session, live_server):
    first, second, _, request_id = pair
    second.capture.edit_request(request_id, size="40")
    sync(second)
    mine = first.capture.edit_request(request_id, size="41", colour="navy")

    report = sync(first)

    assert report.pushed["conflict"] == 1
    [parked] = first.store.outbox("conflict")
    assert parked.mutation_id == mine.mutation_id
    assert parked.conflicts == ["size"] and parked.theirs["size"] == "40"
    assert first.store.shown("request", request_id)["size"] == "41"  # mine, until decided
    assert on_server(session, CustomerRequest, request_id).size == "40"

    resent = outbox.resolve(first.store, mine.mutation_id, "theirs")
    assert first.store.shown("request", request_id)["size"] == "40"
    sync(first)
    stored = on_server(session, CustomerRequest, request_id)
    assert (stored.size, stored.colour) == ("40", "navy")  # colour was mine alone: kept
    assert resent in applied_on_server(session)
    assert_cache_is_the_servers(first, live_server)


def test_keeping_mine_sends_it_over_their_version(pair, session, live_server):
    first, second, _, request_id = pair
    second.capture.edit_request(request_id, size="40")
    sync(second)
    mine = first.capture.edit_request(request_id, size="41")
    sync(first)

    outbox.resolve(first.store, mine.mutation_id, "mine")
    sync(first)

    assert on_server(session, CustomerRequest, request_id).size == "41"
    assert first.store.outbox() == []
    assert_cache_is_the_servers(first, live_server)


def test_an_edit_of_a_note_deleted_on_the_server_waits_then_theirs_lets_it_go(
        pair, session, live_server):
    first, second, customer_id, _ = pair
    note = first.capture.note(customer_id, "Likes navy")
    sync(first)
    sync(second)
    second.capture.delete_note(note.record_id)
    sync(second)
    first.capture.edit_note(note.record_id, "Likes navy and grey")
    first.capture.edit_note(note.record_id, "Likes navy, grey and black")

    sync(first)

    [waiting] = first.store.outbox("conflict")  # the associate is told, nothing is lost
    assert first.store.shown("note", note.record_id)["body"] == "Likes navy, grey and black"
    outbox.resolve(first.store, waiting.mutation_id, "theirs")
    sync(first)
    assert first.store.outbox() == [] and first.store.shown("note", note.record_id) is None
    assert on_server(session, Note, note.record_id) is None
    assert_cache_is_the_servers(first, live_server)


def test_edits_of_an_erased_customers_records_are_let_go_without_asking(
        pair, world, session, live_server):
    first, _, customer_id, request_id = pair
    note = first.capture.note(customer_id, "Likes navy")
    sync(first)
    first.capture.edit_note(note.record_id, "Likes navy and grey")
    first.capture.edit_request(request_id, size="39")
    first.capture.edit_customer(customer_id, family_name="Byron")
    erased = requests.post(f"{live_server}/api/v1/customers/{customer_id}/erasure", json={},
                           headers=world.headers("admin"), timeout=30)
    assert erased.status_code == 200, erased.text

    sync(first)

    assert first.store.outbox() == []  # nothing to decide: an erasure is never undone
    assert first.store.shown("note", note.record_id) is None
    assert on_server(session, Note, note.record_id) is None
    assert on_server(session, Customer, customer_id).family_name != "Byron"


def test_a_status_change_on_a_request_closed_elsewhere_gives_way(pair, session, live_server):
    first, second, _, request_id = pair
    second.capture.request_status(request_id, "fulfilled", "collected")
    sync(second)
    first.capture.request_status(request_id, "ready")

    report = sync(first)

    assert report.pushed["conflict"] == 1 and first.store.outbox() == []
    assert first.store.shown("request", request_id)["status"] == "fulfilled"
    assert on_server(session, CustomerRequest, request_id).status == "fulfilled"
    assert_cache_is_the_servers(first, live_server)


def test_rejected_mutations_wait_with_the_servers_reasons_until_fixed(world, tablets,
                                                                      session, live_server):
    tablet = tablets(world.store_a)
    customer = tablet.capture.customer("Ada", email="not an email")
    request = tablet.capture.request(customer.record_id, "hold", description="Coat")
    later_edit = tablet.capture.edit_customer(customer.record_id, family_name="Lovelace")

    sync(tablet)

    waiting = {row.mutation_id: row for row in tablet.store.outbox("attention")}
    assert set(waiting) == {customer.mutation_id, request.mutation_id}
    assert "email" in waiting[customer.mutation_id].errors
    assert "customer_id" in waiting[request.mutation_id].errors
    # The edit waits behind its record's rejected creation, unsent.
    assert tablet.store.outbox_row(later_edit.mutation_id).state == "pending"
    assert later_edit.mutation_id not in applied_on_server(session)

    fixed = outbox.requeue(tablet.store, customer.mutation_id, {"email": "ada@example.com"})
    again = outbox.requeue(tablet.store, request.mutation_id)
    sync(tablet)

    assert {fixed, again, later_edit.mutation_id} <= set(applied_on_server(session))
    stored = on_server(session, Customer, customer.record_id)
    assert (stored.email, stored.family_name) == ("ada@example.com", "Lovelace")
    assert tablet.store.outbox() == []
    assert_cache_is_the_servers(tablet, live_server)


def test_a_record_edited_many_times_offline_goes_in_order(world, tablets, session,
                                                          live_server):
    tablet = tablets(world.store_a)
    customer = tablet.capture.customer("Ada")
    request = tablet.capture.request(customer.record_id, "special_order", description="Boot")
    for status, reason in (("in_progress", None), ("ready", None), ("in_progress", None),
                           ("fulfilled", "collected")):
        tablet.capture.request_status(request.record_id, status, reason)
    tablet.capture.edit_customer(customer.record_id, given_name="Augusta")

    report = sync(tablet)

    assert report.finished and report.pushed == {"applied": 7}
    stored = on_server(session, CustomerRequest, request.record_id)
    assert [change.to_status for change in stored.history] == [
        "open", "in_progress", "ready", "in_progress", "fulfilled"]
    assert_cache_is_the_servers(tablet, live_server)


def test_a_tablet_offline_for_weeks_catches_up_in_pages(world, tablets, live_server):
    busy, away = tablets(world.store_a, "busy"), tablets(world.store_a, "away")
    sync(away)
    customers = [busy.capture.customer(f"C{i}").record_id for i in range(30)]
    for i in range(570):
        busy.capture.request(customers[i % 30], "hold", description=f"item {i}")
    sync(busy, batch_size=500)
    pages = []

    SyncEngine(away.store, away.api, page_size=50,
               progress=lambda stage, done, total: pages.append(done)).sync()

    assert len(pages) == 12 and pages[-1] == 600
    assert_cache_is_the_servers(away, live_server)


def test_a_410_rebuilds_the_cache_from_a_snapshot_and_keeps_the_outbox(pair, session,
                                                                      live_server):
    first, second, customer_id, _ = pair
    note = second.capture.note(customer_id, "Likes navy")
    sync(second)
    sync(first)
    second.capture.delete_note(note.record_id)
    sync(second)
    retention.prune(session, timedelta(0))  # the tombstone the first tablet needs is gone
    session.commit()
    offline = first.capture.customer("Grace", family_name="Hopper")

    report = sync(first)

    assert report.resynced and report.finished
    assert offline.mutation_id in applied_on_server(session)
    assert first.store.shown("note", note.record_id) is None
    assert_cache_is_the_servers(first, live_server)


def test_a_customer_of_another_store_is_picked_after_a_lookup(world, tablets, session,
                                                             live_server):
    here, there = tablets(world.store_a, "here"), tablets(world.store_b, "there")
    customer = here.capture.customer("Ada", family_name="Lovelace", phone="07911 123456")
    sync(here)
    sync(there)
    assert there.store.find_customers({"name": "lovelace"}) == []

    found = remote.find(there.store, there.api, {"phone": "3456"})
    assert [c["id"] for c in found] == [customer.record_id]
    remote.pick(there.store, there.api, customer.record_id)
    there.capture.request(customer.record_id, "call_back", description="Boots")
    sync(there)
    here.capture.edit_customer(customer.record_id, family_name="King")
    sync(here)
    sync(there)

    assert there.store.shown("customer", customer.record_id)["family_name"] == "King"
    assert_cache_is_the_servers(there, live_server)


def test_an_answer_lost_then_pulled_does_not_roll_back_a_newer_copy(pair, live_server):
    first, second, _, request_id = pair
    first.capture.edit_request(request_id, size="39")
    device = first.store.state("device_id")
    batch = outbox.next_batch(first.store, 10)
    first.api.push(device, [outgoing.wire() for outgoing in batch])  # the answer is lost
    SyncEngine(first.store, first.api).pull(SyncReport())  # brings size 39, as version 2
    sync(second)
    second.capture.edit_request(request_id, size="40")
    assert sync(second).pushed == {"applied": 1}
    SyncEngine(first.store, first.api).pull(SyncReport())  # brings size 40, version 3

    report = sync(first)  # the lost push again: duplicate, of version 2

    assert report.pushed == {"duplicate": 1}
    assert first.store.shown("request", request_id)["size"] == "40"
    assert_cache_is_the_servers(first, live_server)


def test_nothing_new_since_the_last_pull_is_answered_304(world, tablets, monkeypatch):
    tablet = tablets(world.store_a)
    tablet.capture.customer("Ada")
    sync(tablet)
    statuses = []
    call = tablet.api.transport.call

    def recorded(*args, **kwargs):
        answer = call(*args, **kwargs)
        statuses.append(answer.status)
        return answer

    monkeypatch.setattr(tablet.api.transport, "call", recorded)
    assert sync(tablet).pulled == 0
    assert statuses == [304]


def test_a_data_file_is_bound_to_one_device(world, tablets, session, live_server):
    first = tablets(world.store_a, "first")
    sync(first)
    other_key = make_tablet(session, world.store_a).token
    session.commit()
    intruder = open_tablet(live_server, other_key, first.store.path)
    with pytest.raises(NotATabletKey):
        bind(intruder.store, intruder.api)
    intruder.close()


def test_consent_captured_offline_reaches_the_server_and_every_tablet_of_the_store(
        world, tablets, session, live_server):
    from server.consent.models import ConsentEvent
    from tests.factories import make_notice
    notice = make_notice(session, purposes=("marketing",), channels=("sms", "email"))
    first, second = tablets(world.store_a, "first"), tablets(world.store_a, "second")
    sync(first)
    assert [n["id"] for n in first.store.records("notice")] == [str(notice.id)]
    customer = first.capture.customer("Ada", phone="07911 123456")
    grant = first.capture.consent(customer.record_id, "marketing.local_offers", "sms", "grant",
                                  method="customer_on_tablet", notice_version_id=str(notice.id))
    withdraw = first.capture.consent(customer.record_id, "marketing", "email", "withdraw",
                                     method="associate_entry")
    sync(first)
    assert first.store.outbox() == []
    events = {str(event_id): action for event_id, action in session.execute(
        sa.select(ConsentEvent.id, ConsentEvent.action))}
    session.close()
    assert events == {grant.record_id: "grant", withdraw.record_id: "withdraw"}
    sync(second)
    assert {c["id"] for c in second.store.records("consent")} == set(events)
    assert_cache_is_the_servers(second, live_server)
