"""Stores, devices and associates."""

from __future__ import annotations

import uuid

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import signals
from server.core.actor import Actor
from server.core.errors import AlreadyExists, NotFound, Rejected
from server.core.vocabulary import valid_timezone
from server.stores.models import Associate, Device, Store


def _check_store_fields(code: str, country: str, timezone: str) -> None:
    errors = {}
    if not code or len(code) > 32:
        errors["code"] = ["1 to 32 characters."]
    if country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = ["An ISO 3166-1 alpha-2 country code, such as GB or FR."]
    if not valid_timezone(timezone):
        errors["timezone"] = ["An IANA time zone, such as Europe/London."]
    if errors:
        raise Rejected(errors=errors)


def create_store(session: Session, code: str, name: str, country: str, timezone: str,
                 region: str | None = None) -> Store:
    """A new store; `signals.store_created` tells the domains that give it a start."""
    country = country.upper()
    _check_store_fields(code, country, timezone)
    if session.scalar(sa.select(Store.id).where(Store.code == code)):
        raise AlreadyExists(f"Store {code!r} exists already.")
    store = Store(code=code, name=name, country=country, timezone=timezone, region=region)
    session.add(store)
    session.flush()
    signals.store_created.send(store, session=session)
    return store


def store_by_code(session: Session, code: str) -> Store:
    store = session.scalar(sa.select(Store).where(Store.code == code))
    if store is None:
        raise NotFound(f"No store {code!r}.")
    return store


def get_store(session: Session, store_id: uuid.UUID) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store.")
    return store


def visible_store(session: Session, actor: Actor, store_id: uuid.UUID) -> Store:
    """A store by id, if this key may see it; to a tablet, other stores do not exist."""
    if not actor.may_reach_store(store_id):
        raise NotFound("No such store.")
    return get_store(session, store_id)


def visible_stores(session: Session, actor: Actor) -> list[Store]:
    query = sa.select(Store).order_by(Store.code)
    if actor.is_tablet:
        query = query.where(Store.id == actor.store_id)
    return list(session.scalars(query))


def create_device(session: Session, store: Store, name: str) -> Device:
    device = Device(store_id=store.id, name=name)
    session.add(device)
    session.flush()
    return device


def create_associate(session: Session, store: Store, code: str, display_name: str) -> Associate:
    if not code or len(code) > 32:
        raise Rejected(errors={"code": ["1 to 32 characters."]})
    exists = sa.select(Associate.id).where(Associate.store_id == store.id, Associate.code == code)
    if session.scalar(exists):
        raise AlreadyExists(f"Associate {code!r} exists already in {store.code}.")
    associate = Associate(store_id=store.id, code=code, display_name=display_name)
    session.add(associate)
    session.flush()
    return associate
