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


def test_a_new_record_goes_alone_then_its_edits_on_the_version_it_was_applied_at(store):
    capture = Capture(store)
    customer = capture.customer("Ada")
    capture.edit_customer(customer.record_id, family_name="Lovelace")
    assert sent(store) == [("upsert", {"given_name": "Ada"}, None)]
    answer_all(store)  # applied at version 1
    assert sent(store) == [("upsert", {"family_name": "Lovelace"}, 1)]


def test_an_edit_keeps_the_base_its_associate_saw_whatever_is_pulled_later(store):
    """The lost update of issue 25: B edits a name twice offline; the first goes; A
    corrects it; B's second edit must go on the version B saw, not on A's."""
    customer_id = pulled(store, "customer", 1, given_name="Ada", family_name="Byron")
    capture = Capture(store)
    capture.edit_customer(customer_id, family_name="B-first")
    capture.edit_customer(customer_id, family_name="B-second")
    assert sent(store) == [("upsert", {"family_name": "B-first"}, 1)]
    answer_all(store)  # applied at 2: nobody wrote in between, so B's view was version 2
    with store.transaction():  # A's correction arrives in a pull
        cache.apply_change(store, {"entity": "customer", "id": customer_id, "op": "upsert",
                                   "version": 3, "record": {"id": customer_id,
                                                            "family_name": "A-fix"}})
    assert sent(store) == [("upsert", {"family_name": "B-second"}, 2)]


def test_an_edit_applied_over_other_writers_leaves_the_next_on_the_base_seen(store):
    customer_id = pulled(store, "customer", 1, given_name="Ada", family_name="Byron")
    capture = Capture(store)
    first = capture.edit_customer(customer_id, family_name="B-first")
    capture.edit_customer(customer_id, family_name="B-second")
    batch = outbox.next_batch(store, 500)
    outbox.settle(store, batch, [{"mutation_id": first.mutation_id, "status": "applied",
                                  "version": 5}])  # others wrote versions 2 to 4
    assert sent(store) == [("upsert", {"family_name": "B-second"}, 1)]


def test_a_conflict_with_our_own_earlier_value_is_sent_again_without_asking(store):
    customer_id = pulled(store, "customer", 1, given_name="Ada", family_name="Byron")
    capture = Capture(store)
    capture.edit_customer(customer_id, family_name="B-first")
    second = capture.edit_customer(customer_id, family_name="B-second")
    answer_all(store, version=5)  # the first, over other writers' edits
    theirs = {"id": customer_id, "given_name": "Ada", "family_name": "B-first", "version": 5}
    answer_all(store, "conflict", conflicts=["family_name"], record=theirs)
    assert store.counts()["conflict"] == 0  # B saw "B-first": nobody else's value is lost
    assert store.outbox_row(second.mutation_id) is None  # sent again under a new id
    assert sent(store) == [("upsert", {"family_name": "B-second"}, 5)]


def test_a_conflict_with_someone_elses_value_waits_for_the_associate(store):
    customer_id = pulled(store, "customer", 1, given_name="Ada", family_name="Byron")
    Capture(store).edit_customer(customer_id, family_name="B-first")
    theirs = {"id": customer_id, "given_name": "Ada", "family_name": "A-fix", "version": 3}
    answer_all(store, "conflict", conflicts=["family_name"], record=theirs)
    assert store.counts()["conflict"] == 1
    assert sent(store) == []


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


# -- resolutions: every choice for every operation that can conflict ------------------------

def _in_conflict(store, entity: str, op: str, fields: dict, theirs: dict, conflicts: list):
    """A record pulled at version 2, the associate's mutation, the server's conflict."""
    record_id = pulled(store, entity, 2, body="Likes navy", status="open", size="38", colour="tan")
    capture = Capture(store)
    if op == "delete":
        captured = capture.delete_note(record_id)
    elif "status" in fields:
        captured = capture.request_status(record_id, fields["status"], fields.get("reason"))
    elif entity == "note":
        captured = capture.edit_note(record_id, fields["body"])
    else:
        captured = capture.edit_request(record_id, **fields)
    answer_all(store, "conflict", conflicts=conflicts,
               record={"id": record_id, "version": 7} | theirs)
    assert store.counts()["conflict"] == 1
    return record_id, captured.mutation_id


