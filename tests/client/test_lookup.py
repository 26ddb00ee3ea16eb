"""Finding customers in the tablet's cache: email, phone in any form or its last digits,
name prefix — case- and accent-blind, for pulled and freshly captured customers alike."""

from __future__ import annotations

import uuid

import pytest

from client import cache
from client.capture import Capture
from client.store import LocalStore


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    store = LocalStore(tmp_path_factory.mktemp("lookup") / "tablet.sqlite3")
    with store.transaction():
        store.set_country("GB")
        for given, family, email, phone in (
                ("Zoë", "Martin", "zoe@example.com", "+447911123456"),
                ("Zoe", "Smith", "zsmith@example.com", None),
                ("Mårten", "Öberg", None, "+33612345678")):
            record_id = str(uuid.uuid4())
            cache.apply_change(store, {
                "entity": "customer", "id": record_id, "op": "upsert", "version": 1,
                "record": {"id": record_id, "given_name": given, "family_name": family,
                           "email": email, "phone": phone}})
    # Captured at the counter, offline: as typed, not yet normalised by the server.
    Capture(store).customer("Ada", family_name="Lovelace", email="Ada@Example.COM",
                            phone="07838 654321")
    yield store
    store.close()


CASES = {
    "email, any case": ({"email": " ZOE@example.com "}, ["Zoë Martin"]),
    "email typed offline": ({"email": "ada@example.com"}, ["Ada Lovelace"]),
    "phone, international": ({"phone": "+44 7911 123456"}, ["Zoë Martin"]),
    "phone, national": ({"phone": "07911123456"}, ["Zoë Martin"]),
    "phone, punctuated": ({"phone": "(07911) 123-456"}, ["Zoë Martin"]),
    "phone typed offline": ({"phone": "+447838654321"}, ["Ada Lovelace"]),
    "last 4 digits": ({"phone": "3456"}, ["Zoë Martin"]),
    "last 6 digits typed offline": ({"phone": "654321"}, ["Ada Lovelace"]),
    "last digits of another country": ({"phone": "45678"}, ["Mårten Öberg"]),
    "3 digits are too few": ({"phone": "456"}, []),
    "name prefix, accent-blind": ({"name": "zoe"}, ["Zoë Martin", "Zoe Smith"]),
    "given and family name": ({"name": "ZOË M"}, ["Zoë Martin"]),
    "given or family name prefix": ({"name": "mart"}, ["Mårten Öberg", "Zoë Martin"]),
    "family name without its accent": ({"name": "oberg"}, ["Mårten Öberg"]),
    "all criteria must match": ({"name": "zoe", "phone": "3456"}, ["Zoë Martin"]),
    "no match": ({"name": "grace"}, []),
    "no criteria, no list": ({}, []),
}


@pytest.mark.parametrize(("criteria", "names"), CASES.values(), ids=CASES.keys())
def test_local_lookup(people, criteria, names):
    found = people.find_customers(criteria)
    assert [f"{c['given_name']} {c['family_name']}" for c in found] == names


def test_an_edit_or_a_deletion_moves_the_search_keys(tmp_path):
    store = LocalStore(tmp_path / "tablet.sqlite3")
    capture = Capture(store)
    customer = capture.customer("Zoë", family_name="Martin")
    capture.edit_customer(customer.record_id, given_name="Zoey")
    assert store.find_customers({"name": "zoe m"}) == []
    assert [c["id"] for c in store.find_customers({"name": "zoey"})] == [customer.record_id]
    with store.transaction():
        store.db.execute("DELETE FROM outbox")  # as if the create were discarded
        store.refresh_view("customer", customer.record_id)
    assert store.find_customers({"name": "zoey"}) == []
    store.close()


def test_phones_captured_before_the_store_is_known_are_found_once_it_is(tmp_path):
    store = LocalStore(tmp_path / "tablet.sqlite3")
    customer = Capture(store).customer("Ada", phone="07911 123456")  # not configured yet
    assert store.find_customers({"phone": "+447911123456"}) == []
    with store.transaction():
        store.set_country("GB")
    assert [c["id"] for c in store.find_customers({"phone": "+447911123456"})] == [
        customer.record_id]
    store.close()
