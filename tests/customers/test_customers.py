"""Customers: normalised contact points, lookups in every form, versioned edits."""

import uuid

import pytest

from tests.factories import make_customer

URL = "/api/v1/customers"


def create(client, headers, **fields):
    body = {"given_name": "Zoë", "family_name": "Martin"} | fields
    return client.post(URL, json=body, headers=headers)


def test_email_is_lower_cased_and_phone_read_in_the_store_country(client, world):
    response = create(client, world.tablet_a.headers, email="Zoe.Martin@Example.COM",
                      phone="07911 123456")
    assert response.status_code == 201, response.json
    assert response.json["email"] == "zoe.martin@example.com"
    assert response.json["phone"] == "+447911123456"  # store A is in GB
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"{URL}/{response.json['id']}"


def test_the_same_written_number_reads_differently_in_a_french_store(client, world):
    response = create(client, world.tablet_b.headers, phone="06 12 34 56 78")
    assert response.json["phone"] == "+33612345678"


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"), ("email", "a@b"), ("phone", "12"), ("phone", "call me"),
    ("given_name", "   "), ("given_name", ""), ("preferences", {"preferred_channels": ["fax"]}),
    ("preferences", {"preferred_channels": ["sms", "sms"]}),
    ("preferences", {"quiet_hours": {"start": "25:00", "end": "08:00", "timezone": "UTC"}}),
    ("preferences", {"quiet_hours": {"start": "21:00", "end": "08:00", "timezone": "Mars/Base"}}),
])
def test_invalid_fields_are_named_in_a_422(client, world, field, value):
    response = create(client, world.tablet_a.headers, **{field: value})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in str(response.json["errors"])


def test_tablet_chosen_id_is_kept_and_a_second_create_is_a_conflict(client, world):
    chosen = str(uuid.uuid4())
    assert create(client, world.tablet_a.headers, id=chosen).json["id"] == chosen
    again = create(client, world.tablet_a.headers, id=chosen)
    assert again.status_code == 409
    assert again.json["code"] == "already_exists"


def test_preferences_round_trip(client, world):
    prefs = {"sizes": ["M", "38"], "brands": ["Barbour"], "colours": ["navy"],
             "categories": ["outerwear"], "preferred_channels": ["sms", "email"],
             "quiet_hours": {"start": "21:00", "end": "08:00", "timezone": "Europe/London"},
             "pause": {"from": "2026-12-01", "until": "2027-01-15"},
             "marketing_cap": {"max": 2, "days": 30}, "rewards": ["early_access"]}
    response = create(client, world.tablet_a.headers, preferences=prefs)
    fetched = client.get(f"{URL}/{response.json['id']}", headers=world.tablet_a.headers)
    assert fetched.json["preferences"] == prefs


@pytest.fixture
def ada(session, world):
    return make_customer(session, world.tablet_a.actor, given_name="Adélaïde",
                         family_name="O'Brien", email="ada@example.com", phone="07911 123456")


@pytest.mark.parametrize("query", [
    {"email": "ADA@example.com"},
    {"phone": "+44 7911 123456"}, {"phone": "07911123456"}, {"phone": "(07911) 123-456"},
    {"phone_suffix": "3456"}, {"phone_suffix": "123456"},
    {"name": "adel"}, {"name": "ADÉLAÏDE o"}, {"name": "o'bri"},
])
def test_lookup_finds_the_customer_in_every_form(client, world, ada, query):
    response = client.get(URL, query_string=query, headers=world.tablet_a.headers)
    assert response.status_code == 200, response.json
    assert [c["id"] for c in response.json["items"]] == [str(ada.id)]


@pytest.mark.parametrize("query", [
    {"email": "other@example.com"}, {"phone_suffix": "9999"}, {"name": "bob"},
    {"name": "%"}, {"name": "_"}, {"phone_suffix": "5634"},
])
def test_lookup_misses_other_people(client, world, ada, query):
    response = client.get(URL, query_string=query, headers=world.tablet_a.headers)
    assert response.status_code == 200
    assert response.json["items"] == []


def test_a_tablet_must_say_what_it_looks_for(client, world, ada):
    assert client.get(URL, headers=world.tablet_a.headers).status_code == 403
    listed = client.get(URL, headers=world.headers("admin"))
    assert [c["id"] for c in listed.json["items"]] == [str(ada.id)]


def test_lookup_pages_walk_every_match_once(client, world, session):
    made = {str(make_customer(session, world.tablet_a.actor, given_name="Sam").id)
            for _ in range(7)}
    seen, after = [], None
    for _ in range(10):
        query = {"name": "sam", "limit": 3} | ({"after": after} if after else {})
        page = client.get(URL, query_string=query, headers=world.tablet_a.headers).json
        seen += [c["id"] for c in page["items"]]
        after = page["next"]
        if not after:
            break
    assert sorted(seen) == sorted(made)


def test_if_match_refuses_a_stale_edit(client, world, ada):
    url = f"{URL}/{ada.id}"
    first = client.patch(url, json={"family_name": "Byron"}, headers=world.tablet_a.headers
                         | {"If-Match": '"1"'})
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"family_name": "King"}, headers=world.tablet_a.headers
                         | {"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json["current_version"] == 2
    assert client.get(url, headers=world.tablet_a.headers).json["family_name"] == "Byron"


def test_update_renormalises_and_keeps_search_keys_in_step(client, world, ada):
    client.patch(f"{URL}/{ada.id}", json={"phone": "07911 123999", "given_name": "Ada"},
                 headers=world.tablet_a.headers)
    found = client.get(URL, query_string={"phone_suffix": "3999"}, headers=world.tablet_a.headers)
    assert [c["given_name"] for c in found.json["items"]] == ["Ada"]
    old = client.get(URL, query_string={"name": "adel"}, headers=world.tablet_a.headers)
    assert old.json["items"] == []


def test_unknown_customer_is_a_404(client, world):
    response = client.get(f"{URL}/{uuid.uuid4()}", headers=world.tablet_a.headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
