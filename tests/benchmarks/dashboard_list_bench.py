"""Dashboard request-list benchmark: 1,000,000 requests on PostgreSQL, gunicorn, loopback.

    DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1/scratch_db \
        .venv/bin/python -m tests.benchmarks.dashboard_list_bench

The database is emptied and migrated (`flask db upgrade`: the production indexes),
then filled by SQL with --requests requests (default 1,000,000) over 20 stores in 4
regions, 50,000 customers, two years of captures, the status mix of a real estate.
The requests' search index is then rebuilt (`search_index.rebuild`, timed).
A user logs in through the login form; each list page (50 rows) is fetched --samples
times after one untimed fetch, per filter: p50 / p95 / max in ms. Target: p95 ≤ 150 ms.
The text searches run again with the newest 2,000 and 20,000 requests changed since the
index's last pass (matched on their own text until a pass reaches them).
Then the charts page (every figure, drawn), and the CSV export of every request
(streamed): time, rows/s and the gunicorn workers' peak memory (VmHWM), to show it does
not grow with the row count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.benchmarks.sync_bench import REPO, free_port, wait_up

PASSWORD = "benchmark password"
SCENARIOS = [  # (label, user, query string)
    ("newest first, no filter", "admin", ""),
    ("one store", "admin", "store=S07"),
    ("one region", "admin", "region=North"),
    ("type + status (rare)", "admin", "type=alteration&status=ready"),
    ("overdue", "admin", "due=overdue"),
    ("due today", "admin", "due=today"),
    ("one associate", "admin", "associate=A-173"),
    ("SKU search (rare)", "admin", "q=SKU-01234"),
    ("product word (common)", "admin", "q=overcoat"),
    ("text with no match", "admin", "q=zzzz"),
    ("sorted by due date", "admin", "sort=due"),
    ("open, oldest first", "admin", "status=open&sort=oldest"),
    ("aged 365-400 days", "admin", "min_age=365&max_age=400"),
    ("store manager, own store", "manager", ""),
    ("store manager, overdue by due", "manager", "due=overdue&sort=due"),
]

CHARTS = [("every store, 12 weeks", "admin", "weeks=12"),
          ("every store, 52 weeks", "admin", "weeks=52"),
          ("store manager, 12 weeks", "manager", "weeks=12")]


def prepare(url: str, count: int) -> None:
    from flask_migrate import upgrade

    from server import MIGRATIONS, create_app
    from server.core.actor import Actor
    from server.customers import service as customers
    from server.dashboard import search_index, users
    from server.extensions import db
    from server.stores import service as stores

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        made = [stores.create_store(db.session, f"S{n:02d}", f"Store {n}", "GB",
                                    "Europe/London",
                                    ("North", "South", "East", "West")[n % 4])
                for n in range(1, 21)]
        customers.create(db.session, Actor("tablet", store_id=made[0].id), {
            "given_name": "Template", "family_name": "Customer", "email": "t@example.com",
            "phone": "+447911123456"})
        users.create(db.session, "admin@bench.example", "Admin", "admin", PASSWORD)
        users.create(db.session, "manager@bench.example", "Manager", "store_manager",
                     PASSWORD, "S07")
        db.session.commit()
        db.session.remove()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in _fill(count):
            connection.execute(sa.text(statement))
    engine.dispose()
    with app.app_context():
        started = time.perf_counter()
        search_index.rebuild(db.session)
        print(f"search index rebuilt ({count:,} requests) in "
              f"{time.perf_counter() - started:.0f} s")
        db.session.remove()
        db.engine.dispose()


TAILS = (2_000, 20_000)


@contextlib.contextmanager
def unindexed(url: str, count: int) -> Iterator[None]:
    """The newest `count` requests changed since the search index's last pass (as after
    a burst of captures and edits): change-log entries after its position, removed after."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO changes (seq, entity, record_id, op, version, store_id, "
            "customer_id, committed_at, superseded) "
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM changes) + row_number() OVER (), "
            "'request', id, 'upsert', 1, store_id, customer_id, now(), false "
            "FROM (SELECT id, store_id, customer_id FROM requests "
            "ORDER BY created_at DESC LIMIT :count) newest"), {"count": count})
        connection.execute(sa.text("ANALYZE changes"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "DELETE FROM changes WHERE seq > (SELECT seq FROM search_position)"))
        engine.dispose()


