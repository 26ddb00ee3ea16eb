"""Writers committing in whatever order while a reader follows the change log all along:
the harness behind the cursor-guarantee tests of every stream (a device's pull, the CRM
feed)."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable

from server.core import database
from server.core.actor import Actor
from server.customer_requests import service as requests_service
from server.customer_requests.models import CustomerRequest
from server.extensions import db


def writers_and_a_reader(app, *, writers: int, per_writer: int,
                         write: Callable[[int, int, random.Random], None],
                         read_page: Callable[[str | None], tuple[str, bool]]) -> None:
    """`writers` threads each call `write(n, i, rng)` `per_writer` times and commit after
    each, stalling a random moment first (so transactions overlap and commit out of
    order), while a reader calls `read_page(cursor)` -> (next cursor, has more) until the
    writers are done and it has caught up. Each thread has its own app context and
    session; the first error of any thread is raised here."""
    done = threading.Event()
    errors: list[BaseException] = []

    def writing(n: int) -> None:
        rng = random.Random(n)
        try:
            with app.app_context():
                for i in range(per_writer):
                    write(n, i, rng)
                    threading.Event().wait(rng.random() / 200)  # between effect and commit
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 (raised below, in the test)
            errors.append(error)

    def reading() -> None:
        cursor, rng = None, random.Random(-1)
        try:
            # As a GET request reads: on SQLite a reader's BEGIN takes no write lock.
            with app.app_context(), database.reading():
                for _ in range(100_000):  # bounded
                    finished = done.is_set()
                    cursor, has_more = read_page(cursor)
                    db.session.rollback()  # the next page sees the newest commits
                    if finished and not has_more:
                        break
                    # Now and then behind the writers: pages that leave more to read.
                    threading.Event().wait(rng.random() / 50)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writing, args=(n,)) for n in range(writers)]
    reader = threading.Thread(target=reading)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    reader.join(120)
    if errors:
        raise errors[0]
    assert not reader.is_alive(), "the reader never caught up"


def capture_request(actor: Actor, customer_id, n: int, i: int, rng: random.Random) -> None:
    """A writer's step: a new request, edited in the same transaction half the time (so
    some records reach the log at version 2)."""
    record = requests_service.create(db.session, actor, {
        "id": uuid.uuid4(), "customer_id": customer_id, "type": "hold",
        "description": f"w{n}-{i}"})
    if rng.random() < 0.5:
        requests_service.update(db.session, actor, record.id, {"size": str(i)})


def request_versions(app) -> dict[str, int]:
    """Every request's id (as text) and version, as committed."""
    with app.app_context():
        return {str(k): v for k, v in db.session.execute(
            db.select(CustomerRequest.id, CustomerRequest.version)).all()}
