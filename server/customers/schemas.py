"""What goes over the wire about a customer."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from server.core.fields import AwareTime, FullMatch, Text, Timestamp, text_list
from server.core.paging import PageArgs
from server.core.vocabulary import CHANNELS, valid_timezone

HH_MM = FullMatch(r"^([01]\d|2[0-3]):[0-5]\d$", error="A time as HH:MM, 24-hour.")


class QuietHours(Schema):
    start = fields.Str(required=True, validate=HH_MM)
    end = fields.Str(required=True, validate=HH_MM)
    timezone = fields.Str(required=True, validate=validate.Length(max=64))

    @validates("timezone")
    def _known_zone(self, value, **kwargs):
        if not valid_timezone(value):
            raise ValidationError("An IANA time zone, such as Europe/London.")


ISO_DATE = FullMatch(r"^\d{4}-\d{2}-\d{2}$", error="A date as YYYY-MM-DD.")


class Pause(Schema):
    """No offers from `from` until `until` (dates in the customer's time zone); service
    messages about their own requests still reach them."""

    from_ = fields.Str(required=True, data_key="from", attribute="from", validate=ISO_DATE)
    until = fields.Str(required=True, validate=ISO_DATE)

    @validates_schema
    def _in_order(self, data, **kwargs):
        try:
            start, end = (date.fromisoformat(data[k]) for k in ("from", "until"))
        except ValueError as error:
            raise ValidationError("Not a calendar date.", "until") from error
        if end <= start:
            raise ValidationError("Ends after it starts.", "until")


class MarketingCap(Schema):
    """At most `max` offers in `days` days, across every channel (the policy's own cap
    still applies when it is lower)."""

    max = fields.Int(required=True, strict=True, validate=validate.Range(0, 100))
    days = fields.Int(required=True, strict=True, validate=validate.Range(1, 365))


class Preferences(Schema):
    sizes = text_list(max_length=40)
    brands = text_list()
    colours = text_list(max_length=40)
    categories = text_list()
    preferred_channels = fields.List(fields.Str(validate=validate.OneOf(CHANNELS)),
                                     load_default=list, validate=validate.Length(max=5))
    quiet_hours = fields.Nested(QuietHours, allow_none=True, load_default=None)
    pause = fields.Nested(Pause, allow_none=True, load_default=None)
    marketing_cap = fields.Nested(MarketingCap, allow_none=True, load_default=None)
    rewards = text_list()

    @validates("preferred_channels")
    def _no_repeats(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("List each channel once, most preferred first.")


class PostalAddress(Schema):
    lines = fields.List(Text(max_length=120, min_length=1), required=True,
                        validate=validate.Length(min=1, max=4))
    city = Text(max_length=80, required=True, min_length=1)
    postcode = Text(max_length=20, load_default=None, allow_none=True)
    country = fields.Str(required=True, validate=FullMatch(r"^[A-Z]{2}$"))


class CustomerFields(Schema):
    given_name = Text(max_length=100, min_length=1)
    family_name = Text(max_length=100, allow_none=True)
    email = Text(max_length=254, allow_none=True)
    phone = Text(max_length=40, allow_none=True)
    postal_address = fields.Nested(PostalAddress, allow_none=True)
    preferences = fields.Nested(Preferences)
    captured_by = Text(max_length=32, allow_none=True)
    captured_at = AwareTime(allow_none=True)


class CustomerCreate(CustomerFields):
    id = fields.UUID()
    given_name = Text(max_length=100, min_length=1, required=True)
    home_store_id = fields.UUID(allow_none=True)


class CustomerUpdate(CustomerFields):
    """Only the fields sent are changed."""


class CustomerOut(Schema):
    id = fields.UUID()
    given_name = fields.Str()
    family_name = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)
    postal_address = fields.Dict(allow_none=True)
    preferences = fields.Dict()
    home_store_id = fields.UUID(allow_none=True)
    captured_by = fields.Str(allow_none=True)
    captured_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = fields.Int()


class CustomerLookupArgs(PageArgs):
    email = Text(max_length=254)
    phone = Text(max_length=40)
    phone_suffix = fields.Str(validate=FullMatch(r"^[0-9]{4,15}$", error="4 to 15 digits."))
    name = Text(max_length=100, min_length=1)


class CustomerPage(Schema):
    items = fields.List(fields.Nested(CustomerOut))
    next = fields.Str(allow_none=True)


class MergeArgs(Schema):
    into = fields.UUID(required=True, metadata={
        "description": "the record that stays: the customer is merged into it"})


class MergeOut(Schema):
    survivor = fields.Nested(CustomerOut)
    duplicate_id = fields.UUID()
    already = fields.Bool(metadata={"description": "merged into it before: nothing done"})
    requests = fields.Int(metadata={"description": "requests moved to the survivor"})
    notes = fields.Int(metadata={"description": "notes moved to the survivor"})
    refusals = fields.Int(metadata={"description": "refusals recorded for the survivor"})
    filled = fields.List(fields.Str(), metadata={
        "description": "the survivor's empty fields filled from the duplicate"})
