"""Eight tablets pushing at once to a four-worker server on PostgreSQL, editing the same
customers, requests and notes in every order, with consent events and new captures
for the same customers: no push is answered 503 and the database reports no deadlock
(server/sync/locks.py takes every row lock a push needs in one global order).

CI runs it for 30 seconds; longer, by hand: BB_PUSH_RACE_SECONDS=300.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest
import requests

from tests.factories import make_customer, make_note, make_request, make_tablet
from tests.servers import gunicorn, machine_to_itself
from tests.sync.helpers import mutation

pytestmark = [pytest.mark.e2e, pytest.mark.postgres_only]

SECONDS = float(os.environ.get("BB_PUSH_RACE_SECONDS", "30"))
PUSHERS = 8
SHARED = 5  # customers, each with a request and a note: every push touches several


def _shared(session, world):
    actor = make_tablet(session, world.store_a).actor
    customers = [make_customer(session, actor) for _ in range(SHARED)]
    requests_ = [make_request(session, actor, c) for c in customers]
    notes = [make_note(session, actor, c) for c in customers]
    return ([str(c.id) for c in customers], [str(r.id) for r in requests_],
            [str(n.id) for n in notes])


def _batch(rng: random.Random, customers, requests_, notes, versions: dict) -> list[dict]:
    """Edits of shared records in a random order, with events and new captures."""
    batch = []
    for _ in range(rng.randint(2, 8)):
        kind = rng.choice(("customer", "request", "note", "consent", "new_request",
                           "new_note", "status"))
        if kind == "customer":
            record_id = rng.choice(customers)
            fields = {"family_name": f"F{rng.randint(0, 99)}"}
        elif kind == "request":
            record_id = rng.choice(requests_)
            fields = {"size": str(rng.randint(30, 46))}
        elif kind == "status":
            kind, record_id = "request", rng.choice(requests_)
            fields = {"status": rng.choice(("open", "in_progress"))}
        elif kind == "note":
            record_id = rng.choice(notes)
            fields = {"body": f"Prefers a call, {rng.randint(0, 999)}"}
        elif kind == "consent":
            batch.append(mutation("consent", fields={
                "customer_id": rng.choice(customers), "purpose": "marketing",
                "channel": rng.choice(("email", "sms")), "action": "withdraw",
                "method": "associate_entry"}, op="append"))
            continue
        elif kind == "new_request":
            batch.append(mutation("request", fields={
                "customer_id": rng.choice(customers), "type": "hold",
                "description": "Coat until Saturday"}))
            continue
        else:
            batch.append(mutation("note", fields={"customer_id": rng.choice(customers),
                                                  "body": "Likes navy"}))
            continue
        batch.append(mutation(kind, record_id, fields,
                              base_version=versions.get(record_id, 1)))
    return batch


def test_concurrent_pushes_on_shared_records_never_deadlock(world, session, database_url,
                                                            tmp_path):
    customers, requests_, notes = _shared(session, world)
    devices = [make_tablet(session, world.store_a) for _ in range(PUSHERS)]
    session.commit()
    log = tmp_path / "server.log"
    answers: Counter = Counter()
    results: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def pusher(n: int, base: str, deadline: float) -> None:
        rng, versions = random.Random(n), {}
        device = devices[n]
        with requests.Session() as http:
            while time.monotonic() < deadline:
                body = {"device_id": str(device.actor.device_id),
                        "mutations": _batch(rng, customers, requests_, notes, versions)}
                try:
                    answer = http.post(f"{base}/api/v1/sync/push", json=body,
                                       headers=device.headers, timeout=60)
                except requests.RequestException as error:
                    with lock:
                        failures.append(type(error).__name__)
                    continue
                with lock:
                    answers[answer.status_code] += 1
                if answer.status_code != 200:
                    continue
                for result in answer.json()["results"]:
                    with lock:
                        results[result["status"]] += 1
                    if result.get("version"):
                        versions[result["id"]] = result["version"]
                    if result["status"] == "rejected" and "id" in result.get("errors", {}):
                        with lock:
                            failures.append(str(result["errors"]))

    with machine_to_itself(), gunicorn(database_url, tmp_path / "instance", workers=4,
                                       log=log) as base:
        deadline = time.monotonic() + SECONDS
        threads = [threading.Thread(target=pusher, args=(n, base, deadline))
                   for n in range(PUSHERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 120)
    logged = log.read_text(errors="replace")
    assert answers[200] > 100, answers  # it really pushed, and concurrently
    assert set(answers) == {200}, answers
    assert results["applied"] > 100 and results["conflict"] > 0, results
    assert "Deadlock" not in logged and "deadlock" not in logged, logged[-2000:]
    assert failures == [], failures[:5]
