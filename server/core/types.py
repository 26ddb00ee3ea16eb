"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores UTC; always hands back timezone-aware datetimes.

    SQLite keeps no offset, so without this the API would emit naive times.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def millis(moment: datetime) -> int:
    """A time as Unix milliseconds, as an ordered_id holds it."""
    return int(moment.timestamp() * 1000)


def ordered_id(at_ms: int | None = None) -> uuid.UUID:
    """A UUID version 7 (RFC 9562): the Unix time in milliseconds (`at_ms`, default now),
    then 74 random bits. Ids made later sort later, so a table that only grows (the
    access log) adds its keys at the end of its primary-key index, instead of touching a
    random page of it for every row as a random id does."""
    ms = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits; 74 are kept
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64
             | 0b10 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF)
    return uuid.UUID(int=value)
