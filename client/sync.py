"""The sync engine: push the outbox, then pull, until both sides agree.

The engine keeps nothing in memory that matters: each step reads the local store
and commits its outcome in one transaction before the next begins, so killing
the process between any two statements leaves a state the next `sync` finishes
from. Pushed but unanswered (or answered but not recorded) mutations are sent
again and come back `duplicate`; a pulled page not stored is pulled again.

A sync goes in rounds: push what may go (several pushes: a record's next edit of a
field goes once the previous one is answered, see outbox), then pull; `max_rounds`
bounds one sync, and the next carries on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from client import cache, outbox
from client.api import ServerApi
from client.errors import BlackbookError, CursorExpired, NotATabletKey
from client.store import LocalStore

# stage ("push" or "pull"), done so far, total if known
ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class SyncReport:
    pushed: Counter = field(default_factory=Counter)  # results by status
    pulled: int = 0
    rounds: int = 0
    resynced: bool = False
    finished: bool = False  # nothing is left in the outbox that could be sent now


def bind(store: LocalStore, api: ServerApi) -> str:
    """Ask the server which device and store the key belongs to, and remember it.

    A data file holds one device's captures (the server accepts a mutation id from
    one device only), so a key of another device is refused rather than mixed in.
    """
    identity = api.identity()
    known = store.state("device_id")
    if known not in (None, identity.device_id):
        raise NotATabletKey(f"{store.path} holds the captures of another device; "
                            "give this key its own data file.")
    with store.transaction():
        store.set_state("device_id", identity.device_id)
        store.set_state("store_id", identity.store_id)
        store.set_state("store_code", identity.store_code)
        store.set_country(identity.country)
    return identity.device_id


def ensure_identity(store: LocalStore, api: ServerApi) -> str:
    """The device id this key pushes as (asked of the server the first time)."""
    return store.state("device_id") or bind(store, api)


class SyncEngine:
    def __init__(self, store: LocalStore, api: ServerApi, *, batch_size: int = 500,
                 page_size: int = 1000, max_rounds: int = 20, max_pages: int = 100_000,
                 progress: ProgressFn | None = None) -> None:
        if not 1 <= batch_size <= 1000 or not 1 <= page_size <= 5000:
            raise ValueError("batch_size is 1..1000 and page_size 1..5000 (server limits)")
        self.store, self.api = store, api
        self.batch_size, self.page_size = batch_size, page_size
        self.max_rounds, self.max_pages = max_rounds, max_pages
        self._progress = progress or (lambda stage, done, total: None)

    def sync(self) -> SyncReport:
        """Push and pull until nothing more can go; raises on a failure (Offline, …),
        with everything done so far kept."""
        device_id = ensure_identity(self.store, self.api)
        report = SyncReport()
        for _ in range(self.max_rounds):
            report.rounds += 1
            self.push(device_id, report)
            self.pull(report)
            if not outbox.next_batch(self.store, 1):
                report.finished = True
                break
        with self.store.transaction():
            self.store.set_state("last_sync", datetime.now(UTC).isoformat(timespec="seconds"))
        return report

    def push(self, device_id: str, report: SyncReport) -> None:
        pending = self.store.counts()["pending"]
        done = 0
        # Each push settles every mutation it carries (a conflict on a closed request
        # sends its other fields once more): this bounds the loop.
        for _ in range(2 * pending + 1):
            batch = outbox.next_batch(self.store, self.batch_size)
            if not batch:
                return
            results = self.api.push(device_id, [outgoing.wire() for outgoing in batch])
            outbox.settle(self.store, batch, results)
            report.pushed.update(result["status"] for result in results)
            done += len(batch)
            self._progress("push", done, pending)

    def pull(self, report: SyncReport) -> None:
        if self.store.state("cursor") is None and not self.store.state("snapshot"):
            cache.begin_snapshot(self.store)
        etag = self.store.state("etag")
        for _ in range(self.max_pages):
            try:
                page = self.api.pull(self.store.state("cursor"), self.page_size, etag)
            except CursorExpired:
                if report.resynced:
                    raise
                cache.begin_snapshot(self.store)  # the outbox stays as it is
                report.resynced, etag = True, None
                continue
            if page is None:
                cache.nothing_new(self.store)
                return
            cache.apply_page(self.store, page)
            report.pulled += len(page.changes)
            self._progress("pull", report.pulled, None)
            if not page.has_more:
                return
            etag = None  # only the first page can be "not modified"
        raise BlackbookError(f"Still more to pull after {self.max_pages} pages; sync again.")
