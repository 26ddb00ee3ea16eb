"""Marshmallow fields with the input rules every endpoint shares."""

from __future__ import annotations

from datetime import UTC

from marshmallow import ValidationError, fields, validate


class Text(fields.String):
    """A string with a length cap; NUL and other control characters are refused,
    since PostgreSQL cannot store NUL and they are never typed at a counter."""

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs):
        checks = [validate.Length(min=min_length, max=max_length)]
        if min_length:
            checks.append(validate.Regexp(r"\S", error="Must not be blank."))
        super().__init__(validate=checks, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
            raise ValidationError("Control characters are not allowed.")
        return text.strip()


def text_list(max_items: int = 20, max_length: int = 60) -> fields.List:
    return fields.List(Text(max_length=max_length, min_length=1),
                       validate=validate.Length(max=max_items), load_default=list)


class Timestamp(fields.DateTime):
    """Output time, always RFC 3339 in UTC, however it was given to us."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)
