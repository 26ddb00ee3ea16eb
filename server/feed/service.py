"""The CRM feed: every store's changes in commit order, reduced to what the CRM may hold.

It reads the same change log as a device's pull (same cursor, same never-miss
guarantee, same snapshot and 410 rules), through the stream of records that
belong to no store's copy: customers and consent events as logged once for
everyone, requests and notes as logged for their store. Each record is then cut
down to the CRM's view at read time, because what the CRM may hold depends on
the customer's consent *now*:

- a customer's contact points only on channels where some purpose allows contact:
  a live grant on that channel (or on all), or an open request of theirs that chose
  that channel; nothing else of theirs is withheld;
- consent as the customer's current state per purpose and channel, with the notice
  version each slot cites (entity `consent_state`, id = the customer's id); each
  consent change also re-sends the customer, whose contact points may have changed;
- requests with their status history;
- never a note flagged sensitive: it arrives as a delete (`reason: "withheld"`), so a
  note that became sensitive after an edit is removed from the CRM too.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from server.changelog.models import Change
from server.consent import ledger
from server.consent import service as consent
from server.consent.models import ConsentEvent, ConsentState, Notice
from server.core.actor import Actor
from server.core.types import utcnow
from server.core.vocabulary import CHANNELS
from server.customer_requests.lifecycle import CLOSED
from server.customer_requests.models import CustomerRequest, StatusChange
from server.sync.pull import read

PER_CUSTOMER = ("customer", "consent")
PER_STORE = ("request", "note")
CONTACT_FIELDS = {"email": ("email",), "phone": ("sms", "phone"), "postal_address": ("post",)}


def _in_feed(change) -> sa.ColumnElement:
    return sa.or_(sa.and_(change.entity.in_(PER_CUSTOMER), change.store_id.is_(None)),
                  change.entity.in_(PER_STORE))


def _stream(after: int) -> sa.Select:
    later = aliased(Change)
    superseded = sa.exists().where(later.entity == Change.entity,
                                   later.record_id == Change.record_id,
                                   later.seq > Change.seq, _in_feed(later))
    return (sa.select(Change.seq, Change.entity, Change.record_id, Change.op, Change.version,
                      Change.reason, Change.customer_id,
                      sa.cast(Change.body, sa.Text).label("body"))
            .where(Change.seq > after, _in_feed(Change), ~superseded)
            .order_by(Change.seq))


@dataclass
class FeedPage:
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def feed(session: Session, actor: Actor, token: str | None, limit: int) -> FeedPage:
    rows, next_cursor, has_more = read(session, _stream, token, limit)
    return FeedPage(_crm_view(session, rows), next_cursor, has_more)


# -- the CRM's view of a page ---------------------------------------------------------------

def _crm_view(session: Session, rows: list) -> list[dict[str, Any]]:
    # A consent change stands for its customer's whole consent state, and their record.
    customers = {r.customer_id for r in rows if r.entity in PER_CUSTOMER and r.customer_id}
    consent_at = {r.customer_id: r.seq for r in rows if r.entity == "consent"}
    channels = _contactable(session, customers)
    states = _consent_states(session, set(consent_at))
    extra_customers = _customer_bodies(session, set(consent_at) - {
        r.record_id for r in rows if r.entity == "customer"})
    histories = _histories(session, [r.record_id for r in rows
                                     if r.entity == "request" and r.op != "delete"])
    out = []
    for row in rows:
        if row.entity == "consent":
            if consent_at.get(row.customer_id) != row.seq:
                continue  # the customer's later consent change in this page says it all
            out.append(states[row.customer_id])
            if row.customer_id in extra_customers:
                out.append(_customer(extra_customers[row.customer_id], channels))
            continue
        if row.op == "delete":
            out.append(_tombstone(row.entity, row.record_id, row.version, row.reason))
            continue
        body = json.loads(row.body)
        if row.entity == "customer":
            out.append(_customer(_upsert("customer", row.record_id, row.version, body),
                                 channels))
        elif row.entity == "request":
            body["history"] = histories.get(row.record_id, [])
            out.append(_upsert("request", row.record_id, row.version, body))
        elif body.get("sensitive"):
            out.append(_tombstone("note", row.record_id, row.version, "withheld"))
        else:
            out.append(_upsert("note", row.record_id, row.version, body))
    return out


def _upsert(entity: str, record_id, version: int, record: dict) -> dict[str, Any]:
    return {"entity": entity, "id": str(record_id), "op": "upsert", "version": version,
            "record": record}


def _tombstone(entity: str, record_id, version: int, reason: str | None) -> dict[str, Any]:
    return {"entity": entity, "id": str(record_id), "op": "delete", "version": version,
            "reason": reason}


def _customer(change: dict[str, Any], channels: dict[uuid.UUID, set[str]]) -> dict[str, Any]:
    allowed = channels.get(uuid.UUID(change["id"]), set())
    record = change["record"]
    for field, uses in CONTACT_FIELDS.items():
        if not allowed.intersection(uses):
            record[field] = None
    return change


def _contactable(session: Session, customers: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Channels on which some purpose allows contact now: live grants, and the channels
    chosen for the customer's open requests."""
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    if not customers:
        return found
    now, lapsed = utcnow(), consent.lapsed_notices(session)
    for customer_id, event in _state_rows(session, customers):
        if ledger.is_live_grant(event, now) and event.notice_version_id not in lapsed:
            found[customer_id].update(CHANNELS if event.channel == ledger.ALL
                                      else (event.channel,))
    open_requests = sa.select(CustomerRequest.customer_id, CustomerRequest.notify_channels) \
        .where(CustomerRequest.customer_id.in_(customers),
               CustomerRequest.status.not_in(CLOSED))
    for customer_id, chosen in session.execute(open_requests):
        found[customer_id].update(chosen or ())
    return found