RESOLUTIONS = [
    # entity, op, mine, theirs, conflicts, keep, merged values, what is sent again
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "mine", None, ("upsert", {"body": "Likes grey"}, 7)),
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "theirs", None, None),
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "merge", {"body": "Likes grey and teal"}, ("upsert", {"body": "Likes grey and teal"}, 7)),
    ("note", "delete", {}, {"body": "Likes teal"}, ["body"],
     "mine", None, ("delete", {}, 7)),
    ("note", "delete", {}, {"body": "Likes teal"}, ["body"], "theirs", None, None),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "mine", None, ("upsert", {"size": "40", "colour": "red"}, 7)),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "theirs", None, ("upsert", {"colour": "red"}, 7)),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "merge", {"size": "39.5"}, ("upsert", {"colour": "red", "size": "39.5"}, 7)),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "mine", None, ("upsert", {"status": "in_progress", "reason": None}, 7)),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "theirs", None, None),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "merge", {"status": "open"}, ("upsert", {"status": "open"}, 7)),
]


@pytest.mark.parametrize(("entity", "op", "mine", "theirs", "conflicts", "keep", "values",
                          "expected"), RESOLUTIONS)
def test_every_resolution_sends_what_the_associate_chose(store, entity, op, mine, theirs,
                                                         conflicts, keep, values, expected):
    record_id, mutation_id = _in_conflict(store, entity, op, mine, theirs, conflicts)
    new_id = outbox.resolve(store, mutation_id, keep, values)
    assert sent(store) == ([] if expected is None else [expected])
    assert (new_id is None) == (expected is None)
    assert store.counts() == {"pending": int(expected is not None), "attention": 0,
                              "conflict": 0}
    shown = store.shown(entity, record_id)
    if op == "delete" and keep == "mine":
        assert shown is None  # the delete stays chosen: the note does not come back
    elif keep == "theirs":
        assert all(shown[name] == theirs[name] for name in conflicts)


def test_a_delete_has_nothing_to_merge_and_stays_in_conflict(store):
    _, mutation_id = _in_conflict(store, "note", "delete", {}, {"body": "Likes teal"}, ["body"])
    with pytest.raises(ValueError, match="nothing to merge"):
        outbox.resolve(store, mutation_id, "merge", {"body": "x"})
    assert store.counts()["conflict"] == 1


def test_a_merge_names_only_fields_in_conflict(store):
    _, mutation_id = _in_conflict(store, "request", "upsert", {"size": "40"}, {"size": "39"},
                                  ["size"])
    with pytest.raises(ValueError, match="size"):
        outbox.resolve(store, mutation_id, "merge", {"colour": "red"})
    assert store.counts()["conflict"] == 1


def test_a_refused_delete_sent_again_is_still_a_delete(store):
    note_id = pulled(store, "note", 2, body="Likes navy")
    delete = Capture(store).delete_note(note_id)
    answer_all(store, "rejected", errors={"id": ["Try again."]})
    new_id = outbox.requeue(store, delete.mutation_id)
    assert new_id is not None
    assert sent(store) == [("delete", {}, 2)]


def test_a_rejection_marked_retry_stays_pending(store):
    note_id = pulled(store, "note", 2, body="Likes navy")
    Capture(store).edit_note(note_id, "Likes grey")
    answer_all(store, "rejected", errors={"id": ["Written concurrently."]}, retry=True)
    assert store.counts() == {"pending": 1, "attention": 0, "conflict": 0}
    assert sent(store) == [("upsert", {"body": "Likes grey"}, 2)]


def test_a_tablet_file_of_the_first_layout_moves_on_with_its_queued_edits(tmp_path):
    import sqlite3

    from client import schema
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    old = schema.SCHEMA.replace("    seen TEXT,                  -- the changed fields' values "
                                "the associate saw (JSON)\n", "")
    assert old != schema.SCHEMA
    for statement in schema._statements(old):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO records (entity, id, version, server, body) VALUES "
               "('note', 'n1', 4, '{\"id\":\"n1\"}', '{\"id\":\"n1\"}')")
    db.execute("INSERT INTO outbox (mutation_id, entity, op, record_id, fields, captured_at, "
               "creates) VALUES ('m1', 'note', 'upsert', 'n1', '{\"body\":\"x\"}', 'now', 0)")
    db.close()
    store = LocalStore(path)
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert sent(store) == [("upsert", {"body": "x"}, 4)]
    finally:
        store.close()


