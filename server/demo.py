"""Demo data: a few stores, associates, customers and requests, made through the services."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from server.consent import service as consent
from server.core.actor import Actor
from server.core.errors import NotFound
from server.customer_requests import service as customer_requests
from server.customers import service as customers
from server.dashboard import users
from server.extensions import db
from server.notes import service as notes
from server.stores import keys
from server.stores import service as stores
from server.stores.models import Device, Store

STORES = [
    ("LDN-01", "London Covent Garden", "GB", "Europe/London", "UK South"),
    ("MAN-01", "Manchester Arndale", "GB", "Europe/London", "UK North"),
    ("PAR-01", "Paris Marais", "FR", "Europe/Paris", "France"),
]
PEOPLE = [("Amelia", "Hughes"), ("Oliver", "Patel"), ("Zoë", "Martin"), ("Noah", "Clarke"),
          ("Chloé", "Dubois"), ("Isla", "Wright"), ("Hugo", "Lefèvre"), ("Maya", "Singh")]
PHONES = {"GB": "07911 123{:03d}", "FR": "06 12 34 5{:03d}"}
ASKS = [("back_in_stock", "BT-3801", "Chelsea boot, tan", "38", "tan", "shoes"),
        ("special_order", "CT-2210", "Wool overcoat", "M", "navy", "coats"),
        ("hold", "DR-0912", "Linen dress", "10", "sage", "dresses"),
        ("alteration", None, "Shorten trousers by 2 cm", "32", "charcoal", "trousers"),
        ("call_back", None, "Call when the spring knitwear arrives", None, None, "knitwear"),
        ("back_in_stock", "SN-4411", "Canvas trainers", "42", "white", "shoes")]


def seed(session: Session, rng: random.Random | None = None) -> dict[str, Store]:
    """Create the demo stores with customers and requests (skip if already there)."""
    rng = rng or random.Random(7)
    existing = {s.code: s for s in session.scalars(sa.select(Store))}
    if existing:
        return existing
    made = {code: stores.create_store(session, code, name, country, tz, region)
            for code, name, country, tz, region in STORES}
    offers = _publish_notices(session)
    for n, store in enumerate(made.values()):
        stores.create_associate(session, store, f"A-{101 + n}", f"Associate {101 + n}")
        _seed_store(session, store, rng, n, offers)
    return made


NOTICES = [
    ("offers", "en", "Offers from your store",
     "We would like to text or email you about offers and new arrivals in the stores you "
     "visit. You can stop at any time: reply STOP, use the link in any email, or ask in store.",
     "Giving your number or email gets you first pick of new stock and early access to sales.",
     ["marketing.local_offers", "marketing.newsletter"], ["email", "sms"]),
    ("offers", "fr", "Les offres de votre magasin",
     "Nous aimerions vous écrire (SMS ou e-mail) au sujet des offres et des nouveautés. Vous "
     "pouvez arrêter à tout moment : répondez STOP ou utilisez le lien de chaque e-mail.",
     "Votre numéro ou e-mail vous donne accès aux nouveautés et aux soldes en avant-première.",
     ["marketing.local_offers", "marketing.newsletter"], ["email", "sms"]),
]


def _publish_notices(session: Session):
    admin = Actor(scope="admin", label="demo")
    published = [consent.publish_notice(session, admin, {
        "key": key, "language": language, "title": title, "text": text,
        "value_exchange": value, "purposes": purposes, "channels": channels,
        "requires_reconsent": False})
        for key, language, title, text, value, purposes, channels in NOTICES]
    return {notice.language: notice for notice in published}


def _seed_store(session: Session, store: Store, rng: random.Random, n: int, offers) -> None:
    actor = Actor(scope="tablet", store_id=store.id, label="demo")
    for i, (given, family) in enumerate(PEOPLE[n * 2: n * 2 + 3]):
        customer = customers.create(session, actor, {
            "given_name": given, "family_name": family,
            "email": f"{given}.{family}@example.com".lower().replace("ë", "e").replace("é", "e")
                                                           .replace("è", "e"),
            "phone": PHONES[store.country].format(n * 10 + i),
            "preferences": {"sizes": ["M"], "preferred_channels": ["sms", "email"]},
            "captured_by": f"A-{101 + n}"})
        for kind, sku, description, size, colour, category in rng.sample(ASKS, 2):
            customer_requests.create(session, actor, {
                "customer_id": customer.id, "type": kind, "sku": sku,
                "description": description, "size": size, "colour": colour,
                "category": category,
                "due_date": date.today() + timedelta(days=rng.randint(-5, 20)),
                "notify_channels": ["sms"], "captured_by": f"A-{101 + n}"})
        notes.create(session, actor, {"customer_id": customer.id,
                                      "body": "Prefers a call after 5pm.",
                                      "captured_by": f"A-{101 + n}"})
        if i == 0:  # one customer per store said yes to offers by text
            notice = offers["fr" if store.country == "FR" else "en"]
            consent.append(session, actor, {
                "customer_id": customer.id, "purpose": "marketing.local_offers",
                "channel": "sms", "action": "grant", "notice_version_id": notice.id,
                "method": "customer_on_tablet", "captured_by": f"A-{101 + n}",
                "captured_at": None, "expires_at": None})


def demo_tablet_key(session: Session, store: Store) -> str:
    device = stores.create_device(session, store, "Demo counter tablet")
    _, token = keys.issue(session, "tablet", "demo tablet", store, device)
    return token


DEMO_USER = "demo@blackbook.local"


def demo_dashboard_login(session: Session) -> tuple[str, str]:
    """A head-office admin for the demo, with a new password each start (shown once;
    the previous one, and its sessions, stop working)."""
    password = secrets.token_urlsafe(12)
    try:
        users.set_password(session, users.by_email(session, DEMO_USER), password)
    except NotFound:
        users.create(session, DEMO_USER, "Demo Admin", "admin", password)
    return DEMO_USER, password


def device_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Device))


demo_cli = click.Group("demo", help="Demo data.")


@demo_cli.command("seed")
@with_appcontext
def seed_command():
    """Seed demo stores, customers and requests; print a new demo tablet key last."""
    made = seed(db.session)
    token = demo_tablet_key(db.session, made["LDN-01"])
    db.session.commit()
    click.echo(f"demo data ready in {len(made)} stores; tablet key for LDN-01:")
    click.echo(token)