def _state_rows(session: Session, customers: set[uuid.UUID]):
    query = (sa.select(ConsentState.customer_id, ConsentEvent)
             .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
             .where(ConsentState.customer_id.in_(customers)))
    return session.execute(query).all()


def _consent_states(session: Session, customers: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    if not customers:
        return {}
    now, lapsed = utcnow(), consent.lapsed_notices(session)
    notices = {n.id: n for n in session.scalars(sa.select(Notice))}
    slots: dict[uuid.UUID, list[dict]] = defaultdict(list)
    versions: dict[uuid.UUID, int] = defaultdict(int)
    for customer_id, event in _state_rows(session, customers):
        notice = notices.get(event.notice_version_id)
        slots[customer_id].append({
            "purpose": event.purpose, "channel": event.channel, "status": event.action,
            "live": ledger.is_live_grant(event, now) and event.notice_version_id not in lapsed,
            "since": event.received_at.isoformat(),
            "expires_at": event.expires_at.isoformat() if event.expires_at else None,
            "notice": {"id": str(notice.id), "key": notice.key, "language": notice.language,
                       "number": notice.number} if notice else None})
        versions[customer_id] = max(versions[customer_id], event.ordinal)
    return {c: {"entity": "consent_state", "id": str(c), "op": "upsert",
                "version": versions[c],
                "record": {"customer_id": str(c),
                           "state": sorted(slots[c], key=lambda s: (s["purpose"],
                                                                    s["channel"]))}}
            for c in customers}


def _customer_bodies(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """Customers re-sent after a consent change, as their latest logged body."""
    if not ids:
        return {}
    latest = (sa.select(Change.record_id, sa.func.max(Change.seq).label("seq"))
              .where(Change.entity == "customer", Change.record_id.in_(ids),
                     Change.store_id.is_(None))
              .group_by(Change.record_id).subquery())
    query = (sa.select(Change.record_id, Change.version, Change.op, Change.body)
             .join(latest, sa.and_(Change.seq == latest.c.seq,
                                   Change.record_id == latest.c.record_id)))
    return {record_id: _upsert("customer", record_id, version, dict(body))
            for record_id, version, op, body in session.execute(query) if op != "delete"}


def _histories(session: Session, request_ids: list) -> dict[uuid.UUID, list[dict]]:
    if not request_ids:
        return {}
    query = (sa.select(StatusChange).where(StatusChange.request_id.in_(request_ids))
             .order_by(StatusChange.changed_at, StatusChange.id))
    found: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for step in session.scalars(query):
        found[step.request_id].append({
            "from_status": step.from_status, "to_status": step.to_status,
            "reason": step.reason, "changed_by": step.changed_by,
            "changed_at": step.changed_at.isoformat()})
    return found
