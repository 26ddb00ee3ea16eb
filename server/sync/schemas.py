"""The sync wire contract (SYNC.md): push envelopes and results, pull pages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.core.fields import Text

ENTITIES = ("customer", "request", "note", "consent")
OPS = ("upsert", "delete", "append")
MAX_MUTATIONS = 1000


class PushBody(Schema):
    device_id = fields.UUID(required=True)
    # Each mutation is checked on its own (Mutation below): one bad one is rejected
    # in its result, never by failing the whole push.
    mutations = fields.List(fields.Raw(allow_none=True), required=True)


class Mutation(Schema):
    mutation_id = fields.UUID(required=True)
    entity = fields.Str(required=True, validate=validate.OneOf(ENTITIES))
    op = fields.Str(required=True, validate=validate.OneOf(OPS))
    id = fields.UUID(required=True)
    base_version = fields.Int(load_default=None, allow_none=True,
                              validate=validate.Range(0, 2**31 - 1))
    captured_at = fields.AwareDateTime(load_default=None, allow_none=True)
    captured_by = Text(max_length=32, load_default=None, allow_none=True)
    # Last: from here on, `fields` in this class body names this field, not the module.
    fields = fields.Dict(keys=fields.Str(), load_default=dict)


class MutationResult(Schema):
    mutation_id = fields.Raw(allow_none=True)
    status = fields.Str(validate=validate.OneOf(("applied", "duplicate", "conflict",
                                                 "rejected")))
    entity = fields.Str()
    id = fields.Raw(allow_none=True)
    version = fields.Int(allow_none=True)
    warnings = fields.List(fields.Dict())
    errors = fields.Dict()
    conflicts = fields.List(fields.Str())
    record = fields.Dict(allow_none=True)


class PushResponse(Schema):
    results = fields.List(fields.Nested(MutationResult))


class HoldBody(Schema):
    customer_ids = fields.List(fields.UUID(), required=True,
                               validate=validate.Length(min=1, max=100))


class HoldResponse(Schema):
    held = fields.Int()


class PullArgs(Schema):
    cursor = fields.Str(load_default=None, validate=validate.Length(max=100))
    limit = fields.Int(load_default=500, validate=validate.Range(1, 5000))


class PulledChange(Schema):
    entity = fields.Str()
    id = fields.UUID()
    op = fields.Str()
    version = fields.Int()
    reason = fields.Str(allow_none=True)
    record = fields.Dict()


class PullPage(Schema):
    changes = fields.List(fields.Nested(PulledChange))
    next_cursor = fields.Str()
    has_more = fields.Bool()
