"""Capturing at the counter, with or without a network.

Each capture is queued in the outbox and shown at once. Only what the tablet can
tell for certain is checked here — the record is on this tablet, required fields
are given, a value is one of a fixed list; the server's rules decide the rest,
and what they reject waits in "needs attention" with the server's reasons.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from client import outbox
from client.errors import CaptureRefused
from client.store import LocalStore

REQUEST_TYPES = ("back_in_stock", "special_order", "hold", "alteration", "appointment",
                 "call_back", "other")
REQUEST_STATUSES = ("open", "in_progress", "ready", "fulfilled", "cancelled", "expired")
CUSTOMER_FIELDS = frozenset({"given_name", "family_name", "email", "phone", "postal_address",
                             "preferences"})
REQUEST_FIELDS = frozenset({"type", "sku", "description", "size", "colour", "category",
                            "quantity", "due_date", "notify_channels"})
CONSENT_CHANNELS = ("email", "sms", "post", "phone", "push", "all")
CONSENT_ACTIONS = ("grant", "withdraw", "deny", "object")
PURPOSE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class Captured:
    record_id: str
    mutation_id: str


def _wire(fields: dict[str, Any]) -> dict[str, Any]:
    """Dates as the wire writes them."""
    return {name: value.isoformat() if isinstance(value, date) else value
            for name, value in fields.items()}


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields the associate filled in, for a new record."""
    return _wire({name: value for name, value in fields.items() if value is not None})


def _refuse_unless(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise CaptureRefused({field: [message]})


class Capture:
    """What an associate records on this tablet. `associate` is their code, sent as
    `captured_by` with every mutation."""

    def __init__(self, store: LocalStore, associate: str | None = None) -> None:
        self.store = store
        self.associate = associate

    def _queue(self, entity: str, op: str, record_id: str, fields: dict[str, Any]) -> Captured:
        mutation_id = outbox.capture(self.store, entity, op, record_id, fields, self.associate)
        return Captured(record_id, mutation_id)

    def _existing(self, entity: str, record_id: str, field: str = "id") -> dict[str, Any]:
        shown = self.store.shown(entity, record_id)
        _refuse_unless(shown is not None, field, f"No {entity} {record_id} on this tablet.")
        return shown

    def _known_fields(self, changes: dict[str, Any], allowed: frozenset[str]) -> None:
        _refuse_unless(bool(changes), "fields", "Nothing to change.")
        unknown = sorted(set(changes) - allowed)
        _refuse_unless(not unknown, unknown[0] if unknown else "fields", "Not a field here.")

    # -- customers ---------------------------------------------------------------------

    def customer(self, given_name: str, **fields: Any) -> Captured:
        _refuse_unless(bool(given_name and given_name.strip()), "given_name", "Required.")
        self._known_fields(fields | {"given_name": given_name}, CUSTOMER_FIELDS)
        return self._queue("customer", "upsert", str(uuid.uuid4()),
                           _given({"given_name": given_name} | fields))

    def edit_customer(self, customer_id: str, **changes: Any) -> Captured:
        self._existing("customer", customer_id)
        self._known_fields(changes, CUSTOMER_FIELDS)
        return self._queue("customer", "upsert", customer_id, _wire(changes))

    # -- requests ----------------------------------------------------------------------

    def request(self, customer_id: str, type: str, **fields: Any) -> Captured:
        self._existing("customer", customer_id, "customer_id")
        _refuse_unless(type in REQUEST_TYPES, "type", f"One of: {', '.join(REQUEST_TYPES)}.")
        _refuse_unless(bool(fields.get("sku") or fields.get("description")), "description",
                       "Give a sku or a description of what was asked for.")
        self._known_fields(fields, REQUEST_FIELDS)
        return self._queue("request", "upsert", str(uuid.uuid4()),
                           _given({"customer_id": customer_id, "type": type} | fields))

    def edit_request(self, request_id: str, **changes: Any) -> Captured:
        self._existing("request", request_id)
        self._known_fields(changes, REQUEST_FIELDS)
        return self._queue("request", "upsert", request_id, _wire(changes))

    def request_status(self, request_id: str, status: str, reason: str | None = None) -> Captured:
        """A step in the request's lifecycle; closing steps need a reason code."""
        self._existing("request", request_id)
        _refuse_unless(status in REQUEST_STATUSES, "status",
                       f"One of: {', '.join(REQUEST_STATUSES)}.")
        return self._queue("request", "upsert", request_id, {"status": status, "reason": reason})

    # -- notes -------------------------------------------------------------------------

    def note(self, customer_id: str, body: str, request_id: str | None = None) -> Captured:
        self._existing("customer", customer_id, "customer_id")
        if request_id:
            self._existing("request", request_id, "request_id")
        _refuse_unless(bool(body and body.strip()), "body", "Required.")
        return self._queue("note", "upsert", str(uuid.uuid4()), _given(
            {"customer_id": customer_id, "request_id": request_id, "body": body}))

    def edit_note(self, note_id: str, body: str) -> Captured:
        self._existing("note", note_id)
        _refuse_unless(bool(body and body.strip()), "body", "Required.")
        return self._queue("note", "upsert", note_id, {"body": body})

    def delete_note(self, note_id: str) -> Captured:
        self._existing("note", note_id)
        return self._queue("note", "delete", note_id, {})

    # -- consent -----------------------------------------------------------------------

    def consent(self, customer_id: str, purpose: str, channel: str, action: str, *,
                method: str, notice_version_id: str | None = None,
                expires_at: str | None = None) -> Captured:
        """An append-only consent event: what the customer said, and which notice
        version they were shown (required to grant: consent is to something read)."""
        self._existing("customer", customer_id, "customer_id")
        _refuse_unless(bool(PURPOSE.fullmatch(purpose)), "purpose",
                       "A dotted key such as marketing.newsletter.")
        _refuse_unless(channel in CONSENT_CHANNELS, "channel",
                       f"One of: {', '.join(CONSENT_CHANNELS)}.")
        _refuse_unless(action in CONSENT_ACTIONS, "action",
                       f"One of: {', '.join(CONSENT_ACTIONS)}.")
        _refuse_unless(action != "grant" or bool(notice_version_id), "notice_version_id",
                       "A grant names the notice version the customer was shown.")
        _refuse_unless(bool(method), "method", "Required.")
        return self._queue("consent", "append", str(uuid.uuid4()), _given({
            "customer_id": customer_id, "purpose": purpose, "channel": channel,
            "action": action, "notice_version_id": notice_version_id, "method": method,
            "expires_at": expires_at}))
