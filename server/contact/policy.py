"""The contact policy: may we contact this customer, for this purpose, on this channel, now?

Pure: every fact comes in a `Subject` (see contact.subject for loading one), so the
rules are tested as tables. A decision lists **every** reason that applies, not the
first; each names its code and where it came from (an event, a setting, a request,
a contact already made). Reasons that only defer (quiet hours, a pause, the cap)
give `next_allowed_at`; a reason that no waiting lifts leaves it empty.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.consent import ledger, purposes
from server.core.vocabulary import CHANNELS
from server.customer_requests import lifecycle

DEFAULT_CAP = (4, 30)  # promotional contacts per days, across every channel
TIMING = frozenset({"quiet_hours", "paused", "frequency_cap"})
# What a message on this channel must carry when it is promotional.
OPT_OUT = {"email": "include_unsubscribe_link", "sms": "include_stop_instructions",
           "push": "include_opt_out", "phone": "offer_opt_out_on_the_call",
           "post": "include_opt_out_address"}
NEEDS_GRANT = frozenset({"email", "sms", "push", "phone"})  # post: allowed unless opted out


@dataclass(frozen=True)
class ConsentFact:
    """One consent event, as the policy needs it (see consent.ledger.Event)."""

    id: uuid.UUID
    ordinal: int
    purpose: str
    channel: str
    action: str
    received_at: datetime
    captured_at: datetime | None = None
    expires_at: datetime | None = None
    lapsed: bool = False  # its notice was replaced by a version that asks again


@dataclass(frozen=True)
class RequestFact:
    id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class ContactFact:
    id: uuid.UUID
    channel: str
    purpose: str
    topic: str | None
    at: datetime


@dataclass
class Subject:
    customer_id: uuid.UUID
    erased: bool = False
    restricted: bool = False
    contact_points: dict[str, bool] = field(default_factory=dict)  # channel → has one
    suppressions: dict[str, uuid.UUID] = field(default_factory=dict)  # channel → entry
    consents: list[ConsentFact] = field(default_factory=list)
    preferences: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"  # the customer's (their quiet hours', else their store's)
    contacts: list[ContactFact] = field(default_factory=list)
    requests: dict[uuid.UUID, RequestFact] = field(default_factory=dict)
    sensitive_notes: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class Context:
    request_id: uuid.UUID | None = None
    topic: str | None = None  # the dedupe key: the same topic is never sent twice
    based_on_notes: tuple[uuid.UUID, ...] = ()  # data used to choose this customer


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    blocking: bool
    source: dict[str, Any] = field(default_factory=dict)
    until: datetime | None = None  # a deferring reason: when it stops applying


@dataclass
class Decision:
    purpose: str
    channel: str
    allowed: bool
    reasons: list[Reason]
    obligations: list[str]
    next_allowed_at: datetime | None


OPEN_STATUSES = frozenset(lifecycle.OPEN)


def decide(subject: Subject, purpose: str, channel: str, now: datetime,
           context: Context = Context()) -> Decision:
    reasons = _reasons(subject, purpose, channel, now, context)
    blocking = [r for r in reasons if r.blocking]
    return Decision(purpose, channel, not blocking, reasons,
                    _obligations(purpose, channel) if not blocking else [],
                    _next_allowed(subject, purpose, channel, now, context, blocking))


def options(subject: Subject, purpose: str, now: datetime,
            context: Context = Context()) -> list[Decision]:
    """Every channel's decision, the allowed ones first in the customer's order of
    preference (for a request: the channels chosen for it, in that order)."""
    request = subject.requests.get(context.request_id) if context.request_id else None
    preferred = list(request.channels if request and purposes.is_service(purpose) else ())
    preferred += [c for c in subject.preferences.get("preferred_channels") or ()
                  if c not in preferred]
    rank = {c: i for i, c in enumerate(preferred + [c for c in CHANNELS if c not in preferred])}
    decisions = [decide(subject, purpose, c, now, context) for c in CHANNELS]
    return sorted(decisions, key=lambda d: (not d.allowed, rank[d.channel]))


# -- the rules ----------------------------------------------------------------------------

def _reasons(subject, purpose, channel, now, context) -> list[Reason]:
    found = _standing(subject, channel)
    if purposes.is_service(purpose):
        found += _service(subject, purpose, channel, context)
    else:
        found += _promotional(subject, purpose, channel, now, context)
    found += _timing(subject, purpose, channel, now)
    found += _repeat(subject, context)
    return found


def _standing(subject: Subject, channel: str) -> list[Reason]:
    found = []
    if subject.erased:
        found.append(Reason("erased", "The customer's data was erased.", True))
    if subject.restricted:
        found.append(Reason("restricted", "Processing of this customer is restricted.", True))
    if not subject.contact_points.get(channel):
        found.append(Reason("no_contact_point", f"No usable {channel} contact point.", True,
                            {"setting": f"customer.{_contact_field(channel)}"}))
    if channel in subject.suppressions:
        found.append(Reason("suppressed", f"The {channel} contact point is on the "
                            "suppression list.", True,
                            {"suppression_id": str(subject.suppressions[channel])}))
    return found


def _contact_field(channel: str) -> str:
    return {"email": "email", "sms": "phone", "phone": "phone", "post": "postal_address",
            "push": "push_token"}[channel]


def _service(subject, purpose, channel, context) -> list[Reason]:
    """Service contact: only about the customer's own open request, on its channels."""
    request = subject.requests.get(context.request_id) if context.request_id else None
    if request is None or request.customer_id != subject.customer_id:
        return [Reason("no_request", "Service messages are about one of the customer's "
                       "own requests: name it.", True,
                       {"request_id": str(context.request_id)} if context.request_id else {})]
    found = []
    source = {"request_id": str(request.id)}
    if request.status not in OPEN_STATUSES:
        found.append(Reason("request_closed", f"The request is {request.status}.", True,
                            source))
    if channel in request.channels:
        found.append(Reason("chosen_for_request", f"The customer chose {channel} for "
                            "this request.", False, source))
    else:
        chosen = ", ".join(request.channels) or "none"
        found.append(Reason("channel_not_chosen", f"The customer chose {chosen} for this "
                            "request.", True, source))
    effective = _effective(subject.consents, purpose, channel)
    if effective is not None and effective.action in ledger.REFUSALS:
        found.append(_refusal(effective, purpose, channel))
    return found


