from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.core.fields import Text


class StoreOut(Schema):
    id = fields.UUID()
    code = fields.Str()
    name = fields.Str()
    country = fields.Str()
    timezone = fields.Str()
    region = fields.Str(allow_none=True)


class StoreCreate(Schema):
    code = Text(max_length=32, min_length=1, required=True)
    name = Text(max_length=120, min_length=1, required=True)
    country = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    timezone = Text(max_length=64, required=True)
    region = Text(max_length=64, allow_none=True, load_default=None)


class StoreList(Schema):
    items = fields.List(fields.Nested(StoreOut))


class MeOut(Schema):
    scope = fields.Str()
    label = fields.Str()
    store = fields.Nested(StoreOut, allow_none=True)
    device_id = fields.UUID(allow_none=True)
