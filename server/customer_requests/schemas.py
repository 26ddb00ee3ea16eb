"""What goes over the wire about a request."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.core.fields import AwareTime, Text, Timestamp, WholeNumber
from server.core.paging import PageArgs
from server.core.vocabulary import CHANNELS
from server.customer_requests.lifecycle import STATUSES, TYPES

channel_list = fields.List(fields.Str(validate=validate.OneOf(CHANNELS)),
                           validate=validate.Length(max=len(CHANNELS)))


class RequestFields(Schema):
    type = fields.Str(validate=validate.OneOf(TYPES))
    sku = Text(max_length=64, allow_none=True)
    description = Text(max_length=500, allow_none=True)
    size = Text(max_length=32, allow_none=True)
    colour = Text(max_length=40, allow_none=True)
    category = Text(max_length=40, allow_none=True)
    quantity = WholeNumber(validate=validate.Range(1, 999))
    due_date = fields.Date(allow_none=True)
    notify_channels = channel_list


class RequestCreate(RequestFields):
    id = fields.UUID()
    customer_id = fields.UUID(required=True)
    store_id = fields.UUID()
    type = fields.Str(required=True, validate=validate.OneOf(TYPES))
    captured_by = Text(max_length=32, allow_none=True)
    captured_at = AwareTime(allow_none=True)

    @validates_schema
    def _says_what(self, data, **kwargs):
        if not data.get("sku") and not data.get("description"):
            message = "Give a sku or a description of what was asked for."
            raise ValidationError({"sku": [message], "description": [message]})


class RequestUpdate(RequestFields):
    """Only the fields sent are changed; `status` goes through the lifecycle."""

    status = fields.Str(validate=validate.OneOf(STATUSES))
    reason = Text(max_length=40, allow_none=True)
    changed_by = Text(max_length=32, allow_none=True)


class RequestTransition(Schema):
    status = fields.Str(required=True, validate=validate.OneOf(STATUSES))
    reason = Text(max_length=40, allow_none=True, load_default=None)
    changed_by = Text(max_length=32, allow_none=True, load_default=None)


class StatusChangeOut(Schema):
    from_status = fields.Str(allow_none=True)
    to_status = fields.Str()
    reason = fields.Str(allow_none=True)
    changed_by = fields.Str(allow_none=True)
    changed_at = Timestamp()


class RequestOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    store_id = fields.UUID()
    type = fields.Str()
    status = fields.Str()
    status_reason = fields.Str(allow_none=True)
    sku = fields.Str(allow_none=True)
    description = fields.Str(allow_none=True)
    size = fields.Str(allow_none=True)
    colour = fields.Str(allow_none=True)
    category = fields.Str(allow_none=True)
    quantity = fields.Int()
    due_date = fields.Date(allow_none=True)
    notify_channels = fields.List(fields.Str())
    captured_by = fields.Str(allow_none=True)
    captured_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    closed_at = Timestamp(allow_none=True)
    version = fields.Int()
    history = fields.List(fields.Nested(StatusChangeOut))


class RequestListArgs(PageArgs):
    store_id = fields.UUID()
    customer_id = fields.UUID()
    status = fields.List(fields.Str(validate=validate.OneOf(STATUSES)))
    type = fields.List(fields.Str(validate=validate.OneOf(TYPES)))
    due_before = fields.Date()
    due_after = fields.Date()
    overdue = fields.Bool()


class RequestPage(Schema):
    items = fields.List(fields.Nested(RequestOut))
    next = fields.Str(allow_none=True)
