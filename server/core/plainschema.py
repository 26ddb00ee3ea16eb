"""Flat marshmallow schemas, loaded and dumped without marshmallow's machinery.

A sync push of 500 captures spends more time in `Schema.load` and `Schema.dump`
than in the database: each call walks hooks, error stores and field wrappers that
a flat schema of strings, ids and dates never needs. `QuickLoad` and `QuickDump`
are built from a schema (its fields, limits and validators stay the one
description of the wire) and do only the per-field work, calling each field's own
conversion and validators.

`QuickLoad.load` returns exactly what `schema.load` would, or None when it is not
sure: for anything invalid, odd or unsupported the caller falls back to the schema,
so every error message stays the schema's. tests/sync/test_fast_path.py holds both
to that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing
from marshmallow.decorators import (
    POST_DUMP,
    POST_LOAD,
    PRE_DUMP,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)

from server.core.fields import AwareTime, Text, Timestamp, WholeNumber


class _Decline(Exception):
    """Not sure: let the schema decide."""


def _plain_string(field: fields.Field) -> bool:
    return type(field) is fields.String and field.data_key is None


def _as_string(field, name, value):
    if type(value) is not str:
        raise _Decline
    return value


def _as_uuid(field, name, value):
    if type(value) is uuid.UUID:
        return value  # as the field takes one
    if type(value) is not str:
        raise _Decline
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Decline from None


def _as_text(field, name, value):
    # Printable ASCII holds no control character and no lone surrogate: Text would only
    # strip it. Anything else goes through Text itself.
    if type(value) is str and value.isascii() and value.isprintable():
        return value.strip()
    return _own(field, name, value)


def _own(field, name, value):
    """The field's own conversion, without its wrapper (missing, None, error store)."""
    if type(value) not in (str, int):
        raise _Decline
    return field._deserialize(value, name, None)


def _as_list(field, name, value):
    if type(value) is not list or any(type(item) is not str for item in value):
        raise _Decline
    for item in value:
        for check in field.inner.validators:
            check(item)
    return list(value)


def _as_dict(field, name, value):
    if type(value) is not dict or any(type(key) is not str for key in value):
        raise _Decline
    return dict(value)


_CONVERSIONS: dict[type, Callable] = {
    fields.String: _as_string, Text: _as_text, fields.UUID: _as_uuid,
    fields.Integer: _own, WholeNumber: _own, fields.Date: _own,
    fields.AwareDateTime: _own, AwareTime: _own, fields.List: _as_list, fields.Dict: _as_dict,
}


def _conversion(field: fields.Field) -> Callable | None:
    kind = type(field)
    if kind is fields.List and not (_plain_string(field.inner) and not field.inner.allow_none):
        return None
    if kind is fields.Dict and not (field.value_field is None and _plain_string(field.key_field)
                                    and not field.key_field.validators):
        return None
    if field.data_key is not None or field.attribute is not None:
        return None
    return _CONVERSIONS.get(kind)


class QuickLoad:
    """`schema.load` for flat schemas of the common field types, or None (ask the schema)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        hooks = schema._hooks
        plan = [(name, field, _conversion(field)) for name, field in schema.load_fields.items()]
        self.usable = (schema.unknown == RAISE and not schema.many and not schema.partial
                       and not any(hooks[tag] for tag in (PRE_LOAD, POST_LOAD, VALIDATES))
                       and all(not many and not kw.get("pass_original")
                               for _, many, kw in hooks[VALIDATES_SCHEMA])
                       and all(convert is not None for _, _, convert in plan))
        self.plan = plan
        self.names = frozenset(schema.load_fields)
        self.validators = [getattr(schema, name) for name, _, _ in hooks[VALIDATES_SCHEMA]]

    def load(self, data: Any) -> dict[str, Any] | None:
        if not self.usable or type(data) is not dict or not self.names.issuperset(data):
            return None
        try:
            out = {}
            for name, field, convert in self.plan:
                value = data.get(name, missing)
                if value is missing:
                    if field.required:
                        return None
                    default = field.load_default
                    if default is not missing:
                        out[name] = default() if callable(default) else default
                elif value is None:
                    if not field.allow_none:
                        return None
                    out[name] = None
                else:
                    value = convert(field, name, value)
                    for check in field.validators:
                        check(value)
                    out[name] = value
            for validator in self.validators:
                validator(out, partial=None, many=False, unknown=RAISE)
        except (_Decline, ValidationError):
            return None
        return out


def _dump_same(field, value):
    return value


def _dump_uuid(field, value):
    return str(value)


def _dump_own(field, value):
    return field._serialize(value, None, None)


def _dump_timestamp(field, value):
    return value.astimezone(UTC).isoformat()  # Timestamp, in its ISO format


def _dump_list(field, value):
    return [str(item) for item in value]


_DUMPS: dict[type, Callable] = {
    fields.UUID: _dump_uuid, fields.Integer: _dump_own, fields.Date: _dump_own,
    fields.DateTime: _dump_own, Timestamp: _dump_own, fields.List: _dump_list,
}


def _dumping(field: fields.Field) -> Callable | None:
    if field.data_key is not None or field.attribute is not None:
        return None
    if type(field) is fields.String:
        return _dump_same
    if type(field) is fields.List and not _plain_string(field.inner):
        return None
    if type(field) is Timestamp and field.format in (None, "iso", "iso8601"):
        return _dump_timestamp
    return _DUMPS.get(type(field))


class QuickDump:
    """`schema.dump` of one row (a dict holding every field) for flat schemas."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        plan = [(name, field, _dumping(field)) for name, field in schema.dump_fields.items()]
        self.usable = (not schema.many and not any(schema._hooks[t] for t in (PRE_DUMP, POST_DUMP))
                       and all(dump is not None for _, _, dump in plan))
        self.plan = plan

    def dump(self, row: dict[str, Any]) -> dict[str, Any]:
        if not self.usable:
            return self.schema.dump(row)
        out = {}
        for name, field, dump in self.plan:
            value = row[name]
            if value is None:
                out[name] = None
            elif dump is _dump_same and type(value) is not str:
                out[name] = field._serialize(value, name, row)
            else:
                out[name] = dump(field, value)
        return out
