"""The CRM feed: every store's changes in commit order, reduced to what the CRM may hold.

It reads the same change log as a device's pull (same cursor, same never-miss
guarantee, same snapshot and 410 rules), through the stream of records that
belong to no store's copy: customers and consent events as logged once for
everyone, requests and notes as logged for their store. Each record is then cut
down to the CRM's view at read time, because what the CRM may hold depends on
the customer's consent *now*:

- a customer's contact points only on channels where some purpose allows contact:
  a live grant on that channel (or on all), or an open request of theirs that chose
  that channel; nothing else of theirs is withheld;
- consent as the customer's current state per purpose and channel, with the notice
  version each slot cites (entity `consent_state`, id = the customer's id); each
  consent change also re-sends the customer, whose contact points may have changed;
- requests with their status history;
- never a note flagged sensitive: it arrives as a delete (`reason: "withheld"`), so a
  note that became sensitive after an edit is removed from the CRM too.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog.models import PER_CUSTOMER, PER_STORE, Change
from server.consent import service as consent
from server.consent.models import ConsentEvent, ConsentState, Notice
from server.core import alongside, driver
from server.core.actor import Actor
from server.core.types import utcnow
from server.core.uuid_text import among_ids, id_array, id_table, uuid_text
from server.customer_requests import history
from server.feed import contact
from server.sync.pull import Logged, change_json, read, stream

CONTACT_FIELDS = {"email": ("email",), "phone": ("sms", "phone"), "postal_address": ("post",)}


def _in_feed(change) -> sa.ColumnElement:
    return sa.or_(sa.and_(change.entity.in_(_names(PER_CUSTOMER)), change.store_id.is_(None)),
                  change.entity.in_(_names(PER_STORE)))


def _names(entities) -> list[sa.ColumnElement]:
    return [driver.constant(entity) for entity in sorted(entities)]


@functools.cache
def _stream() -> sa.Select:
    customer = sa.and_(Change.entity == driver.constant("customer"),
                       Change.op == driver.constant("upsert"))
    return stream(_in_feed(Change), history=True,
                  contact=sa.case((customer, contact.column(Change.record_id))))


@dataclass
class FeedPage:
    """A page read from the log. Where it ends is known at once (`next_cursor`,
    `has_more`: an answer's headers); its changes are written when first asked for
    (`items`, `chunks`), each as JSON text (a page is spliced, not re-serialised), and
    only once its read is logged (`logged`)."""

    next_cursor: str
    has_more: bool
    customer_ids: set[str]  # whose data (ids as text)
    rows: list[Logged] = field(repr=False)
    write: Callable[[list[Logged]], list[str]] = field(repr=False)
    logged: Future | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        return not self.rows  # every row read gives the CRM at least one change

    @functools.cached_property
    def items(self) -> list[str]:
        items = self.write(self.rows)
        if self.logged:
            self.logged.result()  # raises the log's error: then nothing is answered
        return items

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.items]

    def chunks(self) -> Iterator[bytes]:
        """The page's JSON in two pieces: the opening at once, so that an answer streamed
        from these sends its headers (the next page's Link) before the changes are
        written, then the rest."""
        try:
            yield b'{"changes":['
            yield (f'{",".join(self.items)}],"next_cursor":"{self.next_cursor}",'
                   f'"has_more":{"true" if self.has_more else "false"}}}').encode()
        finally:  # a client gone after the headers: the log write still ends in time
            if self.logged:
                self.logged.exception()

    def to_json(self) -> str:
        return b"".join(self.chunks()).decode()


def feed(session: Session, actor: Actor, token: str | None, limit: int,
         log: bool = False) -> FeedPage:
    """The next page after `token`, its changes written when asked for. `log`: the
    page's read is logged in the access log, alongside (core.alongside) while the page
    is written, and done before its changes are handed over."""
    now = utcnow()  # one time for the whole page: what counts now is asked in SQL
    rows, next_cursor, has_more = read(session, _stream(), token, limit, now=now)
    customer_ids = {r.customer_id for r in rows} - {None}
    engine = session.get_bind()
    logged = alongside.start(engine, access_log.read_on, engine, actor, "read", "crm feed",
                             customer_ids) if log and customer_ids else None
    return FeedPage(next_cursor, has_more, customer_ids, rows,
                    functools.partial(_crm_view, session, now=now), logged)


# -- the CRM's view of a page ---------------------------------------------------------------
# Ids are text throughout (uuid_text): a page names ~1,000 records and ~500 customers.

class _Slot(NamedTuple):
    customer_id: str
    purpose: str
    channel: str
    action: str
    received_at: datetime
    expires_at: datetime | None
    notice_id: uuid.UUID | None
    notice_key: str | None
    notice_language: str | None
    notice_number: int | None
    ordinal: int
    live: bool  # the grant counts now (consent.counts_now)


def _crm_view(session: Session, rows: list[Logged], now: datetime) -> list[str]:
    # A consent change stands for its customer's whole consent state, and their record.
    # A customer's row names the channels they may be contacted on (feed.contact).
    consent_at = {r.customer_id: r.seq for r in rows if r.entity == "consent"}
    slots = _slots(session, set(consent_at), now)
    resent = _customer_bodies(session, now, set(consent_at) - {
        r.record_id for r in rows if r.entity == "customer"})
    # Logged with the request since the history column exists; read for older changes.
    histories = history.of_requests(session, [r.record_id for r in rows if r.entity == "request"
                                              and r.op != "delete" and r.history is None])
    states = _consent_states(consent_at, slots)
    out = []
    for row in rows:
        if row.entity == "consent":
            if consent_at.get(row.customer_id) != row.seq:
                continue  # the customer's later consent change in this page says it all
            out.append(states[row.customer_id])
            if row.customer_id in resent:
                version, body, channels = resent[row.customer_id]
                out.append(_customer(row.customer_id, version, body, channels))
        elif row.op == "delete":
            out.append(change_json(row.entity, row.record_id, "delete", row.version,
                                   row.reason, row.body))
        elif row.entity == "customer":
            out.append(_customer(row.record_id, row.version, orjson.loads(row.body),
                                 contact.channels(row.contact), row.reason))
        elif row.entity == "request":
            steps = row.history or histories.get(row.record_id, "[]")
            record = f'{row.body.rstrip()[:-1]},"history":{steps}}}'
            out.append(_upsert("request", row.record_id, row.version, record))
        elif orjson.loads(row.body).get("sensitive"):
            out.append(change_json("note", row.record_id, "delete", row.version, "withheld",
                                   None))
        else:
            out.append(_upsert("note", row.record_id, row.version, row.body))
    return out


def _upsert(entity: str, record_id, version: int, record_json: str,
            reason: str | None = None) -> str:
    because = f',"reason":"{reason}"' if reason else ""  # e.g. erasure_requested
    return (f'{{"entity":"{entity}","id":"{record_id}","op":"upsert","version":{version},'
            f'"record":{record_json}{because}}}')


def _customer(customer_id: str, version: int, record: dict[str, Any],
              allowed: frozenset[str], reason: str | None = None) -> str:
    for name, uses in CONTACT_FIELDS.items():
        if not allowed.intersection(uses):
            record[name] = None
    return _upsert("customer", customer_id, version, _text(record), reason)


def _text(record: Any) -> str:
    """JSON text of a record the feed rebuilt (a customer without some contact points, a
    consent state): orjson, as ~500 customers a page are parsed and written again, and
    the standard library's encoder is several times slower."""
    return orjson.dumps(record).decode()


def _slots(session: Session, customers: set[str], now: datetime) -> list[_Slot]:
    """The event speaking for each (purpose, channel) of these customers, with the notice
    version it cites."""
    if not customers:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.connection().execute(_slots_by_id(), {"ids": id_array(customers),
                                                             "now": now})
    else:
        rows = session.connection().execute(
            _slot_columns(sa.select(uuid_text(ConsentState.customer_id)))
            .where(among_ids(session, ConsentState.customer_id, customers)), {"now": now})
    return [_Slot(*row) for row in rows.all()]


def _slot_columns(select: sa.Select) -> sa.Select:
    return (select.add_columns(ConsentState.purpose, ConsentState.channel, ConsentEvent.action,
                               ConsentEvent.received_at, ConsentEvent.expires_at,
                               Notice.id.label("notice_id"), Notice.key, Notice.language,
                               Notice.number, ConsentEvent.ordinal,
                               consent.counts_now(ConsentEvent, contact.NOW).label("live"))
            .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
            .outerjoin(Notice, Notice.id == ConsentEvent.notice_version_id))


@functools.cache
def _slots_by_id() -> sa.Select:
    """PostgreSQL: the slots of each id of :ids (the text of a uuid[]), looked up id by
    id. Asked for ~500 ids at once, the planner chose to read all of consent_state and
    consent_events and hash them (a cost growing with the events) over ~500 index
    probes; a lateral subquery with OFFSET 0 (which keeps it from
    being merged into a join) probes the index for each id, linear in the page."""
    ids = id_table("ids", name="page_ids")
    slot = (_slot_columns(sa.select(ConsentState.customer_id))
            .where(ConsentState.customer_id == ids.c.id).offset(0).lateral("slot"))
    return sa.select(uuid_text(slot.c.customer_id), *list(slot.c)[1:]) \
        .select_from(ids).join(slot, sa.true())


def _consent_states(consent_at: dict[str, int], slots: list[_Slot]) -> dict[str, str]:
    if not consent_at:
        return {}
    states: dict[str, list[dict]] = defaultdict(list)
    versions: dict[str, int] = defaultdict(int)
    for slot in slots:
        if slot.customer_id not in consent_at:
            continue
        states[slot.customer_id].append({
            "purpose": slot.purpose, "channel": slot.channel, "status": slot.action,
            "live": slot.live, "since": slot.received_at.isoformat(),
            "expires_at": slot.expires_at.isoformat() if slot.expires_at else None,
            "notice": {"id": str(slot.notice_id), "key": slot.notice_key,
                       "language": slot.notice_language, "number": slot.notice_number}
            if slot.notice_id else None})
        versions[slot.customer_id] = max(versions[slot.customer_id], slot.ordinal)
    return {c: _upsert("consent_state", c, versions[c], _text(
                {"customer_id": c,
                 "state": sorted(states[c], key=lambda s: (s["purpose"], s["channel"]))}))
            for c in consent_at}


def _customer_bodies(session: Session, now: datetime, ids: set[str]) -> dict[str, tuple]:
    """Customers re-sent after a consent change: (version, body) as last logged, and the
    channels they may be contacted on now."""
    if not ids:
        return {}
    latest = (sa.select(Change.record_id, sa.func.max(Change.seq).label("seq"))
              .where(Change.entity == "customer", among_ids(session, Change.record_id, ids),
                     Change.store_id.is_(None))
              .group_by(Change.record_id).subquery())
    query = (sa.select(uuid_text(Change.record_id), Change.version, Change.op, Change.body,
                       contact.column(Change.record_id))
             .join(latest, sa.and_(Change.seq == latest.c.seq,
                                   Change.record_id == latest.c.record_id)))
    return {record_id: (version, dict(body), contact.channels(channels))
            for record_id, version, op, body, channels
            in session.execute(query, {"now": now}) if op != "delete"}
