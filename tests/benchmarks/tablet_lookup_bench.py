"""The tablet app's customer lookup, measured in the browser, on 50,000 customers.

    .venv/bin/python -m tests.benchmarks.tablet_lookup_bench [--customers 50000]

Serves the app (the Flask app on 127.0.0.1, a scratch SQLite file), opens it in Debian's
chromium through Playwright, writes the synthetic customers of client_lookup_bench into
the page's IndexedDB as a sync would store them (server copies, E.164 phones), then
times in the page, with performance.now(): loading the local copy and building the
lookup index, and lookups by exact email, phone as typed at the counter ("07400 123456"
and "+44 7400 123 456"), its last 4 digits, a name prefix of 3 letters, and the search
box's own path (one text, kind guessed). Each lookup includes reading the records found.
Prints p50/p95/max per kind. Chromium coarsens performance.now() to 0.1 ms without
cross-origin isolation, so the mean (a batch's total time / its count) is printed too.
"""

from __future__ import annotations

import argparse
import logging
import platform
import random
import shutil
import statistics
import tempfile
import threading

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from server import create_app
from tests.benchmarks.client_lookup_bench import customer, national

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
STORE = """async (customers) => {
  const db = await import('/tablet/js/db.js');
  const local = window.blackbook.local;
  await db.transaction(local.db, ['records'], 'readwrite', async (tx) => {
    const records = tx.objectStore('records');
    for (const c of customers) records.put({ entity: 'customer', id: c.id, version: 1,
      server: c, body: c, awaiting_pull: false, stale: false });
  });
}"""
LOAD = """async () => { const local = window.blackbook.local;
  const tx = local.db.transaction(['state'], 'readwrite');
  tx.objectStore('state').put({ key: 'country', value: 'GB' });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  const started = performance.now(); await local.load();
  return [performance.now() - started, local.list('customer').length]; }"""
TIME = """([kind, queries]) => { const local = window.blackbook.local; const times = [];
  let empty = 0; const batch = performance.now();
  for (const q of queries) {
    const started = performance.now();
    const ids = kind === 'box' ? local.index.search(q) : local.index.find(q);
    const found = ids.map((id) => local.get('customer', id));
    times.push(performance.now() - started); if (!found.length) empty += 1; }
  return { times, empty, mean: (performance.now() - batch) / queries.length }; }"""


def serve(folder: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                      "LOG_LEVEL": "WARNING"})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def queries(rng: random.Random, customers: list[dict], count: int) -> dict[str, list]:
    picks = [rng.choice(customers) for _ in range(count)]
    return {
        "email": [{"email": c["email"]} for c in picks],
        "phone as typed (07400 123456)": [{"phone": national(c["phone"])} for c in picks],
        "phone +44 7400 123 456": [{"phone": f"+44 {c['phone'][3:7]} {c['phone'][7:10]} "
                                             f"{c['phone'][10:]}"} for c in picks],
        "last 4 digits": [{"phone": c["phone"][-4:]} for c in picks],
        "name prefix (3 letters)": [{"name": c["family_name"][:3]} for c in picks],
        "search box (mixed)": [(c["email"], national(c["phone"]), c["phone"][-4:],
                                c["given_name"][:3])[i % 4] for i, c in enumerate(picks)],
    }


def report(kind: str, result: dict) -> None:
    times = sorted(result["times"])
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{kind:32} p50 {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  "
          f"max {times[-1]:6.2f} ms  mean {result['mean']:.3f} ms  "
          f"(no match: {result['empty']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    customers = [customer(rng, n) for n in range(args.customers)]
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server, base = serve(folder)
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page()
        page.goto(f"{base}/tablet/")
        page.wait_for_function("() => window.blackbook && window.blackbook.local")
        for start in range(0, len(customers), 5000):
            page.evaluate(STORE, customers[start:start + 5000])
        took, loaded = page.evaluate(LOAD)
        print(f"{platform.machine()}, Python {platform.python_version()}, "
              f"{browser.version}; {loaded:,} customers")
        print(f"{'load from IndexedDB + build index':32} {took:8.0f} ms")
        for kind, batch in queries(rng, customers, args.queries).items():
            report(kind, page.evaluate(TIME, ["box" if "box" in kind else kind, batch]))
        browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