def _fill(count: int) -> list[str]:
    pick = "(ARRAY[{}])[1 + floor(random() * {})::int]".format
    kinds = "'back_in_stock','special_order','hold','alteration','appointment','call_back'"
    words = "'Chelsea boot','Wool overcoat','Linen dress','Canvas trainers','Silk scarf'," \
            "'Leather belt','Merino jumper','Raincoat','Ankle boot','Denim jacket'"
    colours = "'tan','navy','black','white','sage','red','grey','cream'"
    categories = "'shoes','coats','dresses','knitwear','accessories','trousers'"
    return [
        "SELECT setseed(0.42)",
        """INSERT INTO customers (id, given_name, family_name, email, phone, preferences,
               home_store_id, created_at, updated_at, version, field_versions, name_key,
               family_key, phone_reversed)
           SELECT gen_random_uuid(), c.given_name, c.family_name || k, 'c' || k ||
               '@example.com', c.phone, c.preferences, c.home_store_id, now(), now(), 1,
               c.field_versions, c.name_key || k, c.family_key, c.phone_reversed
           FROM generate_series(1, 50000) k, (SELECT * FROM customers LIMIT 1) c""",
        "CREATE TEMP TABLE people AS SELECT array_agg(id) AS ids FROM customers",
        "CREATE TEMP TABLE shops AS SELECT array_agg(id ORDER BY code) AS ids FROM stores",
        f"""CREATE TEMP TABLE draft AS
           SELECT k, floor(random() * 20)::int AS shop, random() AS fate,
               now() - random() * interval '730 days' AS made, random() AS due_roll
           FROM generate_series(1, {count}) k""",
        f"""INSERT INTO requests (id, customer_id, store_id, type, status, status_reason,
               sku, description, size, colour, category, quantity, due_date,
               notify_channels, captured_by, captured_at, created_at, updated_at,
               closed_at, version, field_versions)
           SELECT gen_random_uuid(), p.ids[1 + (d.k % 50001)], s.ids[1 + d.shop],
               {pick(kinds, 6)},
               CASE WHEN d.fate < .30 THEN 'open' WHEN d.fate < .40 THEN 'in_progress'
                    WHEN d.fate < .45 THEN 'ready' WHEN d.fate < .80 THEN 'fulfilled'
                    WHEN d.fate < .92 THEN 'cancelled' ELSE 'expired' END,
               CASE WHEN d.fate < .45 THEN NULL WHEN d.fate < .80 THEN 'collected'
                    WHEN d.fate < .86 THEN 'not_available'
                    WHEN d.fate < .92 THEN 'customer_cancelled' ELSE 'past_due' END,
               'SKU-' || lpad(floor(random() * 50000)::text, 5, '0'),
               {pick(words, 10)} || ' in ' || {pick(colours, 8)},
               {pick("'36','38','40','42','S','M','L','XL'", 8)}, {pick(colours, 8)},
               {pick(categories, 6)}, 1,
               CASE WHEN d.due_roll < .7 THEN (d.made + random() * interval '30 days')::date
               END,
               '["sms"]', 'A-' || (100 + d.shop * 10 + floor(random() * 10)::int),
               d.made, d.made, d.made,
               CASE WHEN d.fate >= .45 THEN d.made + interval '9 days' END, 1, '{{}}'
           FROM draft d, people p, shops s""",
        "ANALYZE",
    ]


def log_in(base: str, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/dashboard/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = http.post(f"{base}/dashboard/login", timeout=30, allow_redirects=False,
                         data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code
    return http


def timed(http: requests.Session, url: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = http.get(url, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, response.text


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return f"{statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f}"


def scenario(http: requests.Session, base: str, query: str, samples: int) -> list[float]:
    url = f"{base}/dashboard/requests?{query}"
    timed(http, url)
    return [timed(http, url)[0] for _ in range(samples)]


def deep_pages(http: requests.Session, base: str, pages: int) -> list[float]:
    """Follow 'Next page' from the first page: page N costs what page 1 costs."""
    url, times = f"{base}/dashboard/requests?status=fulfilled", []
    for _ in range(pages):
        elapsed, html = timed(http, url)
        times.append(elapsed)
        url = base + html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    return times


def workers_peak_kb(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
    return max(peaks)


def export(http: requests.Session, base: str, query: str) -> tuple[int, float]:
    started, rows = time.perf_counter(), -1
    with http.get(f"{base}/dashboard/requests.csv?{query}", stream=True, timeout=600) as got:
        got.raise_for_status()
        for chunk in got.iter_content(chunk_size=1 << 16):
            rows += chunk.count(b"\n")
    return rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-fill", action="store_true", help="reuse the filled database")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if not args.skip_fill:
        started = time.perf_counter()
        prepare(url, args.requests)
        print(f"filled {args.requests:,} requests in {time.perf_counter() - started:.0f} s")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "2",
         "--no-control-socket", "--timeout", "600", "--bind", f"127.0.0.1:{port}",
         "server:create_app()"],
        # No passes of the search index: the unindexed lines keep their tail.
        cwd=REPO, env=os.environ | {"BLACKBOOK_LOG_LEVEL": "WARNING",
                                    "BLACKBOOK_SEARCH_INDEX_SECONDS": "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base)
        sessions = {"admin": log_in(base, "admin@bench.example"),
                    "manager": log_in(base, "manager@bench.example")}
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, PostgreSQL, gunicorn {args.workers} workers; "
              f"{args.samples} samples per line, one client")
        print("| list page (50 rows) | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        for label, who, query in SCENARIOS:
            times = scenario(sessions[who], base, query, args.samples)
            print(f"| {label} | {percentiles(times)} |", flush=True)
        for tail in TAILS:
            with unindexed(url, tail):
                for label, who, query in SCENARIOS:
                    if query.startswith("q="):
                        times = scenario(sessions[who], base, query, args.samples)
                        print(f"| {label}, the newest {tail:,} changed since the index's "
                              f"last pass | {percentiles(times)} |", flush=True)
        print(f"| pages 1-20 of fulfilled, by Next | "
              f"{percentiles(deep_pages(sessions['admin'], base, 20))} |")
        print("\n| charts page (12 figures) | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        for label, who, query in CHARTS:
            url = f"{base}/dashboard/charts?{query}"
            times = [timed(sessions[who], url)[0] for _ in range(max(3, args.samples // 4))]
            print(f"| {label} | {percentiles(times)} |", flush=True)
        before = workers_peak_kb(server.pid)
        for query in ("store=S07&status=open", ""):
            rows, seconds = export(sessions["admin"], base, query)
            print(f"\nCSV export `{query or 'everything'}`: {rows:,} rows in {seconds:.1f} s "
                  f"({rows / seconds:,.0f} rows/s); worker peak memory "
                  f"{before / 1024:.0f} MB before, {workers_peak_kb(server.pid) / 1024:.0f} MB "
                  f"after")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
