"""The fast path for new requests: the same answers and the same rows as the schemas and
the ORM give, or it steps aside."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.changelog import bodies
from server.core.plainschema import QuickLoad
from server.customer_requests import service as requests
from server.customer_requests.lifecycle import TYPES
from server.customer_requests.schemas import RequestCreate, RequestOut
from server.extensions import db
from server.privacy import erasure
from server.stores import keys
from server.sync import push as pushing
from server.sync.schemas import Mutation
from server.webhooks import service as webhooks
from tests.conftest import TEST_SECRET_KEY, _empty_tables
from tests.factories import World
from tests.sync.helpers import mutation, new_customer, new_request, pull_all, push

# -- the checks: exactly the schema's answer, or none ---------------------------------

ODD_TEXT = st.sampled_from(["", " ", "  padded  ", "\ttab\t", "line\nbreak", "nul\x00",
                            "bell\x07", "\x1f", "\x0b", "\x85next", "\xa0nbsp\xa0", "\ud800",
                            "é" * 40, "x" * 32, "x" * 33, " " + "x" * 32 + " ", "x" * 64,
                            "x" * 65, "x" * 500, "x" * 501])
ODD_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                       st.floats(allow_nan=True), st.just(b"bytes"), st.lists(st.integers(),
                                                                               max_size=2),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
UUIDS = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: u.hex),
                  st.uuids().map(lambda u: "{" + str(u) + "}"),
                  st.uuids().map(lambda u: str(u).upper()), st.just("not-a-uuid"),
                  st.just(""), st.uuids().map(lambda u: f"urn:uuid:{u}"))
DATES = st.one_of(st.dates().map(date.isoformat), st.just("2026-02-30"), st.just("20261224"),
                  st.just("2026-W52-4"), st.just("2026-12-24T10:00:00"), st.just("24/12/2026"),
                  st.just(""))
TIMES = st.one_of(st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
                  st.datetimes().map(datetime.isoformat),
                  st.just("0001-01-01T00:00:00+14:00"), st.just("2026-11-23T10:04:00Z"),
                  st.just("2026-11-23 10:04"), st.just("yesterday"))
CHANNEL_LISTS = st.one_of(
    st.lists(st.sampled_from(["email", "sms", "post", "phone", "push", "fax", "SMS", ""]),
             max_size=7),
    st.lists(ODD_SCALAR, max_size=2))
TEXT = st.one_of(ODD_TEXT, st.text(max_size=70))


def anything(values):
    return st.one_of(values, values, values, ODD_SCALAR)


REQUEST_FIELDS = {
    "id": anything(UUIDS), "customer_id": anything(UUIDS), "store_id": anything(UUIDS),
    "type": anything(st.one_of(st.sampled_from(TYPES), st.sampled_from(["Hold", "hold ", ""]))),
    "sku": anything(TEXT), "description": anything(TEXT), "size": anything(TEXT),
    "colour": anything(TEXT), "category": anything(TEXT), "captured_by": anything(TEXT),
    "quantity": anything(st.one_of(st.integers(-2, 1002), st.sampled_from(["5", "5.0", 2.0,
                                                                          2.5, " 7"]))),
    "due_date": anything(DATES), "notify_channels": anything(CHANNEL_LISTS),
    "captured_at": anything(TIMES),
}


@st.composite
def request_fields(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(REQUEST_FIELDS)), unique=True))
    data = {name: draw(REQUEST_FIELDS[name]) for name in chosen}
    if draw(st.booleans()):  # mostly the shape a tablet sends
        data.setdefault("customer_id", str(uuid.uuid4()))
        data.setdefault("type", "hold")
        data.setdefault("sku", "BT-1")
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(["shoe_size", "status", "version", "Type"]))] = "x"
    return data


def same_as_schema(quick: QuickLoad, schema, data) -> None:
    got = quick.load(data)
    try:
        expected = schema.load(data)
    except ValidationError:
        assert got is None, (data, got)
        return
    assert got is None or got == expected, (data, got, expected)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request_fields())
def test_quick_request_fields_are_what_the_schema_loads_or_none(data):
    same_as_schema(QuickLoad(RequestCreate()), RequestCreate(), data)


ENVELOPE_FIELDS = {
    "mutation_id": anything(UUIDS), "id": anything(UUIDS),
    "entity": anything(st.sampled_from(["request", "customer", "note", "consent", "unicorn"])),
    "op": anything(st.sampled_from(["upsert", "delete", "append", "Upsert"])),
    "base_version": anything(st.one_of(st.integers(-1, 2**31), st.just(3.0))),
    "captured_at": anything(TIMES), "captured_by": anything(TEXT),
    "fields": anything(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)),
}


@st.composite
def envelopes(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(ENVELOPE_FIELDS)), unique=True))
    data = {name: draw(ENVELOPE_FIELDS[name]) for name in chosen}
    if draw(st.booleans()):
        data |= {k: v for k, v in mutation("request").items() if k not in data}
    if draw(st.integers(0, 9)) == 0:
        data["extra"] = 1
    return data


@settings(max_examples=1000, deadline=None)
@given(st.one_of(envelopes(), ODD_SCALAR))
def test_quick_envelopes_are_what_the_schema_loads_or_none(data):
    same_as_schema(QuickLoad(Mutation()), Mutation(), data)


def test_a_plain_capture_is_taken_by_the_quick_check():
    data = new_request(uuid.uuid4(), quantity=2, due_date="2026-12-24",
                       notify_channels=["sms"], captured_at="2026-11-23T10:04:00+01:00")
    assert QuickLoad(Mutation()).load(data) == Mutation().load(data)
    fields = data["fields"]
    assert QuickLoad(RequestCreate()).load(fields) == RequestCreate().load(fields)


def test_a_rows_body_is_what_the_schema_dumps():
    now = datetime(2026, 11, 23, 10, 4, 5, 123456, tzinfo=UTC)
    row = {"id": uuid.uuid4(), "customer_id": uuid.uuid4(), "store_id": uuid.uuid4(),
           "type": "hold", "status": "open", "status_reason": None, "sku": "BT-1",
           "description": None, "size": "38", "colour": None, "category": "shoes",
           "quantity": 2, "due_date": date(2026, 12, 24), "notify_channels": ["sms", "email"],
           "captured_by": "A-117", "captured_at": now, "created_at": now, "updated_at": now,
           "closed_at": None, "version": 1, "field_versions": {}}
    assert bodies.of_row("request", row) == RequestOut(exclude=("history",)).dump(row)


# -- a push: the same database either way ---------------------------------------------

QUICK = (pushing._quick_envelope, pushing._quick_create)


class _Never:
    def load(self, data):
        return None


def _scenario(client, session, fast: bool, monkeypatch) -> dict:
    monkeypatch.setattr(pushing, "_quick_envelope", QUICK[0] if fast else _Never())
    monkeypatch.setattr(pushing, "_quick_create", QUICK[1] if fast else {})
    world = World.build(session)
    admin = keys.authenticate(session, world.tokens["admin"])
    webhooks.create(session, admin, {"url": "https://crm.example/hook", "events": ["*"]},
                    master_key=TEST_SECRET_KEY, default_max_attempts=3)
    session.commit()
    ids = iter(uuid.UUID(int=n) for n in range(1, 10_000))

    def fixed(item, record_id=None):
        return item | {"mutation_id": str(next(ids)), "id": record_id or str(next(ids))}

    erased = fixed(new_customer(given_name="Gone"))
    push(client, world.tablet_a, [erased])
    erasure.erase(session, admin, uuid.UUID(erased["id"]))
    session.commit()

    customer = fixed(new_customer(email="ada@example.com"))
    captures = [fixed(new_request(customer["id"], sku=f"BT-{n}", size=" 38 ", quantity=n % 5 + 1,
                                  due_date="2026-12-24", notify_channels=["sms", "email"],
                                  category="shoes"))
                for n in range(30)]
    first = captures[0]["id"]
    # Alone: a group with a new customer is replayed one by one (see the report).
    push(client, world.tablet_a, [customer])
    batch = [*captures[:25],
             fixed(new_request(customer["id"], type="teleport")),
             fixed(new_request(str(uuid.UUID(int=9_999_999)))),
             fixed(new_request(erased["id"])),
             fixed(new_request(customer["id"], store_id=str(world.store_b.id))),
             fixed(new_request(customer["id"], captured_at="2026-11-23T09:00:00-05:00")),
             fixed(new_request(customer["id"], quantity=2.0)),  # valid, but not plain
             fixed(mutation("note", fields={"customer_id": customer["id"], "request_id": first,
                                            "body": "Wants it gift wrapped"})),
             *captures[25:],
             fixed(mutation("request", first, {"size": "39"}, base_version=1), first),
             captures[3]]  # again, in the same push
    results = [push(client, world.tablet_a, batch), push(client, world.tablet_a, batch)]
    again = fixed(new_request(customer["id"]))
    results.append(push(client, world.tablet_a, [again, again | {"id": str(next(ids))}]))
    changes, _ = pull_all(client, world.tablet_a)
    session.close()
    names = {str(world.store_a.id): "store A", str(world.store_b.id): "store B",
             str(world.tablet_a.actor.device_id): "device A",
             str(world.tablet_a.actor.key_id): "key A", str(admin.key_id): "admin key"}
    return _normalised(session, names, {"results": results, "pulled": changes})


TIMES_IN_ROWS = {"created_at", "updated_at", "changed_at", "applied_at", "committed_at",
                 "since", "at", "next_attempt_at", "occurred_at", "delivery_id"}


def _normalised(session, names, state) -> dict:
    tables = {"requests": "id", "request_status_changes": "request_id", "changes": "seq",
              "applied_mutations": "mutation_id", "store_customers": "customer_id",
              "access_log": "customer_id", "webhook_deliveries": "seq"}
    state = _plain(state, names)
    for table, order in tables.items():
        rows = session.execute(sa.select(db.metadata.tables[table])).mappings()
        state[table] = sorted(
            (_plain(_history_parsed(dict(row)), names) for row in rows),
            key=lambda r, order=order: (str(r[order]), str(r.get("what")), str(r.get("event"))))
    return state


def _history_parsed(row: dict) -> dict:
    """A change's request history is JSON text: parsed, so its times are dropped too."""
    if row.get("history"):
        row["history"] = json.loads(row["history"])
    return row


