"""Gathering what the contact policy needs to know about one customer."""

from __future__ import annotations

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.consent import service as consent
from server.consent.models import ConsentEvent
from server.contact import suppression
from server.contact.models import Contact
from server.contact.policy import ConsentFact, ContactFact, Context, RequestFact, Subject
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note
from server.stores.models import Store

TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _textable(phone: str | None) -> bool:
    if not phone:
        return False
    try:
        return phonenumbers.number_type(phonenumbers.parse(phone)) in TEXTABLE
    except phonenumbers.NumberParseException:
        return False


def _timezone(session: Session, customer: Customer) -> str:
    quiet = (customer.preferences or {}).get("quiet_hours")
    if quiet:
        return quiet["timezone"]
    store = session.get(Store, customer.home_store_id) if customer.home_store_id else None
    return store.timezone if store else "UTC"


def load(session: Session, customer: Customer, context: Context) -> Subject:
    lapsed = consent.lapsed_notices(session)
    events = session.scalars(sa.select(ConsentEvent).where(
        ConsentEvent.customer_id == customer.id))
    contacts = session.scalars(sa.select(Contact).where(Contact.customer_id == customer.id))
    suppressed = suppression.matching(session, {"email": customer.email,
                                                "phone": customer.phone})
    requests = {}
    if context.request_id:
        request = session.get(CustomerRequest, context.request_id)
        if request is not None:
            requests[request.id] = RequestFact(request.id, request.customer_id, request.status,
                                               tuple(request.notify_channels or ()))
    sensitive = frozenset()
    if context.based_on_notes:
        sensitive = frozenset(session.scalars(sa.select(Note.id).where(
            Note.id.in_(context.based_on_notes), Note.sensitive.is_(True))))
    by_channel = {"email": suppressed.get("email"), "sms": suppressed.get("phone"),
                  "phone": suppressed.get("phone")}
    return Subject(
        customer_id=customer.id, erased=customer.erased_at is not None,
        restricted=customer.restricted_at is not None,
        contact_points={"email": bool(customer.email), "sms": _textable(customer.phone),
                        "phone": bool(customer.phone), "post": bool(customer.postal_address),
                        "push": False},  # no app registrations yet: nothing to push to
        suppressions={c: entry.id for c, entry in by_channel.items() if entry is not None},
        consents=[ConsentFact(e.id, e.ordinal, e.purpose, e.channel, e.action, e.received_at,
                              e.captured_at, e.expires_at, e.notice_version_id in lapsed)
                  for e in events],
        preferences=customer.preferences or {}, timezone=_timezone(session, customer),
        contacts=[ContactFact(c.id, c.channel, c.purpose, c.topic, c.sent_at)
                  for c in contacts],
        requests=requests, sensitive_notes=sensitive)
