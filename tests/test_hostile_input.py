"""Hostile input at every endpoint: no input yields a 5xx, and every refusal is a problem.

The endpoints come from `app.url_map` (the same list the authorization matrix checks
against its table), and the fields and query parameters of each from the served
OpenAPI spec, so a new endpoint or field is attacked without anyone listing it here.
Every 4xx must be `application/problem+json` with `status`, `title` and `code`, and a
422 must name the failing field in `errors`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import paging
from server.stores import keys
from server.stores.permissions import PERMISSIONS
from tests.factories import bearer
from tests.sync.helpers import new_customer, new_request
from tests.test_authorization import ROWS, Ids, Row, api_endpoints, make_ids

PROBLEM = "application/problem+json"
WRITES = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY = 5 * 1024 * 1024
MEGABYTE = "x" * (1024 * 1024)
ROWS_BY_ENDPOINT = {(row.method, row.path): row for row in ROWS}


# --- What the server says, and what it must never say --------------------------------


def field_names(errors: Any) -> set[str]:
    """Every key in a (nested) `errors` object: locations, fields, nested fields."""
    if isinstance(errors, dict):
        return set(errors) | {name for value in errors.values() for name in field_names(value)}
    if isinstance(errors, list):
        return {name for value in errors for name in field_names(value)}
    return set()


class Findings:
    """Collects every broken promise of one test, so one run shows them all."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, response, label: str, status: int | None = None,
              field: str | None = None, expected_code: str | None = None) -> None:
        got = response.status_code
        text = response.get_data(as_text=True)[:300]
        if got >= 500:
            self.failures.append(f"{label}: {got} {text}")
            return
        if status is not None and got != status:
            self.failures.append(f"{label}: expected {status}, got {got} {text}")
        if got < 400:
            return
        if response.mimetype != PROBLEM:
            self.failures.append(f"{label}: {got} as {response.mimetype!r}, not problem+json")
            return
        body = response.get_json(silent=True)
        if not isinstance(body, dict) or body.get("status") != got \
                or not isinstance(body.get("title"), str) or not body["title"] \
                or not isinstance(body.get("code"), str) or not body["code"]:
            self.failures.append(f"{label}: {got} problem without status/title/code: {text}")
            return
        if got == status and expected_code is not None and body["code"] != expected_code:
            self.failures.append(f"{label}: code {body['code']!r}, not {expected_code!r}")
        if got == 422:
            if not isinstance(body.get("errors"), dict) or not body["errors"]:
                self.failures.append(f"{label}: 422 without errors: {text}")
            elif field is not None and field not in field_names(body["errors"]):
                self.failures.append(f"{label}: 422 does not name {field!r}: {text}")

    def assert_none(self) -> None:
        assert not self.failures, f"{len(self.failures)} failures:\n" + "\n".join(
            self.failures[:60])


# --- The endpoints, their fields, and a valid call for each ---------------------------


