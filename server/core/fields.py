"""Marshmallow fields with the input rules every endpoint shares."""

from __future__ import annotations

import re
from datetime import UTC

from marshmallow import ValidationError, fields, validate

# Control characters but tab, newline and carriage return (one C-level scan: a push
# checks every text field of up to 1,000 mutations).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Text(fields.String):
    """A string with a length cap; NUL and other control characters are refused,
    since PostgreSQL cannot store NUL and they are never typed at a counter. Lone
    surrogates (JSON allows "\\ud800") are refused too: no database can store them."""

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs):
        checks = [validate.Length(min=min_length, max=max_length)]
        if min_length:
            checks.append(validate.Regexp(r"\S", error="Must not be blank."))
        super().__init__(validate=checks, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _CONTROL.search(text):
            raise ValidationError("Control characters are not allowed.")
        if not is_unicode(text):
            raise ValidationError("Not valid Unicode text.")
        return text.strip()


def is_unicode(text: str) -> bool:
    """False for a string holding lone surrogates, which cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_list(max_items: int = 20, max_length: int = 60) -> fields.List:
    return fields.List(Text(max_length=max_length, min_length=1),
                       validate=validate.Length(max=max_items), load_default=list)


class FullMatch(validate.Regexp):
    """A pattern the whole value must match. Python's `$` also matches before a final
    newline, so `^[A-Z]{2}$` alone lets "GB\\n" through to the database."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class WholeNumber(fields.Integer):
    """An integer; 1.5 is refused, where marshmallow would quietly round it down to 1."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class AwareTime(fields.AwareDateTime):
    """Input time with an offset, handed on in UTC. A time with no UTC equivalent
    (0001-01-01T00:00:00+14:00) is refused rather than overflowing at the database."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Out of range once converted to UTC.") from None


class Timestamp(fields.DateTime):
    """Output time, always RFC 3339 in UTC, however it was given to us."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)
