"""Demo data: a few stores, associates, customers and requests, made through the services."""

from __future__ import annotations

import random
from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from server.core.actor import Actor
from server.customer_requests import service as requests
from server.customers import service as customers
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
ASKS = [("back_in_stock", "BT-3801", "Chelsea boot, tan", "38", "tan"),
        ("special_order", "CT-2210", "Wool overcoat", "M", "navy"),
        ("hold", "DR-0912", "Linen dress", "10", "sage"),
        ("alteration", None, "Shorten trousers by 2 cm", "32", "charcoal"),
        ("call_back", None, "Call when the spring knitwear arrives", None, None),
        ("back_in_stock", "SN-4411", "Canvas trainers", "42", "white")]


def seed(session: Session, rng: random.Random | None = None) -> dict[str, Store]:
    """Create the demo stores with customers and requests (skip if already there)."""
    rng = rng or random.Random(7)
    existing = {s.code: s for s in session.scalars(sa.select(Store))}
    if existing:
        return existing
    made = {code: stores.create_store(session, code, name, country, tz, region)
            for code, name, country, tz, region in STORES}
    for n, store in enumerate(made.values()):
        stores.create_associate(session, store, f"A-{101 + n}", f"Associate {101 + n}")
        _seed_store(session, store, rng, n)
    return made


def _seed_store(session: Session, store: Store, rng: random.Random, n: int) -> None:
    actor = Actor(scope="tablet", store_id=store.id, label="demo")
    for i, (given, family) in enumerate(PEOPLE[n * 2: n * 2 + 3]):
        customer = customers.create(session, actor, {
            "given_name": given, "family_name": family,
            "email": f"{given}.{family}@example.com".lower().replace("ë", "e").replace("é", "e")
                                                           .replace("è", "e"),
            "phone": PHONES[store.country].format(n * 10 + i),
            "preferences": {"sizes": ["M"], "preferred_channels": ["sms", "email"]},
            "captured_by": f"A-{101 + n}"})
        for kind, sku, description, size, colour in rng.sample(ASKS, 2):
            requests.create(session, actor, {
                "customer_id": customer.id, "type": kind, "sku": sku,
                "description": description, "size": size, "colour": colour,
                "due_date": date.today() + timedelta(days=rng.randint(-5, 20)),
                "notify_channels": ["sms"], "captured_by": f"A-{101 + n}"})
        notes.create(session, actor, {"customer_id": customer.id,
                                      "body": "Prefers a call after 5pm.",
                                      "captured_by": f"A-{101 + n}"})


def demo_tablet_key(session: Session, store: Store) -> str:
    device = stores.create_device(session, store, "Demo counter tablet")
    _, token = keys.issue(session, "tablet", "demo tablet", store, device)
    return token


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

