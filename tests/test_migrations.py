"""Migrations: upgrade works on an empty database, one head, and the models match."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from server import MIGRATIONS, create_app
from server.dashboard import search
from server.extensions import db
from tests.conftest import is_postgres


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new, empty database beside the test one."""
    if not is_postgres(database_url):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"bb_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_single_head():
    script = ScriptDirectory(MIGRATIONS)
    assert len(script.get_heads()) == 1


def test_upgrade_on_empty_database_matches_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "include_object": search.include_object})
            differences = compare_metadata(context, db.metadata)
            counter = connection.execute(sa.text("SELECT value FROM change_counter")).all()
        db.engine.dispose()
    assert differences == []
    assert counter == [(0,)]