# Writes under a record that If-Match does not guard: appending a new record under it
# (no version of theirs to match), an outcome report (its claim id is the guard), and a
# replay (it queues deliveries again and changes nothing of the subscription).
NOT_VERSIONED = {"/api/v1/customers/{customer_id}/consents",
                 "/api/v1/follow-ups/{follow_up_id}/outcome",
                 "/api/v1/webhooks/{webhook_id}/replay",
                 # a customer's right, carried out whatever version anyone last read
                 "/api/v1/customers/{customer_id}/erasure",
                 "/api/v1/customers/{customer_id}/page-link",  # makes a link, edits nothing
                 "/api/v1/customers/{customer_id}/erasure/ack",  # a fact, not an edit
                 "/api/v1/privacy-requests/{privacy_request_id}/complete"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {placeholders}
    row: Row

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method in WRITES

    @property
    def on_a_record(self) -> bool:
        return "{" in self.path

    @property
    def edits_a_record(self) -> bool:
        """Writes to an existing record that If-Match guards."""
        return self.on_a_record and self.method != "GET" and self.path not in NOT_VERSIONED

    @property
    def scope(self) -> str:
        """The caller used: a tablet, the device out in the field, when it may call."""
        allowed = PERMISSIONS[self.row.permission]
        return next(s for s in ("tablet", "admin", "crm", "channel") if s in allowed)

    def url(self, ids: Ids, **override: str) -> str:
        return self.path.format(**(self.row.path_values(ids) | override))


def endpoints(app) -> list[Endpoint]:
    """Every API endpoint; deletes last, so the other calls still find their records."""
    found = sorted(api_endpoints(app), key=lambda e: (e[0] == "DELETE", e[1], e[0]))
    missing = [e for e in found if e not in ROWS_BY_ENDPOINT]
    assert not missing, f"no row in tests/test_authorization.py ROWS for {missing}"
    return [Endpoint(method, path, ROWS_BY_ENDPOINT[(method, path)]) for method, path in found]


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_fields(spec: dict, endpoint: Endpoint) -> dict[str, dict]:
    operation = spec["paths"][endpoint.path][endpoint.method.lower()]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return _resolve(spec, body["schema"]).get("properties", {}) if body else {}


def query_params(spec: dict, endpoint: Endpoint) -> dict[str, dict]:
    operation = spec["paths"][endpoint.path][endpoint.method.lower()]
    return {p["name"]: p["schema"] for p in operation.get("parameters", [])
            if p["in"] == "query"}


def kind(schema: dict) -> str:
    if "$ref" in schema or "anyOf" in schema or "allOf" in schema \
            or schema.get("type") == "object":
        return "object"
    if "enum" in schema:
        return "enum"
    if schema.get("type") == "string":
        return schema.get("format", "string")
    if schema.get("type") == "array" and "enum" in schema.get("items", {}):
        return "enum-array"
    return schema.get("type", "unknown")


# Values that no field of that kind may accept (one field at a time, in a JSON body).
WRONG_TYPES: dict[str, list[Any]] = {
    "string": [12345, 1.5, True, {"nested": {"deeper": [1]}}, ["a", "b"]],
    "uuid": ["not-a-uuid", 12345, "", {"id": 1}, ["0" * 32],
             "00000000-0000-0000-0000-00000000000g", "' OR '1'='1"],
    "date": ["2026-13-45", "yesterday", 20260101, "2026-02-30", {"y": 2026}],
    "date-time": ["2026-13-45T25:61:00Z", "2026-01-01T10:00:00", 1_700_000_000, "now",
                  ["2026-01-01T10:00:00Z"]],
    "enum": ["nope", 7, None, ["open"], {"status": "open"}],
    "integer": ["many", True, 1.5, {"n": 1}, [1], None, "1e3"],
    "number": ["many", True, {"n": 1}],
    "boolean": ["maybe", 2, {"b": True}, [True]],
    "array": ["not-a-list", 5, {"x": 1}, True],
    "enum-array": ["not-a-list", 5, ["nope"], [["email"]], [{"x": 1}]],
    "object": ["not-an-object", 5, ["x"], True],
}


def wrong_values(schema: dict) -> list[Any]:
    values = WRONG_TYPES.get(kind(schema), [])
    if schema.get("nullable") or "anyOf" in schema:
        values = [value for value in values if value is not None]
    return values


def is_text(schema: dict) -> bool:
    return kind(schema) in ("string", "uuid", "date", "date-time", "enum")


@pytest.fixture
def ids(session, world) -> Ids:
    return make_ids(session, world)


def send(client, world, endpoint: Endpoint, ids: Ids, *, body: Any = None,
         raw: str | bytes | None = None, content_type: str = "application/json",
         query: dict | None = None, headers: dict | None = None, path: str | None = None):
    """One call as the endpoint's usual caller; `raw` is sent as is, else `body` as JSON."""
    if raw is None and body is not None:
        raw = json.dumps(body)
    return client.open(path or endpoint.url(ids), method=endpoint.method, data=raw,
                       content_type=content_type if raw is not None else None,
                       query_string=endpoint.row.query | (query or {}),
                       headers=world.headers(endpoint.scope) | (headers or {}))


def valid_body(endpoint: Endpoint, ids: Ids) -> dict[str, Any]:
    return endpoint.row.body(ids) if endpoint.row.body else {}


def ignored(endpoint: Endpoint) -> int | None:
    """What a call gets when the part attacked is one the endpoint does not read: a read
    answers as usual; a delete may already have deleted its record (None: any non-5xx)."""
    return endpoint.row.allowed_status if endpoint.method == "GET" else None


# --- Bodies that are not JSON, or not the JSON expected -------------------------------


BROKEN_JSON = ['{"a":', '{"a": 1,}', "{'a': 1}", '{"a": tru}', "[1, 2", '"unterminated',
               '{"a": 1} trailing', "\x00", b"\xff\xfe{\x00}", b'{"a": "\xc3\x28"}']
DEEP_JSON = ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000,
             '{"a":' * 50_000 + "1" + "}" * 50_000]
HUGE_NUMBER = "9" * 5_000  # beyond Python's int-from-text digit limit


def test_broken_and_deeply_nested_json_is_400(app, client, world, ids):
    findings = Findings()
    for endpoint in endpoints(app):
        for raw in [*BROKEN_JSON, *DEEP_JSON, '{"quantity": ' + HUGE_NUMBER + "}"]:
            response = send(client, world, endpoint, ids, raw=raw)
            findings.check(response, f"{endpoint.label} body {raw[:20]!r}",
                           400 if endpoint.writes else ignored(endpoint), "json", "malformed")
    findings.assert_none()