def _plain(value, names):
    """Ids the database made (history, access log) and times dropped; stores, devices and
    keys named; JSON text parsed."""
    if isinstance(value, dict):
        return {k: _plain(v, names) for k, v in value.items()
                if k not in TIMES_IN_ROWS and not (k == "id" and isinstance(v, uuid.UUID)
                                                   and v.int > 10**8)
                and k != "subscription_id"}
    if isinstance(value, list):
        return [_plain(v, names) for v in value]
    text = str(value) if isinstance(value, uuid.UUID) else value
    return names.get(text, text) if isinstance(text, str) else text


@pytest.fixture
def counted(monkeypatch):
    calls = []
    original = requests.Captures.add

    def add(self, session, actor, data):
        calls.append(data["id"])
        return original(self, session, actor, data)

    monkeypatch.setattr(requests.Captures, "add", add)
    return calls


def test_a_push_through_the_fast_path_leaves_what_the_slow_path_leaves(client, session,
                                                                       monkeypatch, counted):
    slow = _scenario(client, session, False, monkeypatch)
    assert counted == []
    _empty_tables()
    fast = _scenario(client, session, True, monkeypatch)
    assert len(counted) >= 30  # the captures went the fast way
    assert [r["status"] for r in fast["results"][0]].count("applied") == 34
    assert fast["results"][0][-1]["status"] == "duplicate"
    for key in slow:
        assert fast[key] == slow[key], key
    db.session.remove()


