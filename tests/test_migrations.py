"""Migrations: upgrade works on an empty database, one head, and the models match."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from server import MIGRATIONS, create_app
from server.core import pg_indexes
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
                "compare_type": True, "include_object": pg_indexes.include_object})
            differences = compare_metadata(context, db.metadata)
            counter = connection.execute(sa.text("SELECT value FROM change_counter")).all()
        db.engine.dispose()
    assert differences == []
    assert counter == [(0,)]


def test_an_entry_naming_several_customers_becomes_one_each_on_downgrade(empty_database_url):
    """0017 down: the access log as it was before, one entry per customer, none lost."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    people = [uuid.uuid4() for _ in range(3)]
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        from server.audit.models import AccessEntry
        with db.engine.begin() as connection:
            connection.execute(sa.insert(AccessEntry), {
                "customer_ids": people if is_postgres(empty_database_url)
                else [str(p) for p in people], "action": "read", "what": "crm feed",
                "scope": "crm"})
            connection.execute(sa.insert(AccessEntry), {
                "customer_id": people[0], "action": "read", "what": "customer", "scope": "crm"})
        downgrade(directory=MIGRATIONS, revision="0016")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT customer_id, what FROM access_log")).all()
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    expected = {(p, "crm feed") for p in people} | {(people[0], "customer")}
    assert len(rows) == 4
    assert {(uuid.UUID(str(c)), w) for c, w in rows} == expected


def _store_and_customer(connection, store: uuid.UUID, customer: uuid.UUID) -> None:
    """A store and a customer, as rows (the models of any revision since 0018 hold them)."""
    from server.customers.models import Customer
    from server.stores.models import Store

    connection.execute(sa.insert(Store.__table__), {
        "id": store, "code": "S1", "name": "One", "country": "GB", "timezone": "Europe/London"})
    connection.execute(sa.insert(Customer.__table__), {
        "id": customer, "given_name": "Ada", "name_key": "ada"})


def test_the_opening_step_moves_onto_the_request_and_back(empty_database_url):
    """0019: a request's stored opening step becomes its key_id (the rest the request
    holds already) and is read from the request; later steps stay rows. Down: the row again."""
    from server.customer_requests import history
    from server.customer_requests.models import CustomerRequest, StatusChange

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    key, store, customer, request, twice, other_key = (uuid.uuid4() for _ in range(6))
    opened = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0018")
        with db.engine.begin() as connection:
            _store_and_customer(connection, store, customer)
            connection.execute(sa.insert(CustomerRequest.__table__), {
                "id": request, "customer_id": customer, "store_id": store, "type": "hold",
                "status": "ready", "sku": "S-1", "captured_by": "A-1", "created_at": opened})
            # Opened twice (never written so, but a migration must not fail on it).
            connection.execute(sa.insert(CustomerRequest.__table__), {
                "id": twice, "customer_id": customer, "store_id": store, "type": "hold",
                "status": "open", "sku": "S-2", "captured_by": "A-1", "created_at": opened})
            connection.execute(sa.insert(StatusChange.__table__), [
                {"request_id": twice, "from_status": None, "to_status": "open",
                 "key_id": other_key, "changed_at": opened + timedelta(minutes=1)},
                {"request_id": twice, "from_status": None, "to_status": "open",
                 "key_id": key, "changed_at": opened}])
            connection.execute(sa.insert(StatusChange.__table__), [
                {"request_id": request, "from_status": None, "to_status": "open",
                 "changed_by": "A-1", "key_id": key, "changed_at": opened},
                {"request_id": request, "from_status": "open", "to_status": "ready",
                 "changed_by": "A-2", "key_id": key, "changed_at": opened + timedelta(hours=1)}])
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            moved = dict(connection.execute(sa.select(CustomerRequest.id,
                                                      CustomerRequest.key_id)).all())
            kept = connection.execute(sa.select(StatusChange.to_status)).scalars().all()
        texts = history.of_requests(db.session, [str(request)])
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0018")
        with db.engine.connect() as connection:
            back = connection.execute(
                sa.select(StatusChange.from_status, StatusChange.to_status,
                          StatusChange.changed_by, StatusChange.key_id)
                .where(StatusChange.request_id == request).order_by(StatusChange.changed_at)).all()
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    assert moved == {request: key, twice: key}  # the earliest opening's key
    assert kept == ["ready"]
    assert [(s["from_status"], s["to_status"], s["changed_by"])
            for s in json.loads(texts[str(request)])] == [(None, "open", "A-1"),
                                                          ("open", "ready", "A-2")]
    assert [(f, t, b, uuid.UUID(str(k))) for f, t, b, k in back] == [
        (None, "open", "A-1", key), ("open", "ready", "A-2", key)]


def test_the_search_text_moves_beside_the_requests_and_back(empty_database_url):
    """0020: every request's search text is written into request_search, the position at
    the change log's end, and a search finds the request there; down: the old index."""
    from server.changelog.models import Change
    from server.customer_requests.models import CustomerRequest
    from server.dashboard import listing, search
    from server.dashboard.models import RequestSearch

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    store, customer, request = (uuid.uuid4() for _ in range(3))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0019")
        with db.engine.begin() as connection:
            _store_and_customer(connection, store, customer)
            connection.execute(sa.insert(CustomerRequest.__table__), {
                "id": request, "customer_id": customer, "store_id": store, "type": "hold",
                "status": "open", "sku": "CT-22", "category": "Coats",
                "description": "Wool Overcoat", "captured_by": "A-1",
                "created_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC)})
            connection.execute(sa.insert(Change.__table__), {
                "seq": 41, "entity": "request", "record_id": request, "op": "upsert",
                "version": 1, "store_id": store, "customer_id": customer})
        upgrade(directory=MIGRATIONS)
        texts = db.session.execute(sa.select(RequestSearch.request_id, RequestSearch.text)).all()
        at = search.position(db.session)
        rows, _ = listing.page(db.session, None, {"q": "overcoat"})
        db.session.remove()
        postgres = db.engine.dialect.name == "postgresql"
        downgrade(directory=MIGRATIONS, revision="0019")
        with db.engine.connect() as connection:
            indexes = {i["name"] for i in sa.inspect(connection).get_indexes("requests")}
            tables = set(sa.inspect(connection).get_table_names())
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    assert texts == [(request, "ct-22 coats wool overcoat")]
    assert at == 41  # nothing left for a pass: the fill read the requests after it
    assert [row.id for row in rows] == [request]
    assert "request_search" not in tables and "search_position" not in tables
    assert ("ix_requests_search" in indexes) is postgres