def test_json_of_the_wrong_type_is_422(app, client, world, ids):
    findings = Findings()
    for endpoint in endpoints(app):
        for raw in ["[]", '[{"given_name": "Ada"}]', '"text"', "42", "1.5", "null", "true",
                    "NaN", "Infinity", '""']:
            response = send(client, world, endpoint, ids, raw=raw)
            findings.check(response, f"{endpoint.label} body {raw}",
                           422 if endpoint.writes else ignored(endpoint), "json",
                           "validation_failed")
    findings.assert_none()


def test_an_empty_body_is_refused_or_a_no_op(app, client, world, ids):
    findings = Findings()
    for endpoint in endpoints(app):
        for raw in ["", "{}", "   "]:
            findings.check(send(client, world, endpoint, ids, raw=raw),
                           f"{endpoint.label} body {raw!r}")
    findings.assert_none()


def test_fields_of_the_wrong_type_are_422_and_named(app, spec, client, world, ids):
    findings = Findings()
    checked = 0
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for name, schema in body_fields(spec, endpoint).items():
            for value in wrong_values(schema):
                checked += 1
                response = send(client, world, endpoint, ids, body={name: value})
                findings.check(response, f"{endpoint.label} {name}={value!r}", 422, name)
    assert checked > 100  # the spec was read: every body field was attacked
    findings.assert_none()


