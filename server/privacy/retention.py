"""Retention: personal data is kept only as long as it serves the customer.

Four rules, each applied in batches and idempotently (a rule selects only what it has
not yet done, so running it twice changes nothing the second time):

- a closed request loses its free text `months_closed_requests` after it closed (the
  product, size, colour and outcome stay for demand statistics);
- a note is deleted `months_notes` after it was written;
- a customer with no interaction for `months_inactive_customers` (no edit, request,
  note, consent answer or contact) is erased, as on their own request;
- an open request past its due date by `days_stale` days, or with no due date and
  untouched for as long, expires (`past_due` / `retention`).

Everything goes through the services, so tablets and the CRM get the tombstones and
new versions as for any change. The periods are configured in server.config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import config
from server.changelog import service as changelog
from server.consent.models import ConsentEvent
from server.contact.models import Contact
from server.core import versioning
from server.core.actor import Actor
from server.core.types import utcnow
from server.customer_requests import lifecycle
from server.customer_requests import service as customer_requests
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note
from server.privacy import erasure

SYSTEM = Actor("admin", label="retention")
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Rules:
    months_closed_requests: int = 24
    months_notes: int = 24
    months_inactive_customers: int = 36
    days_stale: int = 30

    @classmethod
    def from_environment(cls) -> Rules:
        """As configured (server.config.retention)."""
        return cls(**config.retention())


@dataclass
class Applied:
    done: dict[str, int] = field(default_factory=dict)

    def add(self, rule: str, count: int) -> None:
        self.done[rule] = self.done.get(rule, 0) + count


def _months(n: int) -> timedelta:
    return timedelta(days=n * DAYS_PER_MONTH)


def _batches(session: Session, query: sa.Select, size: int) -> Iterator[list]:
    """Ids from `query`, a batch at a time; each batch is committed before the next is
    read, so a rule's own predicate drops what it has done (and a re-run resumes)."""
    while True:
        ids = list(session.scalars(query.limit(size)))
        if not ids:
            return
        yield ids
        session.commit()


def closed_requests(rules: Rules, now: datetime) -> sa.Select:
    return sa.select(CustomerRequest.id).where(
        CustomerRequest.status.in_(lifecycle.CLOSED),
        CustomerRequest.closed_at < now - _months(rules.months_closed_requests),
        CustomerRequest.description.is_not(None)).order_by(CustomerRequest.id)


def old_notes(rules: Rules, now: datetime) -> sa.Select:
    return sa.select(Note.id).where(
        Note.created_at < now - _months(rules.months_notes)).order_by(Note.id)


def stale_requests(rules: Rules, now: datetime) -> sa.Select:
    cutoff = now - timedelta(days=rules.days_stale)
    return sa.select(CustomerRequest.id).where(
        CustomerRequest.status.not_in(lifecycle.CLOSED),
        sa.or_(CustomerRequest.due_date < cutoff.date(),
               sa.and_(CustomerRequest.due_date.is_(None),
                       CustomerRequest.updated_at < cutoff))).order_by(CustomerRequest.id)


def inactive_customers(rules: Rules, now: datetime) -> sa.Select:
    cutoff = now - _months(rules.months_inactive_customers)

    def recent(model, moment) -> sa.Exists:
        return sa.exists().where(model.customer_id == Customer.id, moment >= cutoff)

    return sa.select(Customer.id).where(
        Customer.erased_at.is_(None), Customer.updated_at < cutoff,
        ~recent(CustomerRequest, CustomerRequest.updated_at),
        ~recent(Note, Note.updated_at),
        ~recent(ConsentEvent, ConsentEvent.received_at),
        ~recent(Contact, Contact.sent_at)).order_by(Customer.id)


def _anonymise_request(session: Session, request_id) -> None:
    record = session.get(CustomerRequest, request_id)
    versioning.assign(record, {"description": None})
    erasure.forget_copies_of_requests(session, [record.id])
    session.flush()
    changelog.record(session, "request", record)


def _delete_note(session: Session, note_id) -> None:
    note = session.get(Note, note_id)
    changelog.record(session, "note", note, op="delete", reason="retention")
    session.delete(note)


def _expire(session: Session, request_id) -> None:
    record = session.get(CustomerRequest, request_id)
    reason = "past_due" if record.due_date is not None else "retention"
    customer_requests.transition(session, SYSTEM, record.id, "expired", reason, "retention")


def _erase(session: Session, customer_id) -> None:
    erasure.erase(session, SYSTEM, customer_id)


# Erasure first: it takes the customer's notes and requests' text with it, and the
# other rules' own changes would otherwise count as fresh interaction.
RULES: tuple[tuple[str, Callable, Callable], ...] = (
    ("inactive customers erased", inactive_customers, _erase),
    ("requests expired", stale_requests, _expire),
    ("closed requests anonymised", closed_requests, _anonymise_request),
    ("notes deleted", old_notes, _delete_note),
)


def pending(session: Session, rules: Rules, now: datetime | None = None) -> dict[str, int]:
    """How much each rule would do now."""
    now = now or utcnow()
    return {name: session.scalar(sa.select(sa.func.count()).select_from(
        select(rules, now).subquery())) for name, select, _ in RULES}


def apply(session: Session, rules: Rules, now: datetime | None = None, batch: int = 500,
          progress: Callable[[str, int], None] = lambda rule, count: None) -> Applied:
    """Apply every rule, batch by batch (each batch one transaction)."""
    now = now or utcnow()
    applied = Applied()
    for name, select, act in RULES:
        for ids in _batches(session, select(rules, now), batch):
            for record_id in ids:
                act(session, record_id)
            applied.add(name, len(ids))
            progress(name, len(ids))
        applied.done.setdefault(name, 0)
    session.commit()
    return applied
