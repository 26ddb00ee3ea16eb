"""The delivery worker: claim due deliveries, POST them signed, record what happened.

A pass claims a batch under `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises
writers instead), marks it `sending` with a lease and commits; then it POSTs each
one outside any transaction, and records the outcome only if it still holds the
lease. So any number of workers can run at once and no delivery is sent twice while
its lease holds; a POST is only started with time enough left on the lease for it to
finish. Past a crash (the receiver answered, the worker died before recording it) a
delivery is sent again when its lease runs out: receivers drop repeats by
`X-Blackbook-Delivery`.

Attempts are counted when a delivery is claimed, so a worker that dies mid-POST
still uses one up; at the subscription's limit the delivery is `dead` until replayed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import signals
from server.core.types import utcnow
from server.webhooks import signing
from server.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

log = logging.getLogger("blackbook.webhooks")

Delivery = WebhookDelivery


@dataclass(frozen=True)
class Settings:
    master_key: str
    batch: int = 10
    lease_seconds: float = 300.0
    timeout: float = 10.0
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0

    @classmethod
    def from_config(cls, config, **overrides) -> Settings:
        """The app's settings; an override given as None keeps the default."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return cls(**{"master_key": config["SECRET_KEY"],
                      "backoff_seconds": config["WEBHOOK_BACKOFF_SECONDS"]} | given)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds, with everything the POST needs (no ORM object, so
    nothing reaches back into the database while the POST is under way)."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    event: str
    body: bytes
    attempt: int
    max_attempts: int
    lease_until: datetime
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None  # a short code, never the receiver's answer
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def worker_id() -> str:
    """Unique per worker run: host, process and a random part (threads share a pid)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def backoff(attempt: int, settings: Settings) -> timedelta:
    """Exponential, with jitter so receivers coming back are not hit by a wave."""
    ceiling = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** (attempt - 1))
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                  sa.and_(Delivery.status == "sending", Delivery.lease_until < now))


def claim(session: Session, worker: str, settings: Settings) -> list[Claimed]:
    """Lease up to `batch` due deliveries of active subscriptions to this worker."""
    now = utcnow()
    lease_until = now + timedelta(seconds=settings.lease_seconds)
    query = (sa.select(Delivery.id, Delivery.subscription_id, Delivery.event, Delivery.payload,
                       Delivery.attempts, WebhookSubscription.url,
                       WebhookSubscription.max_attempts)
             .join(WebhookSubscription, WebhookSubscription.id == Delivery.subscription_id)
             .where(WebhookSubscription.active, _due(now))
             .order_by(Delivery.next_attempt_at).limit(settings.batch)
             .with_for_update(skip_locked=True, of=Delivery))
    rows = session.execute(query).all()
    # A lease that ran out on a last attempt: that attempt was made (or lost with its
    # worker), so the delivery is out of tries.
    spent = [row.id for row in rows if row.attempts >= row.max_attempts]
    held = [row for row in rows if row.attempts < row.max_attempts]
    _set(session, spent, status="dead", lease_until=None, last_error="lease_expired")
    _set(session, [row.id for row in held], status="sending", attempts=Delivery.attempts + 1,
         lease_until=lease_until, claimed_by=worker)
    return [Claimed(row.id, row.subscription_id, row.url, row.event, body_of(row.payload),
                    row.attempts + 1, row.max_attempts, lease_until,
                    signing.secret(settings.master_key, row.subscription_id))
            for row in held]


def _set(session: Session, ids: list[uuid.UUID], **values) -> None:
    if ids:
        session.execute(sa.update(Delivery).where(Delivery.id.in_(ids))
                        .values(version=Delivery.version + 1, **values)
                        .execution_options(synchronize_session=False))


def post(http: requests.Session, item: Claimed, timeout: float) -> Outcome:
    """One signed POST. Redirects are not followed: the subscription names the URL."""
    timestamp = int(time.time())
    headers = signing.headers(item.secret, item.event, item.id, item.body, timestamp)
    started = time.monotonic()
    code, error = None, None
    try:
        with http.post(item.url, data=item.body, headers=headers, timeout=timeout,
                       allow_redirects=False, stream=True) as response:
            code = response.status_code
    except requests.Timeout:
        error = "timeout"
    except requests.ConnectionError:
        error = "connection_error"
    except (requests.RequestException, ValueError) as failure:  # a URL requests refuses
        error = type(failure).__name__[:60]
    if code is not None and not 200 <= code < 300:
        error = f"http_{code}"
    return Outcome(code, error, round((time.monotonic() - started) * 1000))


def _held(item: Claimed, worker: str) -> sa.ColumnElement[bool]:
    return sa.and_(Delivery.id == item.id, Delivery.status == "sending",
                   Delivery.claimed_by == worker, Delivery.lease_until == item.lease_until)


def finish(session: Session, worker: str, item: Claimed, outcome: Outcome,
           settings: Settings) -> str:
    """Record the attempt, and the delivery's next state if this worker still holds it:
    `delivered`, `pending` (retry after a backoff), `dead`; `lost` if the lease ran out
    and another worker took the delivery over."""
    now = utcnow()
    values = {"last_status_code": outcome.status_code, "last_error": outcome.error,
              "lease_until": None, "version": Delivery.version + 1}
    if outcome.delivered:
        values |= {"status": "delivered", "delivered_at": now}
    elif item.attempt >= item.max_attempts:
        values |= {"status": "dead"}
    else:
        values |= {"status": "pending", "next_attempt_at": now + backoff(item.attempt, settings)}
    updated = session.execute(sa.update(Delivery).where(_held(item, worker)).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    session.add(WebhookAttempt(delivery_id=item.id, subscription_id=item.subscription_id,
                               number=item.attempt, at=now, status_code=outcome.status_code,
                               error=outcome.error, duration_ms=outcome.duration_ms))
    if updated and outcome.delivered and item.event == "customer.erased":
        # The subscriber has the erasure: privacy settles its propagation record.
        signals.erasure_acknowledged.send(
            item.subscription_id, session=session,
            customer_id=uuid.UUID(json.loads(item.body)["id"]))
    session.commit()
    if not updated:
        log.warning("webhook delivery %s: lease lost before its outcome was recorded", item.id)
        return "lost"
    return values["status"]


def release(session: Session, worker: str, item: Claimed) -> None:
    """Give back a delivery there is no time left to send under this lease, uncounted."""
    session.execute(sa.update(Delivery).where(_held(item, worker))
                    .values(status="pending", attempts=Delivery.attempts - 1, lease_until=None,
                            version=Delivery.version + 1)
                    .execution_options(synchronize_session=False))
    session.commit()


def _time_left(item: Claimed) -> float:
    return (item.lease_until - utcnow()).total_seconds()


def deliver_once(session: Session, settings: Settings, worker: str,
                 http: requests.Session | None = None) -> Counter:
    """One pass: claim a batch, send each, record each. Counts outcomes by state."""
    claimed = claim(session, worker, settings)
    session.commit()
    results: Counter = Counter()
    own = http is None
    http = http or requests.Session()
    try:
        for item in claimed:
            # Connecting and reading may each take up to `timeout`.
            if _time_left(item) < 2 * settings.timeout + 1:
                release(session, worker, item)
                results["released"] += 1
                continue
            outcome = post(http, item, settings.timeout)
            results[finish(session, worker, item, outcome, settings)] += 1
    finally:
        if own:
            http.close()
    return results


def run(session: Session, settings: Settings, worker: str, *, interval: float,
        max_loops: int | None = None, stopping: Callable[[], bool] = lambda: False,
        report: Callable[[Counter], None] = lambda results: None) -> Counter:
    """Passes until `stopping()` or `max_loops`; waits `interval` after an idle pass."""
    totals: Counter = Counter()
    loops = 0
    with requests.Session() as http:
        while not stopping():
            results = deliver_once(session, settings, worker, http)
            totals.update(results)
            loops += 1
            if results:
                report(results)
            if max_loops is not None and loops >= max_loops:
                break
            if not results:
                _sleep(interval, stopping)
    return totals


def _sleep(seconds: float, stopping: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not stopping() and time.monotonic() < deadline:
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
