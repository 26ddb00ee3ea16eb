"""The customer's own page: a signed, expiring link to what is held about them.

The link is made at the counter (or sent on a channel they allowed) and carries the
customer's id signed with the server's key; it expires after `LINK_DAYS`. Whoever holds
it sees that customer's page and can withdraw any consent with one click, as easily
as it was given, and download their export. Nothing else can be done with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from server.audit import access_log
from server.consent import service as consent
from server.core.actor import Actor
from server.core.errors import Gone, NotFound
from server.core.types import utcnow
from server.customers.models import Customer
from server.privacy import export

LINK_DAYS = 14
SALT = "blackbook customer page"
CUSTOMER = Actor("customer", label="the customer, by their own link")


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def make_token(secret: str, session: Session, customer_id: uuid.UUID) -> tuple[str, datetime]:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound("No such customer.")
    return _signer(secret).dumps(str(customer.id)), utcnow() + timedelta(days=LINK_DAYS)


def customer_of(secret: str, session: Session, token: str) -> Customer:
    """The customer a link is for; an expired, forged or erased one is refused."""
    try:
        customer_id = uuid.UUID(_signer(secret).loads(token, max_age=LINK_DAYS * 86400))
    except SignatureExpired:
        raise Gone("This link has expired: ask in store, or in a message from us, for a "
                   "new one.") from None
    except (BadSignature, ValueError, TypeError):
        raise NotFound("This link is not valid.") from None
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound("Nothing is held about you any more.")
    return customer


def page(session: Session, customer: Customer) -> dict[str, Any]:
    """What the page shows, in plain words."""
    summary = consent.summary(session, CUSTOMER, customer.id)
    access_log.read(session, CUSTOMER, "read", "own page", [customer.id])
    return {"customer": customer, "state": summary["state"], "sharing": summary["sharing"],
            "events": summary["events"]}


def withdraw(session: Session, customer: Customer, purpose: str, channel: str) -> None:
    """One click: the customer withdraws this purpose on this channel (or everywhere)."""
    consent.append(session, CUSTOMER, {
        "customer_id": customer.id, "purpose": purpose, "channel": channel,
        "action": "withdraw", "notice_version_id": None, "method": "signed_link",
        "captured_by": None, "captured_at": None, "expires_at": None})
    access_log.changed(session, CUSTOMER, "consent", [customer.id])


def withdrawable(state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [slot for slot in state if slot["live"] and slot["status"] == "grant"]


def page_link(secret: str, session: Session, actor: Actor,
              customer_id: uuid.UUID) -> tuple[str, datetime]:
    """`make_token`, as the API hands it out: logged as an export of the customer's data
    by that key (the link opens everything held)."""
    token, expires_at = make_token(secret, session, customer_id)
    access_log.changed(session, actor, "own page link", [customer_id], action="export")
    return token, expires_at


def own_export(session: Session, customer: Customer) -> dict:
    """Everything held, downloaded by the customer from their own page; logged."""
    data = export.export(session, CUSTOMER, customer.id)
    access_log.read(session, CUSTOMER, "export", "own export", [customer.id])
    return data
