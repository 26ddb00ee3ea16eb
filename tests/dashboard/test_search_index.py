"""The requests' search text, kept beside them and indexed after the captures commit:
a search sees every request as it is now, however far the index has come."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.changelog.models import Change
from server.customer_requests import service as requests
from server.dashboard import listing, search, search_index
from server.dashboard.models import RequestSearch
from server.extensions import db
from tests.conftest import is_postgres
from tests.factories import make_customer, make_request


def found(session, q: str, **args) -> list[str]:
    """The SKUs a dashboard search lists, newest first, every page."""
    rows = listing.stream(session, None, {"q": q} | args, batch=7)
    return [row.sku for row in rows]


def indexed(session) -> dict[str, str]:
    return {str(r.request_id): r.text for r in session.scalars(sa.select(RequestSearch))}


@pytest.fixture
def ada(session, world):
    return make_customer(session, world.tablet_a.actor)


def capture(session, world, customer, sku: str, description: str):
    return make_request(session, world.tablet_a.actor, customer, sku=sku,
                        description=description, category=None)


def edit(session, world, record, description: str) -> None:
    requests.update(session, world.tablet_a.actor, record.id, {"description": description})
    session.commit()


# Before the edit and the new capture, the index holds: overcoat (C-1), dress (D-2).
# After: C-1 is a jumper, R-4 a raincoat. Each index state must list the same.
@pytest.mark.parametrize("passes_after", [0, 1, 2, "all"])
@pytest.mark.parametrize("q, expected", [
    ("overcoat", []),              # C-1's old text: indexed, but no longer true
    ("jumper", ["C-1"]),           # C-1's new text
    ("coat", ["R-4"]),             # only the raincoat now
    ("dress", ["D-2"]),            # indexed, unchanged
    ("RAIN", ["R-4"]),             # captured after the pass: case-blind all the same
    ("c-1", ["C-1"]),              # its SKU, unchanged by the edit
    ("%", []), ("_", []),          # LIKE's wildcards are plain characters
])
def test_a_search_sees_every_request_as_it_is_now(session, world, ada, q, expected,
                                                   passes_after):
    coat = capture(session, world, ada, "C-1", "Wool overcoat")
    capture(session, world, ada, "D-2", "Linen dress")
    search_index.catch_up(session)
    assert set(indexed(session).values()) == {"c-1  wool overcoat", "d-2  linen dress"}
    edit(session, world, coat, "Merino jumper")
    capture(session, world, ada, "R-4", "Raincoat")
    if passes_after == "all":
        search_index.catch_up(session)
    else:
        for _ in range(passes_after):
            search_index.catch_up(session, most=1)  # one change-log entry a pass
    assert found(session, q) == expected
    assert found(session, q, sort="due") == expected


WORDS = ["boot", "coat", "scarf", "belt"]
steps = st.lists(st.one_of(
    st.tuples(st.just("capture"), st.sampled_from(WORDS)),
    st.tuples(st.just("edit"), st.integers(0, 20), st.sampled_from(WORDS)),
    st.tuples(st.just("pass"), st.integers(1, 4)),
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_any_mix_of_captures_edits_and_passes_lists_what_a_full_scan_would(
        session, world, ada, steps):
    """Whatever was captured, edited and indexed in whatever order, a search lists
    exactly the requests whose text now holds the word, newest first."""
    made = []
    for step in steps:
        if step[0] == "capture":
            made.append(capture(session, world, ada, f"H-{len(made)}", f"A {step[1]}"))
        elif step[0] == "edit" and made:
            edit(session, world, made[step[1] % len(made)], f"A {step[2]}")
        elif step[0] == "pass":
            search_index.catch_up(session, most=step[1])
    rows = session.execute(sa.select(requests.CustomerRequest.sku,
                                     requests.CustomerRequest.description)
                           .order_by(requests.CustomerRequest.created_at.desc(),
                                     requests.CustomerRequest.id.desc())).all()
    for word in WORDS:
        assert found(session, word) == [sku for sku, text in rows if word in text.lower()]


def test_a_pass_reads_the_change_log_in_order_and_moves_its_position(session, world, ada):
    for n in range(3):
        capture(session, world, ada, f"P-{n}", "Ankle boot")
    last = session.scalar(sa.select(sa.func.max(Change.seq)))
    assert search.position(session) == 0
    assert search_index.catch_up(session, most=2) == 2
    assert search.position(session) < last
    assert len(indexed(session)) < 3
    assert search_index.catch_up(session) >= 1
    assert search.position(session) == last
    assert len(indexed(session)) == 3
    assert search_index.catch_up(session) == 0  # up to date: nothing read


def test_rebuild_writes_every_text_and_moves_to_the_end(session, world, ada):
    boot = capture(session, world, ada, "B-1", "Ankle boot")
    session.execute(sa.insert(RequestSearch), [{"request_id": boot.id, "text": "stale"}])
    session.commit()
    assert search_index.rebuild(session) == 1
    assert indexed(session) == {str(boot.id): "b-1  ankle boot"}
    assert search.position(session) == session.scalar(sa.select(sa.func.max(Change.seq)))


def test_the_commands_catch_up_and_rebuild(app, session, world, ada):
    capture(session, world, ada, "B-1", "Ankle boot")
    capture(session, world, ada, "B-2", "Ankle boot")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "catch-up"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert len(indexed(session)) == 2
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt: 2 requests" in result.output


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("unindexed, last_ago, first_ago, expected", [
    (False, 30, 30, False),   # nothing to index
    (True, 0.2, 0.2, False),  # captures still arriving
    (True, 0.2, 59, False),   # a long burst, not yet a minute behind
    (True, 1.0, 1.0, True),   # captures paused for a second
    (True, 0.2, 60, True),    # a minute behind: index, burst or not
])
def test_a_pass_waits_for_the_captures_to_pause_or_a_minute_at_most(
        session, world, ada, unindexed, last_ago, first_ago, expected):
    capture(session, world, ada, "B-1", "Ankle boot")
    capture(session, world, ada, "B-2", "Ankle boot")
    if not unindexed:
        search_index.catch_up(session)
    changes = session.scalars(sa.select(Change).order_by(Change.seq)).all()
    for change in changes:
        change.committed_at = NOW - timedelta(seconds=first_ago)
    changes[-1].committed_at = NOW - timedelta(seconds=last_ago)
    session.commit()
    assert search_index.due(session, timedelta(seconds=1), timedelta(seconds=60),
                            now=NOW) is expected


def test_the_web_process_thread_indexes_new_captures_when_they_pause(app, session, world,
                                                                     ada):
    with app.app_context():
        engine = db.engine
    keeper = search_index.keep_up(engine, 0.05, 60)
    try:
        boot = capture(session, world, ada, "B-1", "Ankle boot")
        deadline = time.monotonic() + 10
        while str(boot.id) not in indexed(session) and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.05)
        assert indexed(session) == {str(boot.id): "b-1  ankle boot"}
    finally:
        keeper.stop()
        keeper.join(10)
    assert not keeper.is_alive()
    assert search_index.keep_up(engine, 0, 60) is None  # 0: no thread


@pytest.mark.postgres_only
def test_one_pass_at_a_time(app, session, world, ada, database_url):
    if not is_postgres(database_url):
        pytest.skip("an advisory lock is PostgreSQL's (SQLite has one writer anyway)")
    capture(session, world, ada, "B-1", "Ankle boot")
    with app.app_context():
        engine = db.engine
    with engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(search_index.LOCK)))
        assert search_index.catch_up(session) == 0  # another pass is at work: no wait
        other.execute(sa.select(sa.func.pg_advisory_unlock(search_index.LOCK)))
        other.commit()
    assert search_index.catch_up(session) > 0
    assert len(indexed(session)) == 1


@pytest.mark.parametrize("q", ["\\", "'", "\"; DROP TABLE requests; --", "%_\\%", "ü👢",
                               "x" * 64, "\u202e", " odd "])
@pytest.mark.parametrize("passes", [0, "all"])
def test_any_text_a_user_types_is_searched_for_as_typed_on_page_and_csv(
        signed_in, session, world, ada, q, passes):
    """Both parts (indexed and not) take the text as plain characters: no 500, and a
    request holding it is found on the page and in the export (spaces around the text
    are the form's, not the search's)."""
    capture(session, world, ada, "Q-1", f"Odd {q} text")
    capture(session, world, ada, "Q-2", "Plain")
    if passes:
        search_index.catch_up(session)
    client = signed_in("viewer")
    for path in ("/dashboard/requests", "/dashboard/requests.csv"):
        response = client.get(path, query_string={"q": q})
        assert response.status_code == 200, (path, response.status_code)
        body = response.get_data(as_text=True)
        assert "Q-1" in body and "Q-2" not in body, path
