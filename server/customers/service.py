"""The rules for customers: normalised contact points, scoped lookups, versioned edits."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import scope
from server.changelog import service as changelog
from server.core import lookups, paging, versioning
from server.core.actor import Actor
from server.core.errors import AlreadyExists, Forbidden, Gone, NotFound, Rejected
from server.core.versioning import check_version
from server.customers import normalise, standing
from server.customers.models import Customer
from server.stores.models import Store

LOOKUP_KEYS = ("email", "phone", "phone_suffix", "name")


def _region(session: Session, actor: Actor, home_store_id: uuid.UUID | None) -> str | None:
    store_id = actor.store_id or home_store_id
    store = lookups.get(session, Store, store_id) if store_id else None
    return store.country if store else None


def _cut(key: str, column: Any) -> str:
    """A search key cut to its column: folding can lengthen a name ("ß" → "ss")."""
    return key[:column.type.length]


def _apply(customer: Customer, data: dict[str, Any], region: str | None) -> None:
    for key in ("email", "phone"):
        if key in data and not data[key]:
            data[key] = None  # "" clears a contact point, as null does; never stored as ""
    if data.get("email"):
        data["email"] = normalise.email(data["email"])
    if data.get("phone"):
        data["phone"] = normalise.phone(data["phone"], region)
    versioning.assign(customer, data)
    customer.name_key = _cut(normalise.name_key(customer.given_name, customer.family_name),
                             Customer.name_key)
    customer.family_key = _cut(normalise.fold(customer.family_name), Customer.family_key) \
        if customer.family_name else None
    customer.phone_reversed = normalise.digits_reversed(customer.phone)


def create(session: Session, actor: Actor, data: dict[str, Any]) -> Customer:
    """Create a customer; the id may come from the tablet that captured it."""
    data = dict(data)
    customer_id = data.pop("id", None) or uuid.uuid4()
    if lookups.get(session, Customer, customer_id) is not None:
        raise AlreadyExists("A customer with this id exists already.", id=str(customer_id))
    home = data.pop("home_store_id", None)
    if actor.is_tablet:
        home = actor.store_id
    elif home is not None and session.get(Store, home) is None:
        raise Rejected(errors={"home_store_id": ["No such store."]})
    customer = Customer(id=customer_id, home_store_id=home, preferences={})
    _apply(customer, data, _region(session, actor, home))
    lookups.add(session, customer)
    changelog.record(session, "customer", customer, new=True)
    if actor.is_tablet:
        scope.enter(session, actor.store_id, customer, new=True)
    return customer


def hold(session: Session, actor: Actor, customer_ids: list[uuid.UUID]) -> int:
    """Keep these customers on this store's tablets (after a lookup at the counter)."""
    lookups.prefetch(session, Customer, customer_ids)
    missing = [str(i) for i in customer_ids if lookups.get(session, Customer, i) is None]
    if missing:
        raise Rejected(errors={"customer_ids": [f"No such customer: {', '.join(missing)}."]})
    for customer_id in customer_ids:
        customer = standing.surviving(session, lookups.get(session, Customer, customer_id))
        scope.enter(session, actor.store_id, customer)
    return len(customer_ids)


def get(session: Session, actor: Actor, customer_id: uuid.UUID) -> Customer:
    """Any key that may read customers finds one by id: a customer belongs to no one store."""
    customer = lookups.get(session, Customer, customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


class CustomerErased(Gone):
    code, title = "customer_erased", "This customer was erased"


class CustomerMerged(Gone):
    code, title = "customer_merged", "This customer was merged into another record"


def require_live(customer: Customer) -> Customer:
    """An erased customer takes nothing new: no edit, request, note or grant (410). Nor
    does a record merged into another (410 naming it): its captures go to that one
    (customers.standing), an edit of it is refused."""
    if customer.erased_at is not None:
        raise CustomerErased("This customer's data was erased at their request; nothing "
                             "more is recorded about them.")
    if customer.merged_into_id is not None:
        raise CustomerMerged(f"This record was merged into {customer.merged_into_id}, another "
                             "record of the same person; edit that one.",
                             merged_into=str(customer.merged_into_id))
    return customer


def update(session: Session, actor: Actor, customer_id: uuid.UUID, changes: dict[str, Any],
           expected_version: int | None = None) -> Customer:
    customer = require_live(get(session, actor, customer_id))
    check_version(customer, expected_version)
    if not changes:
        return customer
    _apply(customer, dict(changes), _region(session, actor, customer.home_store_id))
    session.flush()
    changelog.record(session, "customer", customer)
    return customer


def _criterion(session: Session, actor: Actor, key: str, value: str) -> sa.ColumnElement:
    if key == "email":
        return Customer.email == normalise.email(value)
    if key == "phone":
        return Customer.phone == normalise.phone(value, _region(session, actor, None))
    if key == "phone_suffix":
        return Customer.phone_reversed.startswith(value[::-1], autoescape=True)
    folded = normalise.fold(value)
    if not folded:  # only accents: it would match every name, and list every customer
        raise Rejected(errors={"query": {"name": ["Give a letter or digit of the name."]}})
    return sa.or_(
        Customer.name_key.startswith(_cut(folded, Customer.name_key), autoescape=True),
        Customer.family_key.startswith(_cut(folded, Customer.family_key), autoescape=True))


def lookup(session: Session, actor: Actor, criteria: dict[str, str], limit: int,
           after: str | None) -> tuple[list[Customer], str | None]:
    """Find customers by exact email, phone in any format, last digits, or name prefix.

    Tablets must say what they look for: a store device never lists every customer.
    """
    given = {k: v for k, v in criteria.items() if k in LOOKUP_KEYS and v}
    if actor.is_tablet and not given:
        raise Forbidden("A tablet looks customers up by email, phone, phone_suffix or name.")
    query = sa.select(Customer)
    for key, value in given.items():
        query = query.where(_criterion(session, actor, key, value))
    last = paging.decode(after, (str, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(Customer.name_key, Customer.id) > tuple(last))
    rows = list(session.scalars(query.order_by(Customer.name_key, Customer.id).limit(limit + 1)))
    return paging.page(rows, limit, lambda c: [c.name_key, str(c.id)])


# The API's ways in: the same rules, each read or change logged (audit.access_log).
look_up = access_log.logs_read("search", "customer lookup",
                              lambda page, *_: (customer.id for customer in page[0]))(lookup)
show = access_log.logs_read("read", "customer", lambda customer, *_: [customer.id])(get)
add = access_log.logs_change("customer", lambda customer, *_: [customer.id])(create)
amend = access_log.logs_change("customer", lambda customer, *_: [customer.id])(update)