def test_unknown_fields_are_422_and_named(app, spec, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for extra in ({"shoe_size": 42}, {"__proto__": {"admin": True}},
                      {"store": {"id": str(ids.other_store_id)}}, {"": 1}, {"ID": "x"}):
            body = valid_body(endpoint, ids) | extra
            name = next(iter(extra))
            findings.check(send(client, world, endpoint, ids, body=body),
                           f"{endpoint.label} unknown {name!r}", 422, name)
    findings.assert_none()


def test_unknown_nested_fields_are_422_and_named(client, world, ids):
    findings = Findings()
    customer = f"/api/v1/customers/{ids.customer_id}"
    for body, name in [
        ({"preferences": {"sizes": ["38"], "shoe": 1}}, "shoe"),
        ({"preferences": {"quiet_hours": {"start": "20:00", "end": "08:00",
                                          "timezone": "Europe/London", "dst": 1}}}, "dst"),
        ({"postal_address": {"lines": ["1 High St"], "city": "Leeds", "country": "GB",
                             "county": "W Yorks"}}, "county"),
    ]:
        response = client.patch(customer, json=body, headers=world.tablet_a.headers)
        findings.check(response, f"PATCH customer {body}", 422, name)
    findings.assert_none()


# --- Strings: huge, with control characters, or otherwise odd -------------------------


def test_huge_strings_are_422_and_named(app, spec, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for name, schema in body_fields(spec, endpoint).items():
            if is_text(schema):
                body = valid_body(endpoint, ids) | {name: MEGABYTE}
                findings.check(send(client, world, endpoint, ids, body=body),
                               f"{endpoint.label} {name}=<1 MB>", 422, name)
    findings.assert_none()


CONTROL = ["a\x00b", "\x00", "a\x07b", "\x1b[2J", "line\x0bfeed", "\x7f\x1f", "\ud800",
           "a\udfffb", "\ud83d"]


def test_control_characters_and_lone_surrogates_are_422_and_named(app, spec, client, world,
                                                                  ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for name, schema in body_fields(spec, endpoint).items():
            if not is_text(schema):
                continue
            for value in CONTROL:
                body = valid_body(endpoint, ids) | {name: value}
                findings.check(send(client, world, endpoint, ids, body=body),
                               f"{endpoint.label} {name}={value!r}", 422, name)
    findings.assert_none()


# Values a field may accept or refuse; either way, never a 5xx.
ODD_VALUES: dict[str, list[Any]] = {
    "string": ["", " \t\n", "ß" * 100, "\ufdfa" * 40, "\u0301" * 10, "\u202eevil", "🧥" * 30,
               "'; DROP TABLE customers; --", "%_\\", "a" * 250 + "@example.com",
               "+44 20 7946 0958", "+" + "9" * 39, "a@[127.0.0.1]", "\u00e9@\u00e9.com",
               "a@xn--zz.com"],
    "uuid": [str(uuid.UUID(int=0)), str(uuid.uuid4()), str(uuid.uuid4()).upper(),
             "{" + str(uuid.uuid4()) + "}", uuid.uuid4().hex, "urn:uuid:" + str(uuid.uuid4())],
    "date": ["0001-01-01", "9999-12-31", "1970-01-01", "2024-02-29", "20260101",
             "2026-W01-1"],
    "date-time": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                  "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                  "2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00.123456789Z",
                  "2026-01-01T00:00:00-00:00", "1970-01-01T00:00:00Z"],
    "integer": [0, -1, 1, 999, 1000, 2**31, 2**63, 10**30, -(10**30), 1e308, -0.0, 1.0],
    "number": [0, -1, 1e308, -1e308],
    "boolean": [True, False, 1, 0, "true", "no"],
    "enum": [],
    "enum-array": [[], ["email", "email"], ["email", "sms", "post", "phone", "push", "email"]],
    "array": [[], [""], [None], ["x"] * 100, [MEGABYTE[:1000]] * 5, [str(uuid.uuid4())] * 2,
              [str(uuid.UUID(int=0))] * 101],
    "object": [{}, None, {"sizes": ["38"] * 50}, {"lines": [], "city": "", "country": "gb"},
               {"quiet_hours": {"start": "24:00", "end": "23:60", "timezone": "Mars/Olympus"}},
               {"quiet_hours": {"start": "08:00", "end": "20:00", "timezone": "/etc/passwd"}},
               {"quiet_hours": {"start": "08:00", "end": "20:00",
                                "timezone": "../../../../etc/passwd"}},
               {"quiet_hours": {"start": "08:00\n", "end": "20:00", "timezone": "\x00"}},
               {"quiet_hours": {"start": "08:00", "end": "20:00", "timezone": "\ud800"}},
               {"lines": ["1 High St"], "city": "Leeds", "country": "GB\n"},
               {"lines": ["\x00"], "city": "\ud800", "country": "GB"}],
}


def test_odd_but_well_typed_values_never_break_the_server(app, spec, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        # Admins take other paths (any store, home_store_id, store_id): ids go there too.
        as_admin = endpoint.scope != "admin" and "admin" in PERMISSIONS[endpoint.row.permission]
        for name, schema in body_fields(spec, endpoint).items():
            for value in ODD_VALUES.get(kind(schema), []):
                body = valid_body(endpoint, ids) | {name: value}
                label = f"{endpoint.label} {name}={str(value)[:40]!r}"
                findings.check(send(client, world, endpoint, ids, body=body), label)
                if as_admin and kind(schema) == "uuid":
                    response = send(client, world, endpoint, ids, body=body,
                                    headers=world.headers("admin"))
                    findings.check(response, f"{label} as admin")
    findings.assert_none()


@pytest.mark.parametrize("given, family, search", [
    ("Hans", "ß" * 100, "ß" * 70),                    # folds to "ss" * 100: 200 characters
    ("ﬃ" * 100, "Smith", "ﬃ" * 80),                  # a ligature folds to three letters
    ("\ufdfa" * 100, "\ufdfa" * 100, "\ufdfa" * 10),  # one character folds to eighteen
])
def test_names_whose_search_keys_outgrow_their_columns_are_stored_and_found(
        client, world, given, family, search):
    """Folding for search can lengthen a name; a valid name must still be stored (on
    PostgreSQL the longer key once overflowed its column: a 400 for valid input)."""
    created = client.post("/api/v1/customers", json={"given_name": given, "family_name": family},
                          headers=world.tablet_a.headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    found = client.get("/api/v1/customers", query_string={"name": search},
                       headers=world.tablet_a.headers)
    assert found.status_code == 200
    assert [item["id"] for item in found.json["items"]] == [created.json["id"]]


def test_id_lists_with_repeats_and_ids_of_the_wrong_kind_never_break_the_server(
        app, spec, client, world, ids):
    findings = Findings()
    checked = 0
    real = [str(ids.other_customer_id), str(ids.customer_id), str(ids.request_id),
            str(ids.note_id), str(ids.store_id)]
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for name, schema in body_fields(spec, endpoint).items():
            if kind(schema) != "array" or schema.get("items", {}).get("format") != "uuid":
                continue
            for value in ([real[0]] * 2, real[:2] * 3, real[2:], real[::-1]):
                checked += 1
                body = valid_body(endpoint, ids) | {name: value}
                findings.check(send(client, world, endpoint, ids, body=body),
                               f"{endpoint.label} {name}={value}")
    assert checked  # some endpoint takes a list of ids (sync hold)
    findings.assert_none()


@pytest.mark.parametrize("body, field", [
    ({"postal_address": {"lines": ["1 High St"], "city": "Leeds", "country": "GB\n"}},
     "country"),
    ({"preferences": {"quiet_hours": {"start": "20:00\n", "end": "08:00",
                                      "timezone": "Europe/London"}}}, "start"),
])
def test_a_trailing_newline_does_not_slip_past_a_pattern(client, world, ids, body, field):
    """Python's `$` matches before a final newline: "GB\\n" once passed ^[A-Z]{2}$."""
    response = client.patch(f"/api/v1/customers/{ids.customer_id}", json=body,
                            headers=world.tablet_a.headers)
    findings = Findings()
    findings.check(response, f"PATCH customer {body}", 422, field, "validation_failed")
    lookup = client.get("/api/v1/customers", query_string={"phone_suffix": "1234\n"},
                        headers=world.tablet_a.headers)
    findings.check(lookup, "lookup phone_suffix=1234\\n", 422, "phone_suffix")
    findings.assert_none()


def test_an_empty_email_or_phone_is_stored_as_none(client, world, ids):
    url = f"/api/v1/customers/{ids.customer_id}"
    assert client.get(url, headers=world.tablet_a.headers).json["email"]
    response = client.patch(url, json={"email": "", "phone": ""},
                            headers=world.tablet_a.headers)
    assert response.status_code == 200
    assert (response.json["email"], response.json["phone"]) == (None, None)
    created = client.post("/api/v1/customers", json={"given_name": "Ida", "email": " "},
                          headers=world.tablet_a.headers)
    assert created.status_code == 201 and created.json["email"] is None


def test_numbers_too_large_for_the_database_are_refused(app, client, world, ids):
    findings = Findings()
    url = f"/api/v1/requests/{ids.request_id}"
    for raw in ['{"quantity": ' + HUGE_NUMBER + "}", '{"quantity": 1e400}',
                '{"quantity": -1e400}', '{"quantity": NaN}', '{"quantity": 1.5}',
                '{"quantity": 2147483648}', '{"quantity": 99999999999999999999}']:
        response = client.patch(url, data=raw, content_type="application/json",
                                headers=world.tablet_a.headers)
        status = 400 if raw.endswith(HUGE_NUMBER + "}") else 422
        findings.check(response, f"PATCH request {raw[:30]}", status)
    findings.assert_none()


# --- Size, media type and headers -----------------------------------------------------


def test_a_body_over_the_limit_is_413(app, client, world, ids):
    findings = Findings()
    big = '{"body": "' + "x" * MAX_BODY + '"}'
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        response = send(client, world, endpoint, ids, raw=big)
        findings.check(response, f"{endpoint.label} 5 MiB body", 413,
                       expected_code="too_large")
    findings.assert_none()


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "application/jsonx", "json", "",
])
def test_a_body_that_does_not_say_json_is_415(app, client, world, ids, content_type):
    findings = Findings()
    for endpoint in endpoints(app):
        raw = json.dumps(valid_body(endpoint, ids))
        response = client.open(endpoint.url(ids), method=endpoint.method, data=raw,
                               headers=world.headers(endpoint.scope)
                               | ({"Content-Type": content_type} if content_type else {}),
                               query_string=endpoint.row.query)
        findings.check(response, f"{endpoint.label} as {content_type!r}",
                       415 if endpoint.writes else ignored(endpoint),
                       expected_code="unsupported_media_type")
    findings.assert_none()


IF_MATCH_GARBAGE = ["garbage", '"abc"', '"-1"', '"1.0"', '"99999999999999999999999"',
                    '"0"', 'W/"0"', '"1", "2"', '"' + "9" * 10_000 + '"', "x" * 10_000,
                    '"\u00e9"']


def test_if_match_garbage_is_412_on_record_writes_and_ignored_on_reads(app, client, world,
                                                                       ids):
    findings = Findings()
    for endpoint in endpoints(app):
        for value in IF_MATCH_GARBAGE:
            response = send(client, world, endpoint, ids, body=valid_body(endpoint, ids)
                            if endpoint.writes else None, headers={"If-Match": value})
            label = f"{endpoint.label} If-Match {value[:20]!r}"
            if endpoint.edits_a_record:
                findings.check(response, label, 412, expected_code="version_mismatch")
            else:
                findings.check(response, label, ignored(endpoint))
    findings.assert_none()


def test_odd_headers_do_not_break_anything(app, client, world, ids):
    findings = Findings()
    odd = [{"X-Filler": "x" * 100_000}, {"Accept": "text/html"}, {"Accept": "*/*;q=garbage"},
           {"Accept-Charset": "utf-7"}, {"If-None-Match": "x" * 5_000},
           {"Range": "bytes=0-1,-5"}, {"X-Forwarded-For": "' OR 1=1"},
           {"Cookie": "session=" + "x" * 8_000}, {"Content-Encoding": "gzip"}]
    for endpoint in endpoints(app):
        if endpoint.method == "GET":
            for headers in odd:
                response = send(client, world, endpoint, ids, headers=headers)
                findings.check(response, f"{endpoint.label} {list(headers)[0]}")
    findings.assert_none()


AUTHORIZATION_GARBAGE = ["", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer",
                         "Bearer bb_" + "x" * 10_000, "Bearer " + "x" * 10_000,
                         "Bearer bb__", "Bearer bb_\u00e9\u00e9_\u00e9", "Token bb_a_b",
                         "Bearer  bb_a_b  extra", "Bearer bb_' OR '1'='1"]


def test_missing_garbage_and_revoked_keys_are_401(app, client, session, world, ids):
    findings = Findings()
    revoked = world.tokens["admin"]
    keys.revoke(session, revoked.split("_")[1])
    session.commit()
    tablet_revoked = world.tablet_a.token
    keys.revoke(session, tablet_revoked.split("_")[1])
    session.commit()
    attempts = [{}, *({"Authorization": a} for a in AUTHORIZATION_GARBAGE),
                bearer(revoked), bearer(tablet_revoked)]
    for endpoint in endpoints(app):
        for headers in attempts:
            for body in (valid_body(endpoint, ids), [], {"shoe": MEGABYTE[:1000]}):
                response = client.open(endpoint.url(ids), method=endpoint.method,
                                       json=body, headers=headers,
                                       query_string=endpoint.row.query | {"limit": "-1"})
                label = f"{endpoint.label} auth {str(headers)[:40]} body {str(body)[:20]}"
                findings.check(response, label, 401, expected_code="unauthorized")
                if response.status_code == 401 and \
                        response.headers.get("WWW-Authenticate") != "Bearer":
                    findings.failures.append(f"{label}: no WWW-Authenticate")
    findings.assert_none()


def test_a_body_that_is_not_json_is_refused_before_the_key_is_checked(app, client, world,
                                                                      ids):
    """Like 413 and 415, a body that does not parse is refused before authentication."""
    findings = Findings()
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        for headers in ({}, {"Authorization": "Bearer nonsense"}):
            for raw in ('{"a":', "[" * 100_000):
                response = client.open(endpoint.url(ids), method=endpoint.method, data=raw,
                                       content_type="application/json", headers=headers)
                findings.check(response, f"{endpoint.label} {headers} {raw[:10]!r}", 400,
                               expected_code="malformed")
    findings.assert_none()


# --- Paths and query strings ----------------------------------------------------------


BAD_IDS = ["not-a-uuid", "1", "0", "-1", "' OR '1'='1", "%00", "..%2F..%2Fetc%2Fpasswd",
           "a" * 5_000, "00000000-0000-0000-0000-00000000000g", "%F0%9F%A7%A5", "null",
           "%E2%80%AE", "%ff"]


def test_ids_that_are_not_uuids_are_404(app, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.on_a_record, endpoints(app)):
        names = re.findall(r"\{(\w+)\}", endpoint.path)
        for bad in BAD_IDS:
            path = endpoint.url(ids, **dict.fromkeys(names, bad))
            response = send(client, world, endpoint, ids, path=path,
                            body=valid_body(endpoint, ids) if endpoint.writes else None)
            findings.check(response, f"{endpoint.label} id {bad[:20]!r}", 404,
                           expected_code="not_found")
    findings.assert_none()


def test_unknown_ids_are_404(app, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.on_a_record, endpoints(app)):
        names = re.findall(r"\{(\w+)\}", endpoint.path)
        for unknown in (str(uuid.uuid4()), str(uuid.UUID(int=0)), str(ids.customer_id)):
            path = endpoint.url(ids, **dict.fromkeys(names, unknown))
            if path == endpoint.url(ids) or names == ["customer_id"] \
                    and unknown == str(ids.customer_id):
                continue  # that is a real record of the right kind
            response = send(client, world, endpoint, ids, path=path,
                            body=valid_body(endpoint, ids) if endpoint.writes else None)
            findings.check(response, f"{endpoint.label} id {unknown}", 404,
                           expected_code="not_found")
    findings.assert_none()


def test_methods_an_endpoint_does_not_allow_are_405(app, client, world, ids):
    findings = Findings()
    by_path: dict[str, set[str]] = {}
    for endpoint in endpoints(app):
        by_path.setdefault(endpoint.path, set()).add(endpoint.method)
    for path, allowed in by_path.items():
        url = path.format(**ids.path_values())
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed:
            response = client.open(url, method=method, json={},
                                   headers=world.headers("admin"))
            findings.check(response, f"{method} {path}", 405,
                           expected_code="method_not_allowed")
            if response.status_code == 405 and \
                    not set(response.headers.get("Allow", "").split(", ")) >= allowed:
                findings.failures.append(f"{method} {path}: Allow {response.headers}")
    findings.assert_none()


def absurd_query_values(schema: dict) -> list[str]:
    """Values the parameter must refuse with a 422 that names it."""
    found = kind(schema)
    if found == "integer":
        return ["-1", "0", str(10**30), "abc", "1.5", "", "0x10", "1e3", "\x00"]
    if found == "uuid":
        return ["nope", "1", "\x00", "' OR '1'='1", "a" * 1000]
    if found == "date":
        return ["2026-13-45", "0000-00-00", "yesterday", "2026-02-30", "99999-01-01"]
    if found == "boolean":
        return ["maybe", "2", "\x00"]
    if found in ("enum", "enum-array"):
        return ["nope", "OPEN", "\x00"]
    values = []
    if "maxLength" in schema:
        values += ["a" * (schema["maxLength"] + 1), "a" * 100_000]
    if "pattern" in schema and not re.search(schema["pattern"], "abc!"):
        values += ["abc!"]
    return values


# The brief's list, and a few more: refused with a 422 where the parameter exists.
EXPLICIT_QUERIES: list[tuple[str, str]] = [
    ("limit", "-1"), ("limit", str(10**30)), ("after", "garbage"), ("after", "!!!!"),
    ("after", paging.encode(["x"])), ("after", paging.encode(["not a time", "not a uuid"])),
    ("after", paging.encode([1, 2, 3])), ("status", "nope"), ("type", "nope"),
    ("due_before", "2026-13-45"), ("due_after", "2026-00-01"), ("overdue", "maybe"),
    ("email", "a" * 100_000 + "@example.com"), ("email", "not an email"),
    ("phone", "not a phone"), ("phone_suffix", "12"), ("store_id", "B"),
    ("customer_id", "' OR 1=1 --"), ("request_id", "x"),
]


def test_absurd_query_strings_are_422_and_named(app, spec, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.method == "GET", endpoints(app)):
        params = query_params(spec, endpoint)
        attacks = [(name, value) for name, schema in params.items()
                   for value in absurd_query_values(schema)]
        attacks += [(name, value) for name, value in EXPLICIT_QUERIES if name in params]
        for name, value in attacks:
            response = send(client, world, endpoint, ids, query={name: value})
            findings.check(response, f"{endpoint.label} ?{name}={value[:30]!r}", 422, name,
                           "validation_failed")
        # A parameter the endpoint does not know is ignored.
        for name, value in EXPLICIT_QUERIES:
            if name not in params:
                response = send(client, world, endpoint, ids, query={name: value})
                findings.check(response, f"{endpoint.label} ?{name}= (unknown)",
                               endpoint.row.allowed_status)
    findings.assert_none()


def odd_page_tokens(ids: Ids) -> Iterator[str]:
    some_id = str(uuid.uuid4())
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                  "0001-01-01T00:00:00Z", "2026-01-01T00:00:00", "\x00", "\ud800", "",
                  "a" * 300, "%", "2026-01-01T00:00:00+00:00"):
        yield paging.encode([value, some_id])
        yield paging.encode([value, "not-a-uuid"])
    yield paging.encode([None, None])
    yield paging.encode([{"a": 1}, [1]])
    yield "A" * 400
    yield "=" * 10


def test_forged_page_tokens_never_break_the_server(app, spec, client, world, ids):
    findings = Findings()
    for endpoint in filter(lambda e: e.method == "GET", endpoints(app)):
        if "after" not in query_params(spec, endpoint):
            continue
        for token in odd_page_tokens(ids):
            for scope in ("tablet", "admin"):
                response = client.get(endpoint.url(ids), headers=world.headers(scope),
                                      query_string=endpoint.row.query | {"after": token})
                findings.check(response, f"{endpoint.label} ?after={token[:30]} as {scope}",
                               field="after")
    findings.assert_none()


def test_odd_but_valid_query_strings_never_break_the_server(app, spec, client, world, ids):
    findings = Findings()
    odd = {"name": ["%", "_", "\\", "\u0301", "ß", "\ufdfa", "a%25", "Zoë"],
           "email": ["ADA@EXAMPLE.COM", "\u00e9@\u00e9.com", "a@xn--zz.com"],
           "phone": ["+44 20 7946 0958", "020 7946 0958", "+999999999999999"],
           "phone_suffix": ["0000", "9" * 15], "limit": ["1", "200", " 5"],
           "status": ["open", "closed"], "due_before": ["0001-01-01", "9999-12-31"],
           "due_after": ["9999-12-31"], "overdue": ["true", "false", "1", "off"]}
    for endpoint in filter(lambda e: e.method == "GET", endpoints(app)):
        params = query_params(spec, endpoint)
        for name, values in odd.items():
            if name in params:
                for value in values:
                    response = send(client, world, endpoint, ids, query={name: value})
                    findings.check(response, f"{endpoint.label} ?{name}={value!r}", field=name)
        many = [(name, "x") for name in params] * 50 + [("limit", "1"), ("limit", "2")]
        response = client.get(endpoint.url(ids) + "?" + "&".join(f"{k}={v}" for k, v in many),
                              headers=world.headers(endpoint.scope))
        findings.check(response, f"{endpoint.label} ?<many params>")
        for raw_query in ("%", "%zz", "%ff%fe", "a=%00", "&&&=&", "=" * 1000, "limit[]=1",
                          "limit=1;limit=2", "a" * 20_000):
            response = client.get(f"{endpoint.url(ids)}?{raw_query}",
                                  headers=world.headers(endpoint.scope))
            findings.check(response, f"{endpoint.label} ?{raw_query[:20]}")
    findings.assert_none()


# --- Random JSON (hypothesis) ---------------------------------------------------------


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def create_endpoints(app) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.method == "POST" and not e.on_a_record]


