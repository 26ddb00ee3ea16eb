"""What the dashboard's forms and filters accept (query strings and form posts)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from server.core.fields import Text
from server.customer_requests.lifecycle import STATUSES, TYPES

SORTS = ("newest", "oldest", "due")
DUE = ("today", "overdue", "this_week", "none")


class ListFilters(Schema):
    """The request list's filters; the same ones drive the CSV export."""

    class Meta:
        unknown = EXCLUDE  # a bookmarked URL with an old parameter still opens

    store = Text(max_length=32, load_default=None)
    region = Text(max_length=64, load_default=None)
    type = fields.List(fields.Str(validate=validate.OneOf(TYPES)), load_default=list)
    status = fields.List(fields.Str(validate=validate.OneOf(STATUSES)), load_default=list)
    due = fields.Str(validate=validate.OneOf(DUE), load_default=None)
    min_age = fields.Int(validate=validate.Range(0, 3650), load_default=None)
    max_age = fields.Int(validate=validate.Range(0, 3650), load_default=None)
    associate = Text(max_length=32, load_default=None)
    q = Text(max_length=64, load_default=None)
    sort = fields.Str(validate=validate.OneOf(SORTS), load_default="newest")
    after = fields.Str(validate=validate.Length(max=400), load_default=None)


FILTER_NAMES = tuple(name for name in ListFilters().fields if name != "after")
WINDOWS = (4, 12, 26, 52)


class TodayArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    store = Text(max_length=32, load_default=None)


class ChartArgs(TodayArgs):
    weeks = fields.Int(validate=validate.OneOf(WINDOWS), load_default=12)


class StatusForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token travels with the form

    status = fields.Str(required=True, validate=validate.OneOf(STATUSES))
    reason = Text(max_length=40, load_default=None)
    version = fields.Int(required=True, validate=validate.Range(1, 2**31 - 1))


class LoginForm(Schema):
    class Meta:
        unknown = EXCLUDE

    email = Text(max_length=254, required=True)
    password = fields.Str(required=True, validate=validate.Length(1, 1024))
