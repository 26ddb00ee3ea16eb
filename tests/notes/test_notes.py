"""Notes: the sensitive-content scan, who may read flagged notes, tombstones on delete."""

import pytest
import sqlalchemy as sa

from server.changelog.models import Change
from server.notes.models import Note
from server.notes.sensitive import categories_in
from tests.factories import make_customer, make_note, make_request

URL = "/api/v1/notes"


@pytest.mark.parametrize("text, expected", [
    ("Prefers a call after 5pm", []),
    ("She is pregnant, due in May", ["pregnancy"]),
    ("Needs wide fit after knee surgery", ["health"]),
    ("Buying a dress for church on Sunday", ["religion"]),
    ("Diabetic, and going to a funeral", ["health", "bereavement"]),
    ("Likes the Skillful range", []),  # no word-part matches ("ill" inside "Skillful")
])
def test_sensitive_categories(text, expected):
    assert categories_in(text) == expected


@pytest.fixture
def customer(session, world):
    return make_customer(session, world.tablet_a.actor)


def test_a_sensitive_note_is_saved_flagged_with_a_warning(client, world, customer):
    response = client.post(URL, json={"customer_id": str(customer.id),
                                      "body": "Expecting a baby, pregnant since June"},
                           headers=world.tablet_a.headers)
    assert response.status_code == 201
    assert response.json["sensitive"] is True
    assert response.json["sensitive_categories"] == ["pregnancy"]
    assert response.json["warnings"][0]["code"] == "sensitive_content"


def test_a_plain_note_has_no_warning(client, world, customer):
    response = client.post(URL, json={"customer_id": str(customer.id), "body": "Likes navy"},
                           headers=world.tablet_a.headers)
    assert response.json["sensitive"] is False and response.json["warnings"] == []


def test_crm_never_sees_sensitive_notes_but_the_store_does(client, world, session, customer):
    plain = make_note(session, world.tablet_a.actor, customer, "Likes navy")
    flagged = make_note(session, world.tablet_a.actor, customer, "Recovering from surgery")
    crm = client.get(URL, query_string={"customer_id": customer.id}, headers=world.headers("crm"))
    assert [n["id"] for n in crm.json["items"]] == [str(plain.id)]
    assert client.get(f"{URL}/{flagged.id}", headers=world.headers("crm")).status_code == 404
    store = client.get(URL, query_string={"customer_id": customer.id},
                       headers=world.tablet_a.headers)
    assert {n["id"] for n in store.json["items"]} == {str(plain.id), str(flagged.id)}


def test_editing_rescans(client, world, session, customer):
    note = make_note(session, world.tablet_a.actor, customer, "Recovering from surgery")
    response = client.patch(f"{URL}/{note.id}", json={"body": "Wants a wide fit"},
                            headers=world.tablet_a.headers)
    assert response.json["sensitive"] is False and response.json["version"] == 2


def test_note_on_a_request_takes_that_requests_store(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    response = client.post(URL, json={"customer_id": str(customer.id), "body": "Gift wrap",
                                      "request_id": str(record.id)},
                           headers=world.headers("admin"))
    assert response.status_code == 201
    assert response.json["store_id"] == str(world.store_a.id)
    other = make_customer(session, world.tablet_a.actor)
    mismatch = client.post(URL, json={"customer_id": str(other.id), "body": "x",
                                      "request_id": str(record.id)},
                           headers=world.tablet_a.headers)
    assert mismatch.status_code == 422 and "request_id" in mismatch.json["errors"]["json"]


def test_delete_leaves_a_tombstone_in_the_change_log(client, world, session, customer):
    note = make_note(session, world.tablet_a.actor, customer)
    response = client.delete(f"{URL}/{note.id}", headers=world.tablet_a.headers)
    assert response.status_code == 204
    assert client.get(f"{URL}/{note.id}", headers=world.tablet_a.headers).status_code == 404
    changes = session.execute(sa.select(Change.op, Change.version, Change.reason)
                              .where(Change.record_id == note.id).order_by(Change.seq)).all()
    assert changes == [("upsert", 1, None), ("delete", 2, "deleted")]


def test_a_rescan_flags_old_notes_and_the_feed_withdraws_them(app, client, session, world):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer, body="Her chemo starts Monday")
    # As an older scanner left it: not flagged.
    session.execute(sa.update(Note).values(sensitive=False, sensitive_categories=[]))
    session.commit()
    cursor = client.get("/api/v1/feed", headers=world.headers("crm")).json["next_cursor"]
    result = app.test_cli_runner().invoke(args=["notes", "rescan"])
    assert result.exit_code == 0 and "1 changed their flags" in result.output
    changes = client.get("/api/v1/feed", query_string={"cursor": cursor},
                         headers=world.headers("crm")).json["changes"]
    assert [(c["id"], c["op"], c["reason"]) for c in changes] == [
        (str(note.id), "delete", "withheld")]
    again = app.test_cli_runner().invoke(args=["notes", "rescan"])
    assert "0 changed their flags" in again.output