@settings(max_examples=75, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_json_at_the_create_endpoints_never_breaks_the_server(app, spec, client, world,
                                                                     data):
    for endpoint in create_endpoints(app):
        body = data.draw(JSON, label=endpoint.label)
        response = client.post(endpoint.path, json=body, headers=world.headers(endpoint.scope))
        findings = Findings()
        findings.check(response, f"{endpoint.label} {body!r}"[:300])
        findings.assert_none()


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_values_in_known_fields_never_break_the_server(app, spec, client, session,
                                                              world, data):
    for endpoint in create_endpoints(app):
        names = sorted(body_fields(spec, endpoint))
        chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)),
                           label=f"{endpoint.label} fields")
        body = {name: data.draw(JSON, label=name) for name in chosen}
        response = client.post(endpoint.path, json=body, headers=world.headers(endpoint.scope))
        findings = Findings()
        findings.check(response, f"{endpoint.label} {body!r}"[:300])
        findings.assert_none()


ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=60) | st.sampled_from(
    ["\x00", "\ud800", "a\udfffb", "\x1b[2J", "ß" * 100, "\ufdfa" * 30, "%", "'", ""])


def valid_body_fields(endpoint: Endpoint, ids: Ids) -> list[str]:
    return sorted(valid_body(endpoint, ids))


