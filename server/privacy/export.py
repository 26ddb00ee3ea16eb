"""The access export: everything held about a customer, section by section.

Driven by the data map (`datamap.HELD`): each table with rows about the customer is
read whole, less internal columns; then what the rows point at is spelled out — the
text of every notice the customer was shown, the consent state and sharing tier
derived from their events, the stores whose tablets hold them, and the systems
their data went to (webhook deliveries about their records).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog.models import StoreCustomer
from server.consent import purposes
from server.consent import service as consent
from server.consent.models import Notice
from server.core.actor import Actor
from server.core.errors import NotFound
from server.core.types import utcnow
from server.core.uuid_text import list_holds
from server.customer_requests.models import opening_step
from server.customers.models import Customer
from server.extensions import db
from server.privacy.datamap import HELD
from server.stores.models import Store
from server.webhooks.models import WebhookDelivery, WebhookSubscription


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _rows(session: Session, customer_id: uuid.UUID, request_ids: list) -> dict[str, list]:
    sections = {}
    for held in HELD:
        table = db.metadata.tables[held.table]
        if held.owner == "request_id":
            where = table.c.request_id.in_(request_ids) if request_ids else sa.false()
        else:
            where = table.c[held.owner] == customer_id
        shown = [c for c in table.c if c.name not in held.hidden]
        if held.among:
            where = sa.or_(where, list_holds(session, table.c[held.among], customer_id))
            # The row as it concerns this customer: never the others it names.
            shown = [sa.literal(customer_id, sa.Uuid).label(held.owner) if c.name == held.owner
                     else c for c in shown if c.name != held.among]
        order = [c for c in ("ordinal", "created_at", "changed_at", "sent_at", "at")
                 if c in table.c]
        query = sa.select(*shown).where(where).order_by(*(table.c[c] for c in order))
        sections[held.section] = [{k: _plain(v) for k, v in row.items()}
                                  for row in session.execute(query).mappings()]
    return sections


def export(session: Session, actor: Actor, customer_id: uuid.UUID) -> dict[str, Any]:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    request_ids = [r["id"] for r in _rows(session, customer.id, [])["requests"]]
    sections = _rows(session, customer.id, [uuid.UUID(i) for i in request_ids])
    sections["request_history"] = _with_openings(sections)
    summary = consent.summary(session, actor, customer.id)
    shown = {e["notice_version_id"] for e in sections["consent_events"]} - {None}
    notices = session.scalars(sa.select(Notice).where(
        Notice.id.in_([uuid.UUID(i) for i in shown]))) if shown else []
    sections["notices_shown"] = [
        {"id": str(n.id), "key": n.key, "language": n.language, "version": n.number,
         "title": n.title, "text": n.text, "value_exchange": n.value_exchange,
         "purposes": n.purposes, "channels": n.channels} for n in notices]
    sections["consent_state"] = _plain(summary["state"])
    sections["sharing"] = summary["sharing"]
    stores = session.execute(sa.select(Store.code, Store.name, StoreCustomer.since)
                             .join(StoreCustomer, StoreCustomer.store_id == Store.id)
                             .where(StoreCustomer.customer_id == customer.id))
    sections["stores"] = [{"code": c, "name": n, "since": _plain(s)} for c, n, s in stores]
    sections["shared_with"] = _shared_with(session, customer.id, request_ids, sections)
    return {"customer_id": str(customer.id), "generated_at": utcnow().isoformat(),
            "erased": customer.erased_at is not None,
            "purposes": dict(purposes.PURPOSES),
            "sections": sections, "merged_records": _merged_into(session, customer.id)}


def _with_openings(sections: dict[str, list]) -> list[dict[str, Any]]:
    """The requests' histories whole: each request's opening step is read from the
    request (customer_requests.models.opening_step), not stored as a step of its own."""
    openings = [_opening(request) for request in sections["requests"]]
    # Stable: a request's opening stays before any step at the same instant.
    return sorted(openings + sections["request_history"], key=lambda s: s["changed_at"])


def _opening(request: dict[str, Any]) -> dict[str, Any]:
    """A request's opening step as a row of the history section (the export's request
    rows leave the key out, as its history rows do)."""
    step = opening_step(SimpleNamespace(**request, key_id=None))
    return {"id": None, "request_id": request["id"]} | {
        name: getattr(step, name) for name in ("from_status", "to_status", "reason",
                                               "changed_by", "changed_at")}


def _merged_into(session: Session, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    """What is still held under records of this person merged into this one
    (customers.merge): their consent events, the access log, as their own sections."""
    shells = session.execute(sa.select(Customer.id, Customer.merged_at).where(
        Customer.merged_into_id == customer_id).order_by(Customer.merged_at))
    return [{"id": str(shell_id), "merged_at": _plain(merged_at),
             "sections": {name: rows for name, rows in _rows(session, shell_id, []).items()
                          if rows}}
            for shell_id, merged_at in shells]


def _shared_with(session, customer_id, request_ids, sections) -> list[dict[str, Any]]:
    """Deliveries to webhook receivers about the customer's records (ids, never data)."""
    ids = {str(customer_id), *request_ids, *(n["id"] for n in sections["notes"]),
           *(e["id"] for e in sections["consent_events"])}
    text = sa.cast(WebhookDelivery.payload, sa.Text)
    query = (sa.select(WebhookDelivery.event, WebhookDelivery.payload,
                       WebhookDelivery.status, WebhookDelivery.delivered_at,
                       WebhookSubscription.url)
             .join(WebhookSubscription,
                   WebhookSubscription.id == WebhookDelivery.subscription_id)
             .where(sa.or_(*(text.contains(i) for i in ids)))
             .order_by(WebhookDelivery.created_at))
    found = []
    for event, payload, status, delivered_at, url in session.execute(query):
        if (payload or {}).get("id") in ids:  # the id itself, not a mention
            found.append({"system": f"webhook {url}", "event": event,
                          "record_id": payload["id"], "status": status,
                          "delivered_at": _plain(delivered_at)})
    return found


# The API's way in: the export, logged as one (audit.access_log).
hand_over = access_log.logs_read("export", "access export",
                                 lambda _, customer_id, *__: [customer_id])(export)
