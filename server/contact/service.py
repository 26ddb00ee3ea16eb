"""Asking the contact policy about a stored customer."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.audit import access_log
from server.contact import policy, subject
from server.contact.policy import Context, Decision
from server.core.actor import Actor
from server.core.types import utcnow
from server.customers import service as customers


def context_of(args: dict[str, Any]) -> Context:
    return Context(request_id=args.get("request_id"), topic=args.get("topic"),
                   based_on_notes=tuple(args.get("based_on_notes") or ()))


def decision(session: Session, actor: Actor, customer_id: uuid.UUID, purpose: str,
             channel: str, context: Context, now: datetime | None = None) -> Decision:
    customer = customers.get(session, actor, customer_id)
    return policy.decide(subject.load(session, customer, context), purpose, channel,
                         now or utcnow(), context)


def options(session: Session, actor: Actor, customer_id: uuid.UUID, purpose: str,
            context: Context, now: datetime | None = None) -> dict[str, Any]:
    customer = customers.get(session, actor, customer_id)
    ranked = policy.options(subject.load(session, customer, context), purpose,
                            now or utcnow(), context)
    best = next((d.channel for d in ranked if d.allowed), None)
    return {"purpose": purpose, "best": best, "channels": ranked}


def reasons_json(decision_: Decision) -> list[dict[str, Any]]:
    """The reasons as stored with a follow-up (JSON: times as RFC 3339 strings)."""
    found = []
    for reason in decision_.reasons:
        item = asdict(reason) | {"channel": decision_.channel}
        item["until"] = reason.until.isoformat() if reason.until else None
        found.append(item)
    return found


# The API's ways in: the same rules, each read or change logged (audit.access_log).
decide = access_log.logs_read("read", "contact decision",
                             lambda _, customer_id, *__: [customer_id])(decision)
show_options = access_log.logs_read("read", "contact options",
                                   lambda _, customer_id, *__: [customer_id])(options)
