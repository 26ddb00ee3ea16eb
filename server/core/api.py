"""The flask-smorest Api, with every HTTP error rendered as problem+json."""

from __future__ import annotations

import flask_smorest
from flask import Flask

from server.core import problems

SPEC_KWARGS = {
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


class BlackbookApi(flask_smorest.Api):
    def handle_http_exception(self, error):
        return problems.from_http_exception(error)


def make_api(app: Flask) -> BlackbookApi:
    """One Api per app: it holds that app's OpenAPI spec."""
    return BlackbookApi(app, spec_kwargs=SPEC_KWARGS)
