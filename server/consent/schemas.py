"""What goes over the wire about notices and consent."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from server.consent.ledger import ACTIONS, ALL
from server.consent.purposes import PURPOSES
from server.core.fields import AwareTime, FullMatch, Text, Timestamp
from server.core.vocabulary import CHANNELS

CONSENT_CHANNELS = (*CHANNELS, ALL)
METHODS = ("associate_entry", "customer_on_tablet", "signed_link", "unsubscribe_link",
           "reply_stop", "phone_call", "letter", "head_office")
purpose_field = fields.Str(validate=validate.OneOf(tuple(PURPOSES)))


class NoticeCreate(Schema):
    key = fields.Str(required=True, validate=FullMatch(
        r"^[a-z0-9][a-z0-9_.-]{0,63}$", error="Lower-case letters, digits, '.', '_', '-'."))
    language = fields.Str(required=True, validate=FullMatch(
        r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="A language tag such as en or en-GB."))
    title = Text(required=True, min_length=1, max_length=200)
    text = Text(required=True, min_length=1, max_length=20_000)
    value_exchange = Text(required=True, min_length=1, max_length=2_000)
    purposes = fields.List(purpose_field, required=True,
                           validate=validate.Length(min=1, max=len(PURPOSES)))
    channels = fields.List(fields.Str(validate=validate.OneOf(CHANNELS)), required=True,
                           validate=validate.Length(min=1, max=len(CHANNELS)))
    requires_reconsent = fields.Bool(load_default=False)

    @validates("purposes", "channels")
    def _once_each(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("List each one once.")


class NoticeOut(Schema):
    id = fields.UUID()
    key = fields.Str()
    language = fields.Str()
    number = fields.Int()
    title = fields.Str()
    text = fields.Str()
    value_exchange = fields.Str()
    purposes = fields.List(fields.Str())
    channels = fields.List(fields.Str())
    requires_reconsent = fields.Bool()
    published_at = Timestamp()
    version = fields.Int()


class NoticeListArgs(Schema):
    key = fields.Str(validate=validate.Length(max=64))
    language = fields.Str(validate=validate.Length(max=12))


class NoticeList(Schema):
    items = fields.List(fields.Nested(NoticeOut))


class ConsentFields(Schema):
    purpose = fields.Str(required=True, validate=validate.OneOf(tuple(PURPOSES)))
    channel = fields.Str(required=True, validate=validate.OneOf(CONSENT_CHANNELS))
    action = fields.Str(required=True, validate=validate.OneOf(ACTIONS))
    notice_version_id = fields.UUID(load_default=None, allow_none=True)
    method = fields.Str(required=True, validate=validate.OneOf(METHODS))
    captured_by = Text(max_length=32, load_default=None, allow_none=True)
    captured_at = AwareTime(load_default=None, allow_none=True)
    expires_at = AwareTime(load_default=None, allow_none=True)


class ConsentCreate(ConsentFields):
    """A consent event: sync's `append`, or a POST under the customer."""

    id = fields.UUID()
    customer_id = fields.UUID(required=True)


class ConsentOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    purpose = fields.Str()
    channel = fields.Str()
    action = fields.Str()
    notice_version_id = fields.UUID(allow_none=True)
    method = fields.Str()
    store_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    captured_by = fields.Str(allow_none=True)
    captured_at = Timestamp(allow_none=True)
    received_at = Timestamp()
    expires_at = Timestamp(allow_none=True)
    version = fields.Int()


class ConsentSlot(Schema):
    purpose = fields.Str()
    channel = fields.Str()
    status = fields.Str(metadata={"description": "the action that speaks for this slot"})
    live = fields.Bool(metadata={"description": "a grant that has not expired or lapsed"})
    since = Timestamp()
    event_id = fields.UUID()
    notice_version_id = fields.UUID(allow_none=True)
    expires_at = Timestamp(allow_none=True)


class Sharing(Schema):
    tier = fields.Str()
    benefits = fields.List(fields.Str())
    unlock = fields.Dict(metadata={"description": "what sharing more would add, by tier"})
    rewards_asked_for = fields.List(fields.Str())


class ConsentSummary(Schema):
    customer_id = fields.UUID()
    state = fields.List(fields.Nested(ConsentSlot))
    events = fields.List(fields.Nested(ConsentOut))
    sharing = fields.Nested(Sharing)