@settings(max_examples=30, deadline=None,  # × every write endpoint: ~330 calls
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_text_in_otherwise_valid_bodies_never_breaks_the_server(app, spec, client,
                                                                       world, ids, data):
    """Valid bodies with any field turned into arbitrary Unicode: this reaches the services
    and the database, where an unchecked character would surface as a 5xx."""
    for endpoint in filter(lambda e: e.writes, endpoints(app)):
        fields = sorted(body_fields(spec, endpoint))
        if not fields:
            continue  # takes no fields: the other tests send it every kind of body
        chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3,
                                    unique=True), label=f"{endpoint.label} fields")
        body = valid_body(endpoint, ids) | {name: data.draw(ANY_TEXT, label=name)
                                            for name in chosen}
        findings = Findings()
        findings.check(send(client, world, endpoint, ids, body=body),
                       f"{endpoint.label} {body!r}"[:300])
        findings.assert_none()


MUTATION = st.fixed_dictionaries(
    {"mutation_id": st.uuids().map(str), "entity": st.sampled_from(["customer", "request",
                                                                      "note", "store"]),
     "op": st.sampled_from(["upsert", "delete", "append", "drop"]),
     "id": st.uuids().map(str)},
    optional={"base_version": st.integers(-5, 2**40) | JSON,
              "captured_at": st.sampled_from(["0001-01-01T00:00:00+14:00", "2026-01-01",
                                              "2026-01-01T10:00:00Z"]) | JSON,
              "captured_by": ANY_TEXT,
              "fields": st.dictionaries(st.sampled_from(
                  ["given_name", "email", "phone", "customer_id", "type", "sku", "body",
                   "status", "reason", "quantity", "due_date", "preferences", "store_id"]),
                  ANY_TEXT | JSON, max_size=5) | JSON})


