"""Follow-up tasks: created when the policy allows a contact, worked by channel systems.

A task goes to the best channel the policy allows at creation; when a channel
worker claims it, the policy is asked again (consent may have changed since), and
the task is sent, re-routed, deferred or suppressed accordingly. Claims hold a
lease and are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers never get the same task; SQLite serialises writers instead. An outcome
report names its claim, so a retried report changes nothing the second time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.consent import purposes
from server.consent import service as consent
from server.contact import policy, subject, suppression
from server.contact.models import Contact, FollowUp
from server.contact.policy import Context
from server.contact.service import reasons_json
from server.core import paging
from server.core.actor import Actor
from server.core.errors import Conflict, NotFound, Rejected
from server.core.types import utcnow
from server.customer_requests import lifecycle
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.stores.models import Store

MAX_ATTEMPTS = 5
CLOSED = frozenset({"sent", "failed", "suppressed", "cancelled"})


def _route(session: Session, task: FollowUp, now: datetime) -> None:
    """Point the task at the best channel allowed now, defer it, or suppress it."""
    customer = session.get(Customer, task.customer_id)
    context = Context(request_id=task.request_id, topic=task.topic)
    ranked = policy.options(subject.load(session, customer, context), task.purpose, now,
                            context)
    allowed = [d for d in ranked if d.allowed]
    deferred = sorted((d for d in ranked if d.next_allowed_at is not None),
                      key=lambda d: d.next_allowed_at)
    if allowed:
        chosen, task.status, task.not_before = allowed[0], "pending", now
    elif deferred:
        chosen, task.status, task.not_before = deferred[0], "pending", deferred[0].next_allowed_at
    else:
        task.channel, task.status, task.obligations = None, "suppressed", []
        task.reasons = [r for d in ranked for r in reasons_json(d)]
        return
    task.channel, task.obligations = chosen.channel, chosen.obligations
    task.reasons = reasons_json(chosen)


def create(session: Session, actor: Actor, customer_id: uuid.UUID, purpose: str,
           topic: str, request_id: uuid.UUID | None = None,
           trigger: str = "head_office") -> FollowUp:
    """A follow-up for the best allowed channel; the same topic again returns the first."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise Rejected(errors={"customer_id": ["No such customer."]})
    if request_id is not None and session.get(CustomerRequest, request_id) is None:
        raise Rejected(errors={"request_id": ["No such request."]})
    existing = session.scalar(sa.select(FollowUp).where(
        FollowUp.customer_id == customer_id, FollowUp.topic == topic,
        FollowUp.status.not_in(("suppressed", "cancelled"))))
    if existing is not None:
        return existing
    task = FollowUp(customer_id=customer_id, request_id=request_id, purpose=purpose,
                    topic=topic, trigger=trigger, attempts=0)
    _route(session, task, utcnow())
    session.add(task)
    session.flush()
    return task


def on_request_ready(session: Session, request: CustomerRequest) -> FollowUp:
    """A request became ready: tell the customer, the way they chose for it."""
    return create(session, None, request.customer_id, purposes.REQUEST_UPDATES,
                  f"request-ready:{request.id}", request.id, trigger="request_ready")


def find(session: Session, args: dict[str, Any], limit: int,
         after: str | None) -> tuple[list[FollowUp], str | None]:
    query = sa.select(FollowUp)
    for name in ("status", "channel", "customer_id", "request_id"):
        if args.get(name) is not None:
            query = query.where(getattr(FollowUp, name) == args[name])
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(FollowUp.created_at, FollowUp.id) < tuple(last))
    rows = list(session.scalars(query.order_by(FollowUp.created_at.desc(),
                                               FollowUp.id.desc()).limit(limit + 1)))
    return paging.page(rows, limit, lambda t: [t.created_at.isoformat(), str(t.id)])


# -- the channel worker's side --------------------------------------------------------------

def claim(session: Session, actor: Actor, limit: int, lease_seconds: int) -> list[dict]:
    """Lease up to `limit` tasks of the worker's channel that the policy allows now."""
    now = utcnow()
    due = sa.or_(sa.and_(FollowUp.status == "pending", FollowUp.not_before <= now),
                 sa.and_(FollowUp.status == "claimed", FollowUp.lease_until < now))
    query = (sa.select(FollowUp).where(FollowUp.channel == actor.channel, due)
             .order_by(FollowUp.not_before).limit(limit)
             .with_for_update(skip_locked=True))
    claimed = []
    for task in session.scalars(query):
        _route(session, task, now)
        if task.status != "pending" or task.channel != actor.channel or task.not_before > now:
            continue  # suppressed, sent to another channel, or deferred: not this worker's
        task.status, task.claim_id = "claimed", uuid.uuid4()
        task.lease_until, task.claimed_by = now + timedelta(seconds=lease_seconds), actor.key_id
        task.attempts += 1
        claimed.append(_for_channel(session, task))
    session.flush()
    return claimed


