"""One benchmark at a time on a database.

The sync and feed benchmarks empty the database they are given and fill it again. Two
of them on one database at once (a second started before the first ended) drop each
other's tables mid-run: the figures of both are wrong, and the server answers 503s to
the one whose tables went (a deadlock with the other's DROP). `alone` holds a
PostgreSQL advisory lock on the database while a benchmark runs; a second one stops at
once, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

KEY = 0x626C61636B626B  # "blackbk": this lock is the benchmarks' own


class Busy(SystemExit):
    """Another benchmark holds the database."""


@contextmanager
def alone(url: str) -> Iterator[None]:
    """Hold the database `url` names for the duration of the block (its own connection,
    closed at the end, which lets the lock go, as a crash would)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            if not connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": KEY}):
                raise Busy("Another benchmark is running on this database; wait for it to "
                           "end, or give this one a database of its own.")
            connection.commit()  # the lock is the session's, not the transaction's
            yield
    finally:
        engine.dispose()