@pytest.mark.parametrize("count", [3, 25])  # a pipelined executemany; a COPY
def test_a_fast_insert_the_database_refuses_is_replayed_one_by_one(client, world, session,
                                                                    monkeypatch, counted,
                                                                    count):
    monkeypatch.setattr(pushing, "_distinct", lambda parsed, group: True)
    customer = new_customer()
    push(client, world.tablet_a, [customer])
    batch = [new_request(customer["id"]) for _ in range(count)]
    batch[-1]["mutation_id"] = batch[-2]["mutation_id"]  # the second insert of it fails
    results = push(client, world.tablet_a, batch)
    assert len(counted) == count  # tried the fast way first
    assert [r["status"] for r in results] == ["applied"] * (count - 1) + ["duplicate"]
    assert results[-1]["id"] == batch[-2]["id"]
    stored = session.scalars(sa.select(db.metadata.tables["requests"].c.id)).all()
    assert sorted(map(str, stored)) == sorted(m["id"] for m in batch[:-1])


@pytest.mark.parametrize("before", ["edit", "rejection"])
def test_a_refused_group_after_other_mutations_keeps_what_they_did(client, world, session,
                                                                    monkeypatch, counted,
                                                                    before):
    """A group that is the first write of its push is undone with the whole transaction
    when the database refuses it; after an applied edit it must be undone alone, by its
    savepoint, and the edit kept."""
    monkeypatch.setattr(pushing, "_distinct", lambda parsed, group: True)
    customer = new_customer()
    push(client, world.tablet_a, [customer])
    batch = [new_request(customer["id"]) for _ in range(25)]
    batch[-1]["mutation_id"] = batch[-2]["mutation_id"]  # the second insert of it fails
    lead = (mutation("customer", customer["id"], {"family_name": "Lovelace"}, base_version=1)
            if before == "edit" else {"mutation_id": "not a uuid"})
    results = push(client, world.tablet_a, [lead, *batch])
    assert results[0]["status"] == ("applied" if before == "edit" else "rejected")
    assert [r["status"] for r in results[1:]] == ["applied"] * 24 + ["duplicate"]
    family = session.scalar(sa.select(db.metadata.tables["customers"].c.family_name))
    assert family == ("Lovelace" if before == "edit" else None)
    stored = session.scalars(sa.select(db.metadata.tables["requests"].c.id)).all()
    assert sorted(map(str, stored)) == sorted(m["id"] for m in batch[:-1])