def _promotional(subject, purpose, channel, now, context) -> list[Reason]:
    found = []
    sensitive = [n for n in context.based_on_notes if n in subject.sensitive_notes]
    if sensitive:
        found.append(Reason("sensitive_data", "Chosen using a note flagged sensitive: "
                            "never for marketing.", True,
                            {"note_ids": [str(n) for n in sensitive]}))
    effective = _effective(subject.consents, purpose, channel)
    if effective is None:
        if channel in NEEDS_GRANT:
            found.append(Reason("no_grant", f"No grant of {purpose} on {channel}.", True))
        else:
            found.append(Reason("no_opt_out", f"Post is allowed for {purpose} unless the "
                                "customer opted out.", False))
    elif effective.action == "grant":
        found.append(_grant_reason(effective, purpose, channel, now))
    else:
        found.append(_refusal(effective, purpose, channel))
    found += _cross_channel(subject.consents, purpose, channel, effective)
    return found


def _effective(consents: list[ConsentFact], purpose: str, channel: str) -> ConsentFact | None:
    """The event that speaks for `purpose` on `channel`: of the events about it or a
    parent purpose, on this channel or on all, the one the ledger puts last."""
    relevant = [e for e in consents if purposes.covers(e.purpose, purpose)
                and e.channel in (channel, ledger.ALL)]
    state = ledger.fold(relevant)
    winner = None
    for event in sorted(state.values(), key=lambda e: e.ordinal):
        if winner is None or ledger.supersedes(event, winner):
            winner = event
    return winner


def _grant_reason(grant: ConsentFact, purpose: str, channel: str, now: datetime) -> Reason:
    source = {"event_id": str(grant.id)}
    if ledger.grant_counts(grant, now, grant.lapsed):
        return Reason("granted", f"Granted {grant.purpose} on {grant.channel}.", False, source)
    if grant.lapsed:
        return Reason("reconsent_required", "The notice this grant cites was replaced by a "
                      "version that asks again.", True, source)
    return Reason("grant_expired", f"The grant expired at {grant.expires_at}.", True, source)


def _refusal(event: ConsentFact, purpose: str, channel: str) -> Reason:
    code = {"withdraw": "withdrawn", "deny": "denied", "object": "objected"}[event.action]
    return Reason(code, f"The customer {code} {event.purpose} on {event.channel}.", True,
                  {"event_id": str(event.id)})


