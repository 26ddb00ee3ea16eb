"""Local customer lookup on a tablet holding 50,000 customers.

    .venv/bin/python -m tests.benchmarks.client_lookup_bench [--customers 50000]

Fills a fresh local store the way a sync does (pages of pulled customers, phones
in E.164 as the server sends them), then times lookups by exact email, phone as
typed at the counter, its last 4 digits, and a name prefix of 3 letters, each
for customers that exist. Prints p50/p95 per kind. No server, no network.
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from client import cache
from client.api import PullPage
from client.store import LocalStore

MOBILE = ("7400", "7838", "7912")  # UK mobile ranges where every number is valid
SYLLABLES = ("an", "bel", "cor", "da", "el", "fi", "gra", "ha", "is", "jo", "ka", "lo",
             "ma", "no", "or", "pe", "qui", "ro", "sa", "te", "u", "vi", "wen", "xa", "yo",
             "zo", "ë", "ø", "é")


def name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def customer(rng: random.Random, n: int) -> dict:
    return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "given_name": name(rng),
            "family_name": name(rng), "email": f"customer{n}@example.com",
            "phone": f"+44{rng.choice(MOBILE)}{rng.randrange(10**6):06d}", "preferences": {},
            "version": 1}


def fill(store: LocalStore, customers: list[dict], page: int = 1000) -> float:
    started = time.perf_counter()
    for start in range(0, len(customers), page):
        chunk = customers[start:start + page]
        changes = [{"entity": "customer", "id": c["id"], "op": "upsert", "version": 1,
                    "record": c} for c in chunk]
        cache.apply_page(store, PullPage(changes, f"c{start}", start + page < len(customers),
                                         None))
    return time.perf_counter() - started


def timed(store: LocalStore, queries: list[dict]) -> tuple[list[float], int]:
    times, empty = [], 0
    for criteria in queries:
        started = time.perf_counter()
        found = store.find_customers(criteria)
        times.append((time.perf_counter() - started) * 1000)
        empty += not found
    return times, empty


def national(e164: str) -> str:
    digits = "0" + e164[3:]
    return f"{digits[:5]} {digits[5:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    customers = [customer(rng, n) for n in range(args.customers)]
    with tempfile.TemporaryDirectory() as folder:
        store = LocalStore(Path(folder) / "tablet.sqlite3")
        with store.transaction():
            store.set_country("GB")
        seconds = fill(store, customers)
        picks = [rng.choice(customers) for _ in range(args.queries)]
        kinds = {
            "email": [{"email": c["email"].upper()} for c in picks],
            "phone as typed (07… …)": [{"phone": national(c["phone"])} for c in picks],
            "last 4 digits": [{"phone": c["phone"][-4:]} for c in picks],
            "name prefix (3 letters)": [{"name": c["family_name"][:3].lower()} for c in picks],
        }
        print(f"client lookup on {args.customers:,} cached customers, {args.queries:,} "
              f"queries each (Python {platform.python_version()}, SQLite "
              f"{sqlite3.sqlite_version}, {platform.machine()})")
        print(f"filled from pulled pages in {seconds:.1f} s "
              f"({args.customers / seconds:,.0f} customers/s)")
        for kind, queries in kinds.items():
            times, empty = timed(store, queries)
            p50 = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"  {kind:<24} p50 {p50:6.3f} ms   p95 {p95:6.3f} ms   no match: {empty}")
        store.close()


if __name__ == "__main__":
    main()
