"""What goes over the wire about contact decisions and follow-ups."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.consent.purposes import PURPOSES
from server.core.fields import Text, Timestamp
from server.core.paging import PageArgs
from server.core.vocabulary import CHANNELS

OUTCOMES = ("sent", "replied", "stop", "failed", "bounced")
STATUSES = ("pending", "claimed", "sent", "failed", "suppressed", "cancelled")


class ContactQuery(Schema):
    purpose = fields.Str(required=True, validate=validate.OneOf(tuple(PURPOSES)))
    request_id = fields.UUID(load_default=None)
    topic = Text(max_length=120, load_default=None)
    based_on_notes = fields.List(fields.UUID(), load_default=list,
                                 validate=validate.Length(max=50),
                                 metadata={"description": "notes used to choose this "
                                                          "customer (sensitive ones block "
                                                          "marketing)"})


class DecisionQuery(ContactQuery):
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))


class ReasonOut(Schema):
    code = fields.Str()
    message = fields.Str()
    blocking = fields.Bool()
    source = fields.Dict()
    until = Timestamp(allow_none=True)


class DecisionOut(Schema):
    purpose = fields.Str()
    channel = fields.Str()
    allowed = fields.Bool()
    reasons = fields.List(fields.Nested(ReasonOut))
    obligations = fields.List(fields.Str())
    next_allowed_at = Timestamp(allow_none=True)


class OptionsOut(Schema):
    purpose = fields.Str()
    best = fields.Str(allow_none=True)
    channels = fields.List(fields.Nested(DecisionOut))


class FollowUpCreate(Schema):
    customer_id = fields.UUID(required=True)
    purpose = fields.Str(required=True, validate=validate.OneOf(tuple(PURPOSES)))
    request_id = fields.UUID(load_default=None, allow_none=True)
    topic = Text(required=True, min_length=1, max_length=120)


class FollowUpOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    request_id = fields.UUID(allow_none=True)
    purpose = fields.Str()
    channel = fields.Str(allow_none=True)
    topic = fields.Str()
    trigger = fields.Str()
    status = fields.Str()
    reasons = fields.List(fields.Dict())
    obligations = fields.List(fields.Str())
    not_before = Timestamp()
    attempts = fields.Int()
    outcome = fields.Str(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = fields.Int()


class FollowUpListArgs(PageArgs):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    channel = fields.Str(validate=validate.OneOf(CHANNELS))
    customer_id = fields.UUID()
    request_id = fields.UUID()


class FollowUpPage(Schema):
    items = fields.List(fields.Nested(FollowUpOut))
    next = fields.Str(allow_none=True)


class ClaimBody(Schema):
    limit = fields.Int(load_default=10, strict=True, validate=validate.Range(1, 100))
    lease_seconds = fields.Int(load_default=300, strict=True,
                               validate=validate.Range(10, 3600))


class Recipient(Schema):
    given_name = fields.Str()
    address = fields.Raw(metadata={"description": "this channel's contact point only"})


class RequestSummary(Schema):
    id = fields.UUID()
    type = fields.Str()
    status = fields.Str()
    sku = fields.Str(allow_none=True)
    description = fields.Str(allow_none=True)
    size = fields.Str(allow_none=True)
    colour = fields.Str(allow_none=True)
    store_name = fields.Str()


class ClaimedTask(Schema):
    id = fields.UUID()
    claim_id = fields.UUID()
    lease_until = Timestamp()
    purpose = fields.Str()
    channel = fields.Str()
    topic = fields.Str()
    obligations = fields.List(fields.Str())
    recipient = fields.Nested(Recipient)
    request = fields.Nested(RequestSummary, allow_none=True)


class ClaimedTasks(Schema):
    items = fields.List(fields.Nested(ClaimedTask))


class OutcomeBody(Schema):
    claim_id = fields.UUID(required=True)
    outcome = fields.Str(required=True, validate=validate.OneOf(OUTCOMES))
    detail = Text(max_length=500, load_default=None, allow_none=True)


class OutcomeOut(Schema):
    id = fields.UUID()
    status = fields.Str()
    outcome = fields.Str(allow_none=True)
    attempts = fields.Int()
    not_before = Timestamp()
