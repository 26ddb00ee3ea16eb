"""Indexes only PostgreSQL has (GIN), kept outside the models' metadata.

Alembic cannot compare them, and SQLite would make a useless plain index of the same
columns. A migration creates each; for databases made from the models (tests, the
demo) `install` creates them after their table. `include_object` tells Alembic's
comparison to leave them alone.
"""

from __future__ import annotations

import sqlalchemy as sa

_NAMES: set[str] = set()


def install(table: sa.Table, name: str, *statements: str) -> None:
    """Run `statements` (which create index `name`) after `table` is created, on
    PostgreSQL only. Idempotent: create_app may run more than once in a process."""
    if name in _NAMES:
        return
    _NAMES.add(name)

    def create(target, connection, **kwargs) -> None:
        if connection.dialect.name == "postgresql":
            for statement in statements:
                connection.execute(sa.text(statement))

    sa.event.listen(table, "after_create", create)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's comparisons: these indexes live outside the models."""
    return not (type_ == "index" and name in _NAMES)
