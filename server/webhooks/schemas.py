"""What goes over the wire about webhook subscriptions and deliveries."""

from __future__ import annotations

import requests
from marshmallow import Schema, ValidationError, fields, validate

from server.core.fields import Text, Timestamp
from server.core.paging import PageArgs
from server.webhooks.outbox import EVENTS, EVERY_EVENT
from server.webhooks.service import STATUSES

MAX_SEQ = 2**63 - 1  # the change log's BIGINT
URL_ERROR = "Give an absolute http or https URL."
_http_url = validate.URL(relative=False, schemes={"http", "https"}, require_tld=False,
                         error=URL_ERROR)


class WebhookUrl(Text):
    """Where deliveries are POSTed: an absolute http or https URL, at most 2,000
    characters, that the worker's HTTP library can send to."""

    def __init__(self, **kwargs):
        super().__init__(max_length=2000, min_length=1, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        url = super()._deserialize(value, attr, data, **kwargs)
        if any(character.isspace() for character in url):
            raise ValidationError(URL_ERROR)
        _http_url(url)
        try:
            requests.Request("POST", url).prepare()
        except (requests.RequestException, ValueError):  # e.g. a host IDNA cannot encode
            raise ValidationError(URL_ERROR) from None
        return url


class WebhookCreate(Schema):
    url = WebhookUrl(required=True)
    events = fields.List(
        fields.Str(validate=validate.OneOf((*EVENTS, EVERY_EVENT))), required=True,
        validate=validate.Length(1, len(EVENTS) + 1),
        metadata={"description": f'event types, or "{EVERY_EVENT}" for all of them'})
    max_attempts = fields.Int(strict=True, validate=validate.Range(1, 100),
                              metadata={"description": "tries before a delivery is dead "
                                                       "(default: the server's setting)"})


class WebhookOut(Schema):
    id = fields.UUID()
    url = fields.Str()
    events = fields.List(fields.Str())
    active = fields.Bool()
    max_attempts = fields.Int()
    created_at = Timestamp()
    deactivated_at = Timestamp(allow_none=True)
    version = fields.Int()


class WebhookCreated(WebhookOut):
    secret = fields.Str(metadata={"description": "the signing secret, shown this once"})


class WebhookListArgs(PageArgs):
    pass


class WebhookPage(Schema):
    items = fields.List(fields.Nested(WebhookOut))
    next = fields.Str(allow_none=True)


class AttemptOut(Schema):
    number = fields.Int()
    at = Timestamp()
    status_code = fields.Int(allow_none=True)
    error = fields.Str(allow_none=True)
    duration_ms = fields.Int()


class DeliveryOut(Schema):
    id = fields.UUID()
    seq = fields.Int()
    event = fields.Str()
    status = fields.Str()
    attempts = fields.Int()
    next_attempt_at = Timestamp()
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    payload = fields.Dict()
    log = fields.List(fields.Nested(AttemptOut))


class DeliveryListArgs(PageArgs):
    status = fields.Str(validate=validate.OneOf(STATUSES))


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    next = fields.Str(allow_none=True)


class ReplayBody(Schema):
    from_seq = fields.Int(strict=True, load_default=0, validate=validate.Range(0, MAX_SEQ))
    dead_only = fields.Bool(load_default=False)


class ReplayOut(Schema):
    requeued = fields.Int()
