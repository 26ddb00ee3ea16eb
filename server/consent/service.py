"""The rules for notices and consent events. Events are only ever appended."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import scope
from server.changelog import service as changelog
from server.changelog.models import StoreCustomer
from server.consent import ledger, purposes, tier
from server.consent.models import ConsentEvent, ConsentState, Notice
from server.core import driver, lookups
from server.core.actor import Actor
from server.core.errors import AlreadyExists, NotFound, Rejected
from server.core.types import utcnow
from server.customers import service as customers
from server.customers import standing
from server.customers.models import Customer
from server.stores import permissions
from server.stores.models import Store

# -- notices ----------------------------------------------------------------------------

def publish_notice(session: Session, actor: Actor, data: dict[str, Any]) -> Notice:
    """Publish the next version of a notice (per key and language); every tablet gets it."""
    latest = session.scalar(sa.select(sa.func.max(Notice.number)).where(
        Notice.key == data["key"], Notice.language == data["language"])) or 0
    notice = Notice(number=latest + 1, **data)
    session.add(notice)
    session.flush()
    for store_id in session.scalars(sa.select(Store.id)):
        changelog.record(session, "notice", notice, store_id=store_id)
    return notice


def share_notices_with(store: Store, *, session: Session, **_) -> None:
    """A new store's tablets get the notices already published (on `store_created`)."""
    for notice in session.scalars(sa.select(Notice)):
        changelog.record(session, "notice", notice, store_id=store.id)


def notices(session: Session, key: str | None = None,
            language: str | None = None) -> list[Notice]:
    query = sa.select(Notice).order_by(Notice.key, Notice.language, Notice.number)
    if key:
        query = query.where(Notice.key == key)
    if language:
        query = query.where(Notice.language == language)
    return list(session.scalars(query))


def get_notice(session: Session, notice_id: uuid.UUID) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("No such notice.")
    return notice


def lapsed_notices(session: Session) -> set[uuid.UUID]:
    """Versions whose grants no longer count: a later version asked to consent again."""
    return set(session.scalars(sa.select(Notice.id).where(_lapsed(Notice))))


def _lapsed(notice) -> sa.ColumnElement[bool]:
    later = sa.orm.aliased(Notice)
    return sa.exists().where(later.key == notice.key, later.language == notice.language,
                             later.number > notice.number, later.requires_reconsent.is_(True))


