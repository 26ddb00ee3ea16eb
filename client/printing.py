"""What the command line prints. Results on stdout (one id per capture, so scripts
can use it); progress and errors on stderr. Never the API key."""

from __future__ import annotations

import json
from typing import Any, TextIO

from client.config import Config
from client.store import LocalStore, OutboxRow
from client.sync import SyncReport


def field_errors(errors: Any, prefix: str = "") -> list[str]:
    """"field: message" lines from errors keyed by field (or location, then field)."""
    if isinstance(errors, dict):
        return [line for name, inner in errors.items()
                for line in field_errors(inner, f"{prefix}{name}." if isinstance(inner, dict)
                                         else f"{prefix}{name}")]
    if isinstance(errors, list):
        return [f"{prefix}: {' '.join(str(message) for message in errors)}"]
    return [f"{prefix}: {errors}"] if errors is not None else []


class Output:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self._progress_shown = False

    def line(self, text: str) -> None:
        print(text, file=self.out)

    def error(self, message: str, errors: Any = None) -> None:
        self._end_progress()
        print(f"error: {message}", file=self.err)
        for line in field_errors(errors):
            print(f"  {line}", file=self.err)

    def progress(self, stage: str, done: int, total: int | None) -> None:
        text = f"{stage}: {done}/{total} mutations" if total else f"{stage}: {done} changes"
        print(f"\r{text:<40}", end="", file=self.err, flush=True)
        self._progress_shown = True

    def _end_progress(self) -> None:
        if self._progress_shown:
            print(file=self.err)
            self._progress_shown = False

    def customers(self, customers: list[dict[str, Any]]) -> None:
        for customer in customers:
            name = " ".join(filter(None, (customer.get("given_name"),
                                          customer.get("family_name"))))
            self.line("\t".join((customer["id"], name, customer.get("email") or "-",
                                 customer.get("phone") or "-")))
        if not customers:
            print("no customer found", file=self.err)

    def sync_report(self, report: SyncReport, counts: dict[str, int]) -> None:
        self._end_progress()
        pushed = ", ".join(f"{n} {status}" for status, n in sorted(report.pushed.items()))
        self.line(f"synced: pushed {pushed or 'nothing'}; pulled {report.pulled} changes"
                  + ("; rebuilt the cache from a snapshot" if report.resynced else ""))
        if not report.finished:
            self.line(f"{counts['pending']} still pending: sync again to carry on")
        if counts["attention"]:
            self.line(f"{counts['attention']} need attention: python -m client attention list")
        if counts["conflict"]:
            self.line(f"{counts['conflict']} in conflict: python -m client conflicts list")

    def status(self, config: Config, store: LocalStore) -> None:
        counts = store.counts()
        rows = [("server", config.server),
                ("store", store.state("store_code") or "-"),
                ("data", str(store.path)),
                ("pending", counts["pending"]),
                ("attention", counts["attention"]),
                ("conflicts", counts["conflict"]),
                ("last sync", store.state("last_sync") or "never")]
        for label, value in rows:
            self.line(f"{label:<10} {value}")

    def waiting(self, rows: list[OutboxRow]) -> None:
        for row in rows:
            self.line(f"{row.mutation_id}  {row.op} {row.entity} {row.record_id}")
            self.line(f"  mine:   {json.dumps(row.fields, ensure_ascii=False)}")
            if row.state == "conflict":
                theirs = {name: (row.theirs or {}).get(name) for name in row.conflicts or []}
                self.line(f"  theirs: {json.dumps(theirs, ensure_ascii=False)}")
            for line in field_errors(row.errors):
                self.line(f"  {line}")
        if not rows:
            print("nothing here", file=self.err)
