"""The suppression list: contact points never to be used again, kept as digests."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.contact.models import Suppression


def digest(kind: str, normalised: str) -> str:
    return hashlib.sha256(f"{kind}:{normalised}".encode()).hexdigest()


def add(session: Session, kind: str, normalised: str, reason: str) -> Suppression:
    """Suppress a contact point (idempotent: the first reason is kept)."""
    key = digest(kind, normalised)
    entry = session.scalar(sa.select(Suppression).where(Suppression.digest == key))
    if entry is None:
        entry = Suppression(digest=key, kind=kind, reason=reason)
        session.add(entry)
        session.flush()
    return entry


def matching(session: Session, points: dict[str, str | None]) -> dict[str, Suppression]:
    """The entries for these contact points ({"email": …, "phone": …}), by kind."""
    wanted = {digest(kind, value): kind for kind, value in points.items() if value}
    if not wanted:
        return {}
    rows = session.scalars(sa.select(Suppression).where(Suppression.digest.in_(wanted)))
    return {wanted[row.digest]: row for row in rows}