def _for_channel(session: Session, task: FollowUp) -> dict[str, Any]:
    """Only what this channel needs: its own contact point, never the others."""
    customer = session.get(Customer, task.customer_id)
    address = {"email": customer.email, "sms": customer.phone, "phone": customer.phone,
               "post": customer.postal_address, "push": None}[task.channel]
    request = session.get(CustomerRequest, task.request_id) if task.request_id else None
    summary = None
    if request is not None:
        store = session.get(Store, request.store_id)
        summary = {"id": request.id, "type": request.type, "status": request.status,
                   "sku": request.sku, "description": request.description,
                   "size": request.size, "colour": request.colour, "store_name": store.name}
    return {"id": task.id, "claim_id": task.claim_id, "lease_until": task.lease_until,
            "purpose": task.purpose, "channel": task.channel, "topic": task.topic,
            "obligations": task.obligations,
            "recipient": {"given_name": customer.given_name, "address": address},
            "request": summary}


def customer_of(session: Session, task_id: uuid.UUID) -> uuid.UUID:
    return session.get(FollowUp, task_id).customer_id


def report(session: Session, actor: Actor, task_id: uuid.UUID, claim_id: uuid.UUID,
           outcome: str, detail: str | None = None) -> FollowUp:
    """Record what happened to a claimed task; the same report again changes nothing."""
    task = session.get(FollowUp, task_id, with_for_update=True)
    if task is None or task.channel != actor.channel and task.claimed_by != actor.key_id:
        raise NotFound("No such follow-up for this channel.")
    if task.reported_claim_id == claim_id:
        if task.reported_outcome != outcome:
            raise Conflict(f"This claim was reported {task.reported_outcome} already.")
        return task
    if task.status != "claimed" or task.claim_id != claim_id:
        raise Conflict("This claim is no longer held: the lease ran out and the task was "
                       "claimed again, or it was never claimed.")
    now = utcnow()
    customer = session.get(Customer, task.customer_id)
    if outcome in ("sent", "replied", "stop"):
        task.status = "sent"
        session.add(Contact(customer_id=task.customer_id, channel=task.channel,
                            purpose=task.purpose, topic=task.topic, follow_up_id=task.id,
                            request_id=task.request_id, sent_at=now))
        if outcome == "stop":
            _stop(session, actor, task)
    elif outcome == "bounced":
        task.status = "failed"
        kind, point = ("email", customer.email) if task.channel == "email" \
            else ("phone", customer.phone)
        if point:
            suppression.add(session, kind, point, "bounced")
    elif task.attempts >= MAX_ATTEMPTS:
        task.status = "failed"
    else:
        task.status = "pending"
        task.not_before = now + timedelta(minutes=2 ** task.attempts)
    task.outcome, task.claim_id, task.lease_until = outcome, None, None
    task.reported_claim_id, task.reported_outcome = claim_id, outcome
    session.flush()
    return task


def _stop(session: Session, actor: Actor, task: FollowUp) -> None:
    """A STOP reply withdraws the purpose (its top level) on this channel."""
    consent.append(session, actor, {
        "customer_id": task.customer_id, "purpose": purposes.root(task.purpose),
        "channel": task.channel, "action": "withdraw", "notice_version_id": None,
        "method": "reply_stop", "captured_by": None, "captured_at": None,
        "expires_at": None})


def cancel_open_for_request(session: Session, request_id: uuid.UUID) -> None:
    """A request closed before anyone was told: its pending tasks are moot."""
    session.execute(sa.update(FollowUp).where(
        FollowUp.request_id == request_id, FollowUp.status == "pending")
        .values(status="cancelled", version=FollowUp.version + 1, updated_at=utcnow()))


def move_to_survivor(duplicate: Customer, *, into: Customer, session: Session,
                     **_: Any) -> None:
    """On `customer_merged`: the duplicate's follow-ups and the contacts made with it are
    the person's, so the contact policy counts them for the survivor."""
    for model in (FollowUp, Contact):
        session.execute(sa.update(model).where(model.customer_id == duplicate.id)
                        .values(customer_id=into.id)
                        .execution_options(synchronize_session=False))


def on_status_changed(request: CustomerRequest, *, session: Session, **_: Any) -> None:
    """On `request_status_changed`. Ready: the customer is told (a follow-up task).
    Closed: nobody needs telling."""
    if request.status == "ready":
        on_request_ready(session, request)
    elif request.status in lifecycle.CLOSED:
        cancel_open_for_request(session, request.id)


def lease(session: Session, actor: Actor, limit: int, lease_seconds: int) -> list[dict]:
    """`claim`, as the API does it: the channel system reads each task's customer's
    contact point, so each is logged (audit.access_log)."""
    items = claim(session, actor, limit, lease_seconds)
    access_log.changed(session, actor, "follow-up claimed",
                       (customer_of(session, item["id"]) for item in items), action="read")
    return items
