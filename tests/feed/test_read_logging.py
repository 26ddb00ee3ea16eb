"""Logging the reads of a page: one access-log row per customer, with the reader's key.

A device's pull and the CRM feed read ids as text (PostgreSQL writes the rows from one
array); other reads pass UUIDs. Either way the rows are the same.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.privacy import access_log
from server.privacy.models import AccessEntry
from tests.factories import make_customer
from tests.sync.helpers import pull_all


def logged(session, what: str) -> list[tuple]:
    rows = session.execute(sa.select(AccessEntry).where(AccessEntry.what == what)).scalars()
    return sorted(((r.customer_id, r.action, r.scope, r.key_id, r.store_id, r.device_id)
                   for r in rows), key=str)


def test_one_row_per_distinct_customer_with_the_readers_key(session, world):
    actor = world.tablet_a.actor
    people = [make_customer(session, actor).id for _ in range(3)]
    # Text and UUIDs, repeated, and a record that belongs to no customer (None).
    ids = [str(people[0]), people[0], str(people[1]), people[2], str(people[2]), None]
    access_log.read(session, actor, "read", "page read", ids)
    assert logged(session, "page read") == sorted(
        [(p, "read", "tablet", actor.key_id, actor.store_id, actor.device_id) for p in people],
        key=str)
    entries = session.execute(sa.select(AccessEntry.id, AccessEntry.at)
                              .where(AccessEntry.what == "page read")).all()
    assert len({e.at for e in entries}) == 1 and entries[0].at.tzinfo is not None
    # Time-ordered ids (version 7), made at the entries' time, distinct in their random bits.
    at_ms = int(entries[0].at.timestamp() * 1000)
    assert len({e.id for e in entries}) == 3
    assert all(e.id.version == 7 and e.id.variant == uuid.RFC_4122 for e in entries)
    assert {e.id.int >> 80 for e in entries} == {at_ms}


def test_nothing_read_nothing_logged(session, world):
    access_log.read(session, world.tablet_a.actor, "read", "page read", [None])
    access_log.read(session, world.tablet_a.actor, "read", "page read", [])
    assert logged(session, "page read") == []


def test_a_pull_logs_each_customer_of_the_page_once(client, session, world):
    actor = world.tablet_a.actor
    people = [make_customer(session, actor).id for _ in range(25)]
    pull_all(client, world.tablet_a)
    assert logged(session, "sync pull") == sorted(
        [(p, "read", "tablet", actor.key_id, actor.store_id, actor.device_id) for p in people],
        key=str)