@settings(max_examples=75, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATION | JSON, max_size=5))
def test_random_mutations_in_a_push_are_rejected_one_by_one(app, client, world, ids,
                                                             mutations):
    response = client.post("/api/v1/sync/push", headers=world.tablet_a.headers,
                           json={"device_id": str(ids.device_id), "mutations": mutations})
    findings = Findings()
    # Every mutation, null included, gets its own result: nothing refuses the whole push.
    findings.check(response, f"push {mutations!r}"[:300], 200, None)
    findings.assert_none()
    results = response.json["results"]
    assert len(results) == len(mutations)
    assert {result["status"] for result in results} <= {"applied", "duplicate", "conflict",
                                                         "rejected"}


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400",
                                 "123456789012345678901234567890", '"\\ud800"'])
def test_odd_numbers_and_lone_surrogates_inside_pushed_fields_are_rejected(client, world, raw):
    """JSON the standard library reads but no JSON writer should keep (NaN, infinities,
    integers beyond 64 bits, a lone surrogate) inside a mutation's fields: that mutation
    is rejected with its field named, never stored (as null or a float) and never a 500."""
    for field, mutation in [(f, new_request(uuid.uuid4())) for f in
                            ("quantity", "size", "notify_channels")] + [
                           (f, new_customer()) for f in ("preferences", "phone")]:
        body = json.dumps({"device_id": str(world.tablet_a.actor.device_id),
                           "mutations": [mutation]})
        body = body.replace('"fields": {', f'"fields": {{"{field}": {raw}, ', 1)
        response = client.post("/api/v1/sync/push", data=body, content_type="application/json",
                               headers=world.tablet_a.headers)
        assert response.status_code in (200, 400), (field, response.data)
        if response.status_code == 200:
            [result] = response.json["results"]
            assert result["status"] == "rejected", (field, result)
            assert field in result["errors"], (field, result)
