"""Issuing, checking and revoking API keys.

Keys are 256-bit random secrets, so a fast SHA-256 digest is enough to make a
stolen table useless; a slow password hash (argon2) would protect nothing more
and cost tens of milliseconds on every API call. The clear key exists only in
the creator's output.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.actor import Actor
from server.core.errors import NotFound, Rejected, Unauthorized
from server.core.types import utcnow
from server.core.vocabulary import CHANNELS
from server.stores.models import SCOPES, ApiKey, Device, Store

TOKEN_PREFIX = "bb"  # noqa: S105 (a marker, not a secret)
MAX_TOKEN_LENGTH = 200


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, scope: str, label: str, store: Store | None = None,
          device: Device | None = None, channel: str | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the clear token, which is never stored."""
    if scope not in SCOPES:
        raise Rejected(errors={"scope": [f"Must be one of: {', '.join(SCOPES)}."]})
    if scope == "tablet" and (store is None or device is None):
        raise Rejected(errors={"store": ["A tablet key is bound to a store and a device."]})
    if (scope == "channel") != (channel in CHANNELS):
        raise Rejected(errors={"channel": [
            f"A channel key names its channel ({', '.join(CHANNELS)}); other keys do not."]})
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(prefix=prefix, digest=digest(token), scope=scope, label=label,
                 store_id=store.id if store else None, device_id=device.id if device else None,
                 channel=channel)
    session.add(key)
    session.flush()
    return key, token


# Built once: every API request asks it first.
_BY_DIGEST = (sa.select(ApiKey.scope, ApiKey.id, ApiKey.store_id, ApiKey.device_id, ApiKey.label,
                        ApiKey.channel, ApiKey.revoked_at)
              .where(ApiKey.digest == sa.bindparam("digest")))


def authenticate(session: Session, token: str) -> Actor:
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX + "_"):
        raise Unauthorized("The API key is missing or not a Blackbook key.")
    # The columns only, not an ApiKey object: every API request asks this first.
    key = session.connection().execute(_BY_DIGEST, {"digest": digest(token)}).first()
    if key is None:
        raise Unauthorized("The API key is not known.")
    if key.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.")
    return Actor(scope=key.scope, key_id=key.id, store_id=key.store_id,
                 device_id=key.device_id, label=key.label, channel=key.channel)


def find(session: Session, prefix_or_id: str) -> ApiKey:
    clause = ApiKey.prefix == prefix_or_id
    with contextlib.suppress(ValueError):  # not a UUID: match on the prefix alone
        clause = sa.or_(clause, ApiKey.id == uuid.UUID(prefix_or_id))
    key = session.scalar(sa.select(ApiKey).where(clause))
    if key is None:
        raise NotFound(f"No key {prefix_or_id!r}.")
    return key


def revoke(session: Session, prefix_or_id: str) -> ApiKey:
    key = find(session, prefix_or_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at)))