def _note_deleted_meanwhile(store, customer_on_tablet: bool = True):
    customer_id = pulled(store, "customer", 1, given_name="Ada") if customer_on_tablet \
        else str(uuid.uuid4())
    note_id = pulled(store, "note", 2, body="Likes navy", customer_id=customer_id)
    edit = Capture(store).edit_note(note_id, "Likes grey")
    answer_all(store, "conflict", conflicts=[], record=None, version=None)
    return customer_id, note_id, edit.mutation_id


def test_an_edit_of_a_note_deleted_meanwhile_waits_for_the_associate(store):
    _, note_id, mutation_id = _note_deleted_meanwhile(store)
    assert store.counts()["conflict"] == 1
    assert store.shown("note", note_id)["body"] == "Likes grey"  # what they wrote, kept
    with pytest.raises(ValueError, match="nothing to merge"):
        outbox.resolve(store, mutation_id, "merge", {"body": "x"})


def test_keeping_theirs_lets_a_note_deleted_meanwhile_go(store):
    _, note_id, mutation_id = _note_deleted_meanwhile(store)
    assert outbox.resolve(store, mutation_id, "theirs") is None
    assert store.outbox() == [] and store.shown("note", note_id) is None


def test_keeping_mine_brings_a_note_deleted_meanwhile_back_with_its_text(store):
    customer_id, note_id, mutation_id = _note_deleted_meanwhile(store)
    assert outbox.resolve(store, mutation_id, "mine") is not None
    assert sent(store) == [("upsert", {"customer_id": customer_id, "body": "Likes grey"},
                            None)]
    [restored] = outbox.next_batch(store, 1)
    assert restored.row.creates and restored.row.record_id != note_id  # a new note
    assert store.shown("note", note_id) is None
    assert store.shown("note", restored.row.record_id)["body"] == "Likes grey"


def test_an_edit_of_a_note_of_a_customer_gone_from_the_tablet_is_let_go(store):
    _, note_id, _ = _note_deleted_meanwhile(store, customer_on_tablet=False)
    assert store.outbox() == [] and store.shown("note", note_id) is None


def test_an_edit_over_our_own_queued_value_stands_on_that_ones_base(store):
    request_id = pulled(store, "request", 2, status="open", size="38")
    capture = Capture(store)
    capture.request_status(request_id, "ready")
    with store.transaction():  # a pull brings version 5 under our queued step
        cache.apply_change(store, {"entity": "request", "id": request_id, "op": "upsert",
                                   "version": 5, "record": {"id": request_id,
                                                            "status": "in_progress"}})
    capture.request_status(request_id, "in_progress")
    capture.edit_request(request_id, size="40")
    assert [row.base_version for row in store.outbox()] == [2, 2, 5]


def test_an_unchanged_answer_moves_no_later_base(store):
    customer_id = pulled(store, "customer", 1, given_name="Ada", family_name="Byron")
    capture = Capture(store)
    capture.edit_customer(customer_id, family_name="Byron")
    capture.edit_customer(customer_id, family_name="B-second")
    answer_all(store, version=2, unchanged=True)  # version 2 is someone else's
    assert sent(store) == [("upsert", {"family_name": "B-second"}, 1)]


def test_a_refused_creation_or_consent_event_sent_again_is_still_one(store):
    """Creations and consent events never conflict (a new id; events only appended): what
    an associate can do with one is fix and send it again, and it stays what it was."""
    capture = Capture(store)
    customer = capture.customer("Ada", email="nope")
    answer_all(store, "rejected", errors={"email": ["Not an email."]})
    fixed = outbox.requeue(store, customer.mutation_id, {"email": "ada@example.com"})
    [again] = outbox.next_batch(store, 500)
    assert (again.row.mutation_id, again.row.creates, again.base_version) == (fixed, True, None)
    answer_all(store)
    event = capture.consent(customer.record_id, "marketing", "email", "withdraw",
                            method="associate_entry")
    answer_all(store, "rejected", errors={"purpose": ["No such purpose."]})
    outbox.requeue(store, event.mutation_id, {"purpose": "marketing.newsletter"})
    [again] = outbox.next_batch(store, 500)
    assert (again.row.op, again.row.fields["purpose"]) == ("append", "marketing.newsletter")
