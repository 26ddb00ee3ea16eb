"""The flask-smorest Api, with every HTTP error rendered as problem+json."""

from __future__ import annotations

import flask_smorest
from flask import Flask
from marshmallow import missing
from webargs.flaskparser import FlaskParser

from server.core import problems

SPEC_KWARGS = {
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


class BodyOnceParser(FlaskParser):
    """Reads the body Flask already parsed (once, with the app's JSON provider, in
    `core.http.require_json_body`) instead of parsing it a second time."""

    def _raw_load_json(self, req):
        if not req.is_json or not req.get_data(cache=True):
            return missing
        return req.get_json(cache=True)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyOnceParser()


class BlackbookApi(flask_smorest.Api):
    def handle_http_exception(self, error):
        return problems.from_http_exception(error)


def make_api(app: Flask) -> BlackbookApi:
    """One Api per app: it holds that app's OpenAPI spec."""
    return BlackbookApi(app, spec_kwargs=SPEC_KWARGS)
