from __future__ import annotations

from marshmallow import Schema, fields

from server.core.fields import AwareTime, Text, Timestamp
from server.core.paging import PageArgs

MAX_NOTE = 2000


class NoteCreate(Schema):
    id = fields.UUID()
    customer_id = fields.UUID(required=True)
    request_id = fields.UUID(allow_none=True)
    body = Text(max_length=MAX_NOTE, min_length=1, required=True)
    captured_by = Text(max_length=32, allow_none=True)
    captured_at = AwareTime(allow_none=True)


class NoteUpdate(Schema):
    body = Text(max_length=MAX_NOTE, min_length=1, required=True)


class WarningOut(Schema):
    code = fields.Str()
    message = fields.Str()
    categories = fields.List(fields.Str())


class NoteOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    request_id = fields.UUID(allow_none=True)
    store_id = fields.UUID()
    body = fields.Str()
    sensitive = fields.Bool()
    sensitive_categories = fields.List(fields.Str())
    captured_by = fields.Str(allow_none=True)
    captured_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = fields.Int()
    warnings = fields.List(fields.Nested(WarningOut), dump_default=list)


class NoteListArgs(PageArgs):
    customer_id = fields.UUID()
    request_id = fields.UUID()


class NotePage(Schema):
    items = fields.List(fields.Nested(NoteOut))
    next = fields.Str(allow_none=True)
