"""The outbox on its own (no server): what may go in one push, on which base version,
and what the tablet shows meanwhile."""

from __future__ import annotations

import uuid

import pytest

from client import cache, outbox, overlay
from client.api import PullPage
from client.capture import Capture
from client.errors import CaptureRefused, NotInOutbox
from client.store import LocalStore


@pytest.fixture
def store(tmp_path):
    local = LocalStore(tmp_path / "tablet.sqlite3")
    yield local
    local.close()


def pulled(store: LocalStore, entity: str, version: int, **record) -> str:
    """A record as if pulled from the server."""
    record_id = str(uuid.uuid4())
    with store.transaction():
        cache.apply_change(store, {"entity": entity, "id": record_id, "op": "upsert",
                                   "version": version, "record": {"id": record_id} | record})
    return record_id


def sent(store: LocalStore) -> list[tuple[str, dict, int | None]]:
    return [(o.row.op, o.row.fields, o.base_version) for o in outbox.next_batch(store, 500)]


def answer_all(store: LocalStore, status: str = "applied", **result) -> None:
    batch = outbox.next_batch(store, 500)
    outbox.settle(store, batch, [{"mutation_id": o.row.mutation_id, "status": status,
                                  "version": (o.base_version or 0) + 1} | result
                                 for o in batch])


def test_a_new_record_goes_alone_then_its_edits_after_a_pull(store):
    capture = Capture(store)
    customer = capture.customer("Ada")
    capture.edit_customer(customer.record_id, family_name="Lovelace")
    assert sent(store) == [("upsert", {"given_name": "Ada"}, None)]
    answer_all(store)
    assert sent(store) == []  # applied, but not pulled back yet: its edit waits
    with store.transaction():
        cache.apply_change(store, {"entity": "customer", "id": customer.record_id,
                                   "op": "upsert", "version": 1,
                                   "record": {"id": customer.record_id, "given_name": "Ada"}})
    cache.nothing_new(store)  # the pull is complete
    assert sent(store) == [("upsert", {"family_name": "Lovelace"}, 1)]


def test_edits_of_different_fields_share_a_push_edits_of_one_field_do_not(store):
    request_id = pulled(store, "request", 4, status="open", size="38", colour="tan")
    capture = Capture(store)
    capture.edit_request(request_id, size="39")
    capture.edit_request(request_id, colour="navy")
    capture.edit_request(request_id, size="40")
    capture.request_status(request_id, "ready")
    assert sent(store) == [("upsert", {"size": "39"}, 4), ("upsert", {"colour": "navy"}, 4)]


def test_a_delete_never_shares_a_push_with_an_edit_of_its_record(store):
    note_id = pulled(store, "note", 2, body="Likes navy")
    capture = Capture(store)
    capture.edit_note(note_id, "Likes grey")
    capture.delete_note(note_id)
    assert sent(store) == [("upsert", {"body": "Likes grey"}, 2)]


def test_a_rejected_mutation_holds_back_its_record_only(store):
    capture = Capture(store)
    first = pulled(store, "customer", 1, given_name="Ada")
    second = pulled(store, "customer", 1, given_name="Grace")
    bad = capture.edit_customer(first, email="nope")
    answer_all(store, "rejected", errors={"email": ["Not an email."]})
    capture.edit_customer(first, family_name="Lovelace")
    capture.edit_customer(second, family_name="Hopper")
    assert sent(store) == [("upsert", {"family_name": "Hopper"}, 1)]
    assert store.counts() == {"pending": 2, "attention": 1, "conflict": 0}
    assert store.shown("customer", first)["email"] == "nope"  # the associate sees what to fix
    outbox.discard(store, bad.mutation_id)
    assert "email" not in store.shown("customer", first)


def test_a_conflict_resolved_as_mine_goes_on_their_version(store):
    request_id = pulled(store, "request", 3, size="38")
    mine = Capture(store).edit_request(request_id, size="41")
    answer_all(store, "conflict", conflicts=["size"], record={"id": request_id, "size": "40",
                                                               "version": 5})
    assert sent(store) == []
    new_id = outbox.resolve(store, mine.mutation_id, "mine")
    assert new_id != mine.mutation_id
    assert sent(store) == [("upsert", {"size": "41"}, 5)]
    with pytest.raises(NotInOutbox):
        outbox.resolve(store, mine.mutation_id, "mine")


