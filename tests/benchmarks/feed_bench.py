"""CRM feed benchmark: the server under gunicorn on PostgreSQL, over loopback.

    DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1/scratch_db \
        .venv/bin/python -m tests.benchmarks.feed_bench

Add --reuse to keep a log filled by an earlier run (only a new crm key is issued).
The database is emptied and filled with --changes change-log rows (default
1,000,000): customers (logged for everyone and for their store), requests with
their status history, and consent events for one customer in ten, with current
state — the mix a busy estate writes. Records are copies of ones made through the
services (so bodies and CRM reductions are the real ones), multiplied by SQL,
because making a million through the API would take the ingest time, not the
feed's. Measures (median of --runs):

  throughput  --read changes (default 100,000) in pages of 1,000 from a snapshot,
              after one untimed read (warm workers): one page at a time (ask, read,
              parse, then ask for the next), and as the CRM client reads the feed
              (client.crm.pages: the next page is asked for, by the Link header, as
              soon as this one's headers are in, which the server sends before it
              writes the page). Runs of the two alternate.
  depth       one page of 1,000 read from cursors at the start, middle and end of
              the log, taking turns: the time must not grow with the cursor's depth
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time

import requests
import sqlalchemy as sa

from client import crm
from client.transport import Transport
from server.sync.cursors import Cursor
from tests.benchmarks.alone import alone
from tests.benchmarks.sync_bench import REPO, free_port, load_text, wait_up

# Per block of 10 customers: 10 customers × 2 rows, 10 requests, 1 consent × 2 rows.
ROWS_PER_BLOCK = 33


def prepare(url: str, changes: int) -> str:
    """Fresh schema, real template records, then the log multiplied. Returns a crm key."""
    from server import create_app
    from server.consent import service as consent
    from server.core.actor import Actor
    from server.customer_requests import service as requests_service
    from server.customers import service as customers
    from server.extensions import db
    from server.stores import keys, service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        store = service.create_store(db.session, "BENCH", "Bench", "GB", "Europe/London")
        _, token = keys.issue(db.session, "crm", "bench crm")
        tablet = Actor("tablet", store_id=store.id, label="bench")
        notice = consent.publish_notice(db.session, Actor("admin"), {
            "key": "offers", "language": "en", "title": "Offers", "text": "Offers by text.",
            "value_exchange": "Your number gets you first pick.", "purposes": ["marketing"],
            "channels": ["sms", "email"], "requires_reconsent": False})
        person = customers.create(db.session, tablet, {
            "given_name": "Template", "family_name": "Customer", "email": "t@example.com",
            "phone": "+447911123456", "preferences": {"sizes": ["M"]}})
        requests_service.create(db.session, tablet, {
            "customer_id": person.id, "type": "back_in_stock", "sku": "BT-000001",
            "description": "Chelsea boot in tan suede, customer wants the wider fit",
            "size": "38", "colour": "tan", "notify_channels": ["sms"]})
        consent.append(db.session, tablet, {
            "customer_id": person.id, "purpose": "marketing", "channel": "sms",
            "action": "grant", "notice_version_id": notice.id, "method": "associate_entry",
            "captured_by": "A-117", "captured_at": None, "expires_at": None})
        db.session.commit()
        db.session.remove()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        _multiply(connection, changes // ROWS_PER_BLOCK)
    engine.dispose()
    return token


def _multiply(connection, blocks: int) -> None:
    """Copy the templates: customer k, its request, and (k % 10 == 0) a consent event."""
    count = blocks * 10
    connection.execute(sa.text("""
        CREATE TEMP TABLE gen AS
        SELECT k, gen_random_uuid() AS customer_id, gen_random_uuid() AS request_id,
               gen_random_uuid() AS event_id,
               (SELECT max(seq) FROM changes) + k * 4 AS base
        FROM generate_series(1, :count) AS k"""), {"count": count})
    statements = [
        """INSERT INTO customers (id, given_name, family_name, email, phone, preferences,
               home_store_id, created_at, updated_at, version, field_versions, name_key,
               family_key, phone_reversed)
           SELECT g.customer_id, c.given_name, c.family_name || g.k, 'c' || g.k ||
               '@example.com', c.phone, c.preferences, c.home_store_id, now(), now(), 1,
               c.field_versions, c.name_key || g.k, c.family_key, c.phone_reversed
           FROM gen g, (SELECT * FROM customers LIMIT 1) c""",
        """INSERT INTO requests (id, customer_id, store_id, type, status, sku, description,
               size, colour, quantity, notify_channels, created_at, updated_at, version,
               field_versions)
           SELECT g.request_id, g.customer_id, r.store_id, r.type, r.status, r.sku,
               r.description, r.size, r.colour, r.quantity, r.notify_channels, now(), now(),
               1, r.field_versions
           FROM gen g, (SELECT * FROM requests LIMIT 1) r""",
        """INSERT INTO consent_events (id, customer_id, ordinal, purpose, channel, action,
               notice_version_id, method, store_id, captured_by, received_at, version)
           SELECT g.event_id, g.customer_id, 1, e.purpose, e.channel, e.action,
               e.notice_version_id, e.method, e.store_id, e.captured_by, now(), 1
           FROM gen g, (SELECT * FROM consent_events LIMIT 1) e WHERE g.k % 10 = 0""",
        """INSERT INTO consent_state (customer_id, purpose, channel, event_id)
           SELECT g.customer_id, 'marketing', 'sms', g.event_id FROM gen g
           WHERE g.k % 10 = 0""",
        # The log: each record copies its template's body with its own id.
        """INSERT INTO changes (seq, entity, record_id, op, version, store_id, customer_id,
               body, committed_at)
           SELECT g.base + s.n, 'customer', g.customer_id, 'upsert', 1, s.store_id,
               g.customer_id,
               jsonb_set(t.body::jsonb, '{id}', to_jsonb(g.customer_id::text))::json, now()
           FROM gen g
           CROSS JOIN (SELECT body, store_id FROM changes WHERE entity = 'customer'
                       AND store_id IS NULL LIMIT 1) t
           CROSS JOIN (SELECT 0 AS n, NULL::uuid AS store_id
                       UNION ALL SELECT 1, (SELECT id FROM stores LIMIT 1)) s""",
        """INSERT INTO changes (seq, entity, record_id, op, version, store_id, customer_id,
               body, history, committed_at)
           SELECT g.base + 2, 'request', g.request_id, 'upsert', 1, t.store_id,
               g.customer_id,
               jsonb_set(jsonb_set(t.body::jsonb, '{id}', to_jsonb(g.request_id::text)),
                         '{customer_id}', to_jsonb(g.customer_id::text))::json, t.history,
               now()
           FROM gen g CROSS JOIN (SELECT body, history, store_id FROM changes
                                  WHERE entity = 'request' LIMIT 1) t""",
        """INSERT INTO changes (seq, entity, record_id, op, version, store_id, customer_id,
               body, committed_at)
           SELECT g.base + 3, 'consent', g.event_id, 'upsert', 1, NULL, g.customer_id,
               jsonb_set(t.body::jsonb, '{id}', to_jsonb(g.event_id::text))::json, now()
           FROM gen g CROSS JOIN (SELECT body FROM changes WHERE entity = 'consent'
                                  AND store_id IS NULL LIMIT 1) t
           WHERE g.k % 10 = 0""",
        "UPDATE change_counter SET value = (SELECT max(seq) FROM changes)",
        "ANALYZE",
    ]
    for statement in statements:
        connection.execute(sa.text(statement))


def crm_key(url: str) -> str:
    """A new crm key on a database filled before (--reuse)."""
    from server import create_app
    from server.extensions import db
    from server.stores import keys

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _, token = keys.issue(db.session, "crm", "bench crm")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def head(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(sa.text("SELECT max(seq) FROM changes")).scalar_one()
    engine.dispose()
    return value


def throughput(http: requests.Session, base: str, total: int, page: int = 1000) -> float:
    started, cursor, seen = time.perf_counter(), None, 0
    while seen < total:
        query = {"limit": page} | ({"cursor": cursor} if cursor else {})
        response = http.get(f"{base}/api/v1/feed", params=query, timeout=60)
        response.raise_for_status()
        body = response.json()
        seen += len(body["changes"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    return seen / (time.perf_counter() - started)


def read_ahead(transport: Transport, total: int, page: int = 1000) -> float:
    started, seen = time.perf_counter(), 0
    with contextlib.closing(crm.pages(transport, None, page)) as reader:
        for body in reader:
            seen += len(body["changes"])
            if seen >= total:
                break
    return seen / (time.perf_counter() - started)


def page_ms(http: requests.Session, base: str, after: int, repeat: int = 15) -> float:
    """Median time of one page at this depth, after one untimed read: a cold page costs
    what the disk costs, at any depth; the question is whether depth itself costs."""
    cursor = Cursor(after=after, snapshot_end=0).encode()
    http.get(f"{base}/api/v1/feed", params={"cursor": cursor, "limit": 1000}, timeout=60)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.get(f"{base}/api/v1/feed", params={"cursor": cursor, "limit": 1000},
                            timeout=60)
        response.raise_for_status()
        assert len(response.json()["changes"]) >= 900
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--read", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the log an earlier run filled (--changes is ignored)")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    with alone(url):
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    started = time.perf_counter()
    token = crm_key(url) if args.reuse else prepare(url, args.changes)
    last = head(url)
    print(f"log filled: {last:,} changes in {time.perf_counter() - started:.0f} s")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf",
         "--workers", str(args.workers),
         "--no-control-socket", "--bind", f"127.0.0.1:{port}", "server:create_app()"],
        cwd=REPO, env=os.environ | {"BLACKBOOK_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    try:
        wait_up(base)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        # One untimed read first: a server that has run for a while has warm workers
        # (compiled queries, connections), as in the sync bench's pull.
        throughput(http, base, args.read)
        transport = Transport(base, token)
        rates, ahead = [], []
        for _ in range(args.runs):
            rates.append(throughput(http, base, args.read))
            ahead.append(read_ahead(transport, args.read))
        transport.close()
        # A page of 1,000 feed rows spans ~2,000 log positions (stores' copies skipped).
        # The depths take turns, so that the machine's drift weighs on each alike.
        places = {"start": 0, "middle": last // 2, "end": last - 2400}
        times: dict[str, list[float]] = {name: [] for name in places}
        for _ in range(args.runs):
            for name, after in places.items():
                times[name].append(page_ms(http, base, after))
        depths = {name: statistics.median(found) for name, found in times.items()}
    finally:
        server.terminate()
        server.wait(10)
    spread = (max(depths.values()) - min(depths.values())) / min(depths.values())
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, gunicorn {args.workers} workers; median of "
          f"{args.runs}; {load_text(load_before)}")
    print("| measure | result | target |\n|---|---|---|")
    print(f"| throughput: {args.read:,} changes in pages of 1,000, one page at a time | "
          f"{statistics.median(rates):,.0f} records/s | ≥ 30,000 |")
    print(f"| throughput: the same, as the CRM client reads it (next page asked for as soon "
          f"as this one's headers are in) | {statistics.median(ahead):,.0f} records/s "
          f"| ≥ 30,000 |")
    print(f"| one page of 1,000 at the start / middle / end of {last:,} changes | "
          + " / ".join(f"{v:.1f} ms" for v in depths.values())
          + f" (spread {spread:.0%}) | within 20% |")


if __name__ == "__main__":
    main()
