"""A request's status history as JSON text, as the CRM feed sends it with the request.

Written into the change log when the request's change commits (a request's history
only grows when its status changes, which is a new version and a new change), so a
feed page splices it in instead of looking up a page's worth of histories. Registered
with the log at app start (customer_requests.install, changelog.bodies.register). Each
step is written as text, oldest first, without a dict and an encoder per step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.uuid_text import among_ids, uuid_text
from server.customer_requests.models import CustomerRequest as R
from server.customer_requests.models import StatusChange as S


def text(steps: Iterable[Any]) -> str:
    """The JSON array of these steps (StatusChange objects, or rows with their columns),
    oldest first."""
    steps = list(steps)
    ordered = steps if len(steps) < 2 else sorted(
        steps, key=lambda s: (_get(s, "changed_at"), str(_get(s, "id"))))
    return "[" + ",".join(
        _step(_get(s, "from_status"), _get(s, "to_status"), _get(s, "reason"),
              _get(s, "changed_by"), _get(s, "changed_at")) for s in ordered) + "]"


def of_records(session: Session, records: list[Any]) -> dict[str, str]:
    """The histories of these requests being logged (ids as text): from the steps the
    session holds (a new or transitioned request's are loaded), or else read, all in
    one query."""
    found, unread = {}, []
    for record in records:
        if isinstance(record, R) and "steps" not in sa.inspect(record).unloaded:
            found[str(record.id)] = text(record.history)
        else:
            unread.append(str(record.id))
    return found | of_requests(session, unread)


def of_requests(session: Session, request_ids: Iterable[str]) -> dict[str, str]:
    """The histories of these requests (ids as text; see core.uuid_text), read from the
    database: for requests whose steps the session does not hold. The opening step comes
    from the request's own row (customer_requests.models.opening_step), first."""
    ids = list(request_ids)
    if not ids:
        return {}
    opened = (sa.select(uuid_text(R.id).label("request_id"), sa.literal(0).label("later"),
                        sa.null().label("from_status"), sa.literal("open").label("to_status"),
                        sa.null().label("reason"), R.captured_by.label("changed_by"),
                        R.created_at.label("changed_at"), sa.null().label("step_id"))
              .where(among_ids(session, R.id, ids)))
    later = (sa.select(uuid_text(S.request_id), sa.literal(1), S.from_status, S.to_status,
                       S.reason, S.changed_by, S.changed_at, S.id)
             .where(among_ids(session, S.request_id, ids)))
    both = sa.union_all(opened, later).subquery()
    query = sa.select(both).order_by(both.c.later, both.c.changed_at, both.c.step_id)
    found: dict[str, list[str]] = defaultdict(list)
    for request_id, _, *step, _ in session.connection().execute(query).all():
        found[request_id].append(_step(*step))
    return {request_id: "[" + ",".join(steps) + "]" for request_id, steps in found.items()}


def _get(step: Any, name: str) -> Any:
    return step[name] if isinstance(step, dict) else getattr(step, name)


def _step(before: str | None, after: str, reason: str | None, by: str | None,
          at: datetime) -> str:
    return (f'{{"from_status":{_string(before)},"to_status":{_string(after)},'
            f'"reason":{_string(reason)},"changed_by":{_string(by)},'
            f'"changed_at":"{at.isoformat()}"}}')


def _string(value: str | None) -> str:
    """A string as json.dumps writes it (ASCII, escaped), or null."""
    return "null" if value is None else encode_basestring_ascii(value)
