"""HTTP for requests."""

from __future__ import annotations

from flask.views import MethodView

from server.core.api import Blueprint
from server.core.http import etag_for, expected_version
from server.customer_requests import service
from server.customer_requests.schemas import (
    RequestCreate,
    RequestListArgs,
    RequestOut,
    RequestPage,
    RequestTransition,
    RequestUpdate,
)
from server.extensions import db
from server.stores.auth import authorized, current_actor

blp = Blueprint("requests", __name__, url_prefix="/api/v1/requests",
                description="What customers asked for, and where each request stands.")


def _saved(record, status: int = 200):
    db.session.commit()
    return record, status, {"ETag": etag_for(record.version)}


@blp.route("")
class Requests(MethodView):
    @authorized("requests:read")
    @blp.arguments(RequestListArgs, location="query")
    @blp.response(200, RequestPage)
    def get(self, args):
        """List requests, newest first. A tablet sees its own store's only."""
        limit, after = args.pop("limit"), args.pop("after")
        items, next_token = service.search(db.session, current_actor(), args, limit, after)
        return {"items": items, "next": next_token}

    @authorized("requests:write")
    @blp.arguments(RequestCreate)
    @blp.response(201, RequestOut)
    def post(self, data):
        """Capture a request for a customer."""
        record, status, headers = _saved(service.add(db.session, current_actor(), data), 201)
        headers["Location"] = f"/api/v1/requests/{record.id}"
        return record, status, headers


@blp.route("/<uuid:request_id>")
class RequestById(MethodView):
    @authorized("requests:read")
    @blp.response(200, RequestOut)
    def get(self, request_id):
        record = service.show(db.session, current_actor(), request_id)
        return record, 200, {"ETag": etag_for(record.version)}

    @authorized("requests:write")
    @blp.arguments(RequestUpdate)
    @blp.response(200, RequestOut)
    def patch(self, changes, request_id):
        """Change the fields sent; `If-Match: "<version>"` refuses a stale edit with 412."""
        record = service.amend(db.session, current_actor(), request_id, changes,
                               expected_version())
        return _saved(record)


@blp.route("/<uuid:request_id>/status")
class RequestStatus(MethodView):
    @authorized("requests:write")
    @blp.arguments(RequestTransition)
    @blp.response(200, RequestOut)
    def post(self, data, request_id):
        """Move the request along its lifecycle; 409 names the statuses allowed from here."""
        record = service.step(db.session, current_actor(), request_id, data["status"],
                              data["reason"], data["changed_by"], expected_version())
        return _saved(record)
