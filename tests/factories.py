"""Building blocks for tests, made through the services like real data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.consent import service as consent
from server.core.actor import Actor
from server.core.vocabulary import CHANNELS
from server.customer_requests import service as requests
from server.customers import service as customers
from server.notes import service as notes
from server.stores import keys
from server.stores import service as stores
from server.stores.models import Store

_numbers = itertools.count(100)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tablet:
    store: Store
    token: str
    actor: Actor

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class World:
    store_a: Store
    store_b: Store
    tablet_a: Tablet
    tablet_b: Tablet
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, session: Session) -> World:
        store_a = stores.create_store(session, "A-01", "Store A", "GB", "Europe/London", "North")
        store_b = stores.create_store(session, "B-01", "Store B", "FR", "Europe/Paris", "South")
        world = cls(store_a, store_b, make_tablet(session, store_a), make_tablet(session, store_b))
        for scope in ("crm", "channel", "admin"):
            channel = "sms" if scope == "channel" else None
            world.tokens[scope] = keys.issue(session, scope, f"{scope} key",
                                             channel=channel)[1]
        world.tokens["tablet"] = world.tablet_a.token
        session.commit()
        return world

    def headers(self, scope: str) -> dict[str, str]:
        return bearer(self.tokens[scope])


def make_tablet(session: Session, store: Store) -> Tablet:
    device = stores.create_device(session, store, f"tablet {next(_numbers)}")
    key, token = keys.issue(session, "tablet", "test tablet", store, device)
    return Tablet(store, token, keys.authenticate(session, token))


def make_customer(session: Session, actor: Actor, **fields):
    n = next(_numbers)
    data = {"given_name": "Ada", "family_name": f"Lovelace{n}",
            "email": f"ada{n}@example.com"} | fields
    customer = customers.create(session, actor, data)
    session.commit()
    return customer


def make_request(session: Session, actor: Actor, customer, **fields):
    data = {"customer_id": customer.id, "type": "back_in_stock", "sku": "BT-38",
            "description": "Chelsea boot", "size": "38", "colour": "tan"} | fields
    record = requests.create(session, actor, data)
    session.commit()
    return record


def make_note(session: Session, actor: Actor, customer, body="Prefers a call after 5pm", **f):
    note = notes.create(session, actor, {"customer_id": customer.id, "body": body} | f)
    session.commit()
    return note


ADMIN = Actor("admin", label="tests")


def make_notice(session: Session, purposes=("marketing",), channels=CHANNELS, **fields):
    data = {"key": "marketing", "language": "en", "title": "Offers for you",
            "text": "We would like to send you offers.",
            "value_exchange": "Giving your email gets you early access to sales.",
            "purposes": list(purposes), "channels": list(channels),
            "requires_reconsent": False} | fields
    notice = consent.publish_notice(session, ADMIN, data)
    session.commit()
    return notice


def consent_event(customer_id, purpose="marketing", channel="email", action="grant",
                  notice=None, **fields) -> dict:
    """What `consent.append` takes, as the schema would load it."""
    return {"customer_id": customer_id, "purpose": purpose, "channel": channel,
            "action": action, "notice_version_id": notice.id if notice else None,
            "method": "associate_entry", "captured_by": None, "captured_at": None,
            "expires_at": None} | fields


def record_consent(session: Session, actor: Actor, customer, purpose="marketing",
                   channel="email", action="grant", notice=None, **fields):
    event = consent.append(session, actor,
                           consent_event(customer.id, purpose, channel, action, notice, **fields))
    session.commit()
    return event