def counts_now(event, now: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """SQL for an event whose grant counts at `now`: `ledger.grant_counts`, with the notice
    versions that lapsed (`lapsed_notices`) looked up in the query. For queries that only need the
    answer (the CRM feed's contact points); a test holds it to the Python rule."""
    cited = sa.orm.aliased(Notice)
    return sa.and_(event.action == driver.constant("grant"),
                   sa.or_(event.expires_at.is_(None), event.expires_at > now),
                   ~sa.exists().where(cited.id == event.notice_version_id, _lapsed(cited)))


# -- appending events -------------------------------------------------------------------

def _check_grant(session: Session, data: dict[str, Any], now: datetime) -> None:
    if data["notice_version_id"] is None:
        raise Rejected(errors={"notice_version_id": [
            "A grant cites the notice version the customer was shown."]})
    notice = lookups.get(session, Notice, data["notice_version_id"])
    if notice is None:
        raise Rejected(errors={"notice_version_id": ["No such notice version."]})
    errors = {}
    if not any(purposes.covers(p, data["purpose"]) for p in notice.purposes):
        errors["purpose"] = [f"Notice {notice.key} v{notice.number} does not cover "
                             f"{data['purpose']}."]
    channels = set(notice.channels)
    if not (data["channel"] in channels or data["channel"] == ledger.ALL
            and channels.issuperset(("email", "sms", "post", "phone", "push"))):
        errors["channel"] = [f"Notice {notice.key} v{notice.number} does not cover "
                             f"{data['channel']}."]
    if data["expires_at"] is not None and data["expires_at"] <= now:
        errors["expires_at"] = ["Already past."]
    if errors:
        raise Rejected(errors=errors)


def append(session: Session, actor: Actor, data: dict[str, Any]) -> ConsentEvent:
    """Record one consent event and bring the derived state up to date.

    Refusals (withdraw, deny, object) are always recorded, even for an erased
    customer; a grant needs a published notice covering it, and a live customer.
    """
    if data["action"] in ("grant", "deny"):
        permissions.require(actor, "consents:write")
    event_id = data.get("id") or uuid.uuid4()
    if lookups.get(session, ConsentEvent, event_id) is not None:
        raise AlreadyExists("This consent event is recorded already.", id=str(event_id))
    # The customer's row lock orders appends per customer, so the state follows receipt.
    # FOR NO KEY UPDATE: new captures' foreign-key checks on the customer go on.
    customer = session.get(Customer, data["customer_id"], with_for_update={"key_share": True})
    if customer is None:
        raise Rejected(errors={"customer_id": ["No such customer."]})
    if customer.merged_into_id is not None:  # recorded for the record standing for them
        customer = session.get(Customer, standing.surviving(session, customer).id,
                               with_for_update={"key_share": True})
    now = utcnow()
    if data["action"] == "grant":
        customers.require_live(customer)
        _check_grant(session, data, now)
    elif data["expires_at"] is not None:
        raise Rejected(errors={"expires_at": ["Only a grant expires."]})
    ordinal = session.scalar(sa.select(sa.func.max(ConsentEvent.ordinal)).where(
        ConsentEvent.customer_id == customer.id)) or 0
    event = ConsentEvent(
        id=event_id, customer_id=customer.id, ordinal=ordinal + 1, purpose=data["purpose"],
        channel=data["channel"], action=data["action"],
        notice_version_id=data["notice_version_id"], method=data["method"],
        store_id=actor.store_id, device_id=actor.device_id,
        captured_by=data["captured_by"], captured_at=data["captured_at"], received_at=now,
        expires_at=data["expires_at"])
    lookups.add(session, event)
    _fold_in(session, event)
    if actor.is_tablet:
        scope.enter(session, actor.store_id, customer)
    changelog.record(session, "consent", event, new=True)
    return event


def _fold_in(session: Session, event: ConsentEvent) -> None:
    slot = session.get(ConsentState, (event.customer_id, event.purpose, event.channel))
    if slot is None:
        session.add(ConsentState(customer_id=event.customer_id, purpose=event.purpose,
                                 channel=event.channel, event_id=event.id))
        return
    current = session.get(ConsentEvent, slot.event_id)
    if ledger.supersedes(event, current):
        slot.event_id = event.id


# -- reading ----------------------------------------------------------------------------

def events_of(session: Session, customer_id: uuid.UUID) -> list[ConsentEvent]:
    return list(session.scalars(sa.select(ConsentEvent).where(
        ConsentEvent.customer_id == customer_id).order_by(ConsentEvent.ordinal)))


def state_of(session: Session, customer_id: uuid.UUID) -> dict[tuple[str, str], ConsentEvent]:
    """The stored state: the event speaking for each (purpose, channel)."""
    query = (sa.select(ConsentEvent)
             .join(ConsentState, ConsentState.event_id == ConsentEvent.id)
             .where(ConsentState.customer_id == customer_id))
    return {(e.purpose, e.channel): e for e in session.scalars(query)}


def rebuild(session: Session, customer_id: uuid.UUID) -> dict[tuple[str, str], ConsentEvent]:
    """Recompute the stored state from the events alone (repair, and the proof it can)."""
    session.execute(sa.delete(ConsentState).where(ConsentState.customer_id == customer_id))
    state = ledger.fold(events_of(session, customer_id))
    session.add_all(ConsentState(customer_id=customer_id, purpose=p, channel=c,
                                 event_id=e.id) for (p, c), e in state.items())
    session.flush()
    return state


def summary(session: Session, actor: Actor, customer_id: uuid.UUID) -> dict[str, Any]:
    """Events, the state per slot, and the sharing tier, for one customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    now, lapsed = utcnow(), lapsed_notices(session)
    slots = []
    for (purpose, channel), event in sorted(state_of(session, customer_id).items()):
        live = ledger.grant_counts(event, now, event.notice_version_id in lapsed)
        slots.append({"purpose": purpose, "channel": channel, "status": event.action,
                      "live": live, "since": event.received_at, "event_id": event.id,
                      "notice_version_id": event.notice_version_id,
                      "expires_at": event.expires_at})
    live_purposes = {s["purpose"] for s in slots if s["live"]}
    return {"customer_id": customer.id, "state": slots,
            "events": events_of(session, customer_id),
            "sharing": tier.sharing(customer.preferences or {}, live_purposes)}


def tablets_forget(session: Session, customer_id: uuid.UUID, reason: str) -> None:
    """Each store that held the customer drops its copies of their consent events (the
    events stay on the server, without personal data, as the record of what was said):
    at erasure, and for a merged duplicate."""
    stores = list(session.scalars(sa.select(StoreCustomer.store_id).where(
        StoreCustomer.customer_id == customer_id)))
    events = session.scalars(sa.select(ConsentEvent).where(
        ConsentEvent.customer_id == customer_id))
    for event in events:
        for store_id in stores:
            changelog.record(session, "consent", event, op="delete", reason=reason,
                             store_id=store_id)


def carry_refusals(duplicate: Customer, *, into: Customer, session: Session, actor: Actor,
                   result: Any, **_: Any) -> None:
    """On `customer_merged`: a refusal the duplicate stands on, for a purpose and channel
    the survivor has said nothing about since, is recorded for the survivor (its capture
    time and method kept); a grant is not carried over. The duplicate's tablets drop
    their copies of its events."""
    held = state_of(session, into.id)
    for slot, event in sorted(state_of(session, duplicate.id).items()):
        if event.action not in ledger.REFUSALS:
            continue
        since = held.get(slot)
        if since is not None and since.received_at >= event.received_at:
            continue  # the survivor said something later: that stands
        append(session, actor, {
            "customer_id": into.id, "purpose": event.purpose, "channel": event.channel,
            "action": event.action, "notice_version_id": event.notice_version_id,
            "method": event.method, "captured_by": event.captured_by,
            "captured_at": event.captured_at or event.received_at, "expires_at": None})
        result.refusals += 1
    tablets_forget(session, duplicate.id, "merged")


# The API's ways in: the same rules, each read or change logged (audit.access_log).
show_summary = access_log.logs_read("read", "consent",
                                   lambda _, customer_id, *__: [customer_id])(summary)


def record_for(session: Session, actor: Actor, customer_id: uuid.UUID,
               data: dict[str, Any]) -> ConsentEvent:
    """`append` for a customer the key may reach, logged as a change of theirs."""
    customers.get(session, actor, customer_id)
    event = append(session, actor, data | {"customer_id": customer_id})
    access_log.changed(session, actor, "consent", [customer_id])
    return event