def test_a_pull_keeps_pending_edits_on_top_of_the_new_copy(store):
    request_id = pulled(store, "request", 1, status="open", size="38", colour="tan")
    Capture(store).request_status(request_id, "fulfilled", "collected")
    with store.transaction():
        cache.apply_change(store, {"entity": "request", "id": request_id, "op": "upsert",
                                   "version": 2, "record": {"id": request_id, "status": "open",
                                                            "size": "40", "colour": "tan"}})
    shown = store.shown("request", request_id)
    assert (shown["status"], shown["status_reason"], shown["size"]) == (
        "fulfilled", "collected", "40")
    assert "reason" not in shown


def test_a_record_deleted_under_a_pending_edit_is_shown_as_edited_until_settled():
    edit = overlay.Mutation("note", "upsert", "n1", {"body": "Grey"}, creates=False)
    shown = {"id": "n1", "body": "Grey", "customer_id": "c1"}
    assert overlay.view(None, shown, [edit]) == shown
    create = overlay.Mutation("note", "upsert", "n1", {"body": "New"}, creates=True)
    assert overlay.view(None, shown, [create]) == {"id": "n1", "body": "New"}
    assert overlay.view({"id": "n1", "body": "Old"}, None, []) == {"id": "n1", "body": "Old"}


def test_captures_of_what_the_tablet_does_not_hold_are_refused(store):
    capture = Capture(store)
    with pytest.raises(CaptureRefused) as refused:
        capture.request(str(uuid.uuid4()), "hold", description="Coat")
    assert "customer_id" in refused.value.errors
    customer = capture.customer("Ada")
    with pytest.raises(CaptureRefused):
        capture.request(customer.record_id, "teleport", description="Coat")
    with pytest.raises(CaptureRefused):
        capture.edit_customer(customer.record_id, shoe_size="9")
    with pytest.raises(CaptureRefused) as refused:
        capture.consent(customer.record_id, "marketing.newsletter", "email", "grant",
                        method="customer_on_tablet")
    assert "notice_version_id" in refused.value.errors
    assert len(store.outbox()) == 1


def test_a_consent_event_is_queued_as_an_append(store):
    capture = Capture(store, associate="A-117")
    customer = capture.customer("Ada")
    notice = str(uuid.uuid4())
    event = capture.consent(customer.record_id, "marketing.newsletter", "email", "grant",
                            method="customer_on_tablet", notice_version_id=notice)
    [row] = [o.wire() for o in outbox.next_batch(store, 500) if o.row.entity == "consent"]
    assert row == {"mutation_id": event.mutation_id, "entity": "consent", "op": "append",
                   "id": event.record_id, "base_version": None, "captured_by": "A-117",
                   "captured_at": row["captured_at"],
                   "fields": {"customer_id": customer.record_id,
                              "purpose": "marketing.newsletter", "channel": "email",
                              "action": "grant", "notice_version_id": notice,
                              "method": "customer_on_tablet"}}
    assert store.shown("consent", event.record_id)["purpose"] == "marketing.newsletter"


def test_entities_this_build_does_not_know_are_kept_as_pulled(store):
    notice_id = pulled(store, "notice", 3, title="Newsletter", body="Giving your email gets…")
    assert store.shown("notice", notice_id)["title"] == "Newsletter"
    with store.transaction():
        cache.apply_change(store, {"entity": "notice", "id": notice_id, "op": "delete",
                                   "version": 4})
    assert store.shown("notice", notice_id) is None and store.records("notice") == []


def test_what_a_snapshot_does_not_bring_is_forgotten_edited_meanwhile_or_not(store):
    kept, gone, edited = (pulled(store, "customer", 1, given_name=n)
                          for n in ("Ada", "Gone", "Edited"))
    cache.begin_snapshot(store)
    Capture(store).edit_customer(edited, family_name="Meanwhile")
    change = {"entity": "customer", "id": kept, "op": "upsert", "version": 2,
              "record": {"id": kept, "given_name": "Ada"}}
    cache.apply_page(store, PullPage([change], "cursor", False, None))
    assert store.cached("customer", gone) is None
    assert store.cached("customer", edited).server is None  # its edit will learn why
    assert store.cached("customer", kept).version == 2
    assert store.state("snapshot") is None


def test_giving_up_a_rejected_new_record_gives_up_its_later_edits(store):
    capture = Capture(store)
    customer = capture.customer("Ada", email="nope")
    answer_all(store, "rejected", errors={"email": ["Not an email."]})
    capture.edit_customer(customer.record_id, family_name="Lovelace")
    outbox.discard(store, customer.mutation_id)
    assert store.outbox() == [] and store.shown("customer", customer.record_id) is None
    assert store.find_customers({"name": "ada"}) == []