def _cross_channel(consents, purpose, channel, effective) -> list[Reason]:
    """A withdrawal or objection of the purpose (or a parent) on any other channel blocks
    this channel too, unless this channel has its own grant made after it."""
    found = []
    for event in consents:
        if (event.action not in ("withdraw", "object") or event.channel in (channel, ledger.ALL)
                or not purposes.covers(event.purpose, purpose)):
            continue
        regranted = (effective is not None and effective.action == "grant"
                     and ledger.supersedes(effective, event))
        if not regranted:
            code = "objected_elsewhere" if event.action == "object" else "withdrawn_elsewhere"
            found.append(Reason(code, f"{event.purpose} was refused on {event.channel}, and "
                                f"{channel} has no grant made since.", True,
                                {"event_id": str(event.id)}))
    return found


def _timing(subject, purpose, channel, now) -> list[Reason]:
    found = []
    zone = ZoneInfo(subject.timezone)
    pause = subject.preferences.get("pause")
    if pause and not purposes.is_service(purpose):
        start, end = (datetime.combine(date.fromisoformat(pause[k]), time(), zone)
                      for k in ("from", "until"))
        if start <= now < end:
            found.append(Reason("paused", f"The customer paused offers until {pause['until']}.",
                                True, {"setting": "preferences.pause"}, end))
    quiet = subject.preferences.get("quiet_hours")
    if quiet and channel != "post":
        end = _quiet_until(quiet, now)
        if end is not None:
            found.append(Reason("quiet_hours", f"Quiet hours {quiet['start']}–{quiet['end']} "
                                f"({quiet['timezone']}).", True,
                                {"setting": "preferences.quiet_hours"}, end))
    if purposes.is_promotional(purpose):
        found += _cap(subject, now)
    return found


def _quiet_until(quiet: dict[str, str], now: datetime) -> datetime | None:
    """When the quiet hours that `now` falls in end (None: not in them). Local wall-clock
    times in the customer's zone, so DST moves them with the clocks."""
    zone = ZoneInfo(quiet["timezone"])
    local = now.astimezone(zone)
    start, end = (time.fromisoformat(quiet[k]) for k in ("start", "end"))
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if overnight and clock >= start else local.date()
    return _wall_clock(day, end, zone)


def _wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`; a time the clocks skip (DST gap) moves to just after it."""
    moment = datetime.combine(day, at, zone)
    roundtrip = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return moment if roundtrip.replace(tzinfo=None) == moment.replace(tzinfo=None) \
        else roundtrip


def _cap(subject: Subject, now: datetime) -> list[Reason]:
    cap = subject.preferences.get("marketing_cap") or {}
    limit, days = DEFAULT_CAP
    if cap:
        limit, days = min(limit, cap["max"]), max(days, cap["days"])
    window = now - timedelta(days=days)
    counted = sorted(c.at for c in subject.contacts
                     if purposes.is_promotional(c.purpose) and c.at > window)
    if len(counted) < limit:
        return []
    until = counted[len(counted) - limit] + timedelta(days=days)
    source = {"setting": "preferences.marketing_cap" if cap else "policy.default_cap"}
    return [Reason("frequency_cap", f"{len(counted)} promotional contacts in {days} days "
                   f"(at most {limit}).", True, source, until)]


def _repeat(subject: Subject, context: Context) -> list[Reason]:
    if not context.topic:
        return []
    return [Reason("already_contacted", f"Contacted about {context.topic!r} already "
                   f"(by {c.channel}).", True, {"contact_id": str(c.id)})
            for c in subject.contacts if c.topic == context.topic][:1]


def _obligations(purpose: str, channel: str) -> list[str]:
    if purposes.is_service(purpose):
        return ["no_promotional_content"]
    return ["identify_the_sender", OPT_OUT[channel]]


def _next_allowed(subject, purpose, channel, now, context, blocking) -> datetime | None:
    """When waiting alone would allow it: past every deferring reason, re-checked."""
    if not blocking or any(r.code not in TIMING for r in blocking):
        return None
    moment = now
    for _ in range(10):  # quiet hours after a pause after a cap…: bounded
        moment = max(r.until for r in blocking)
        blocking = [r for r in _reasons(subject, purpose, channel, moment, context)
                    if r.blocking]
        if not blocking:
            return moment
        if any(r.code not in TIMING for r in blocking):
            return None
    return None
