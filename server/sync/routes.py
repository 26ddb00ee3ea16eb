"""HTTP for sync: push and pull (SYNC.md)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView

from server.core.api import Blueprint
from server.customers import service as customers
from server.extensions import db
from server.stores.auth import authorized, current_actor
from server.sync import pull as pulling
from server.sync import push as pushing
from server.sync.schemas import HoldBody, HoldResponse, PullArgs, PullPage, PushBody, PushResponse

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync",
                description="Offline sync for tablets: push mutations, pull changes.")


@blp.route("/push")
class Push(MethodView):
    @authorized("sync:push")
    @blp.arguments(PushBody)
    @blp.response(200, PushResponse)
    def post(self, body):
        """Apply a batch of mutations; one result per mutation, in order. Safe to repeat."""
        results = pushing.push(db.session, current_actor(), body["device_id"],
                               body["mutations"])
        db.session.commit()
        # Results are built to PushResponse's shape already (plain strings and numbers):
        # sent as they are, without a schema pass over up to 1,000 of them.
        return Response(current_app.json.dumps({"results": results}),
                        mimetype="application/json")


@blp.route("/hold")
class Hold(MethodView):
    @authorized("sync:push")
    @blp.arguments(HoldBody)
    @blp.response(200, HoldResponse)
    def post(self, body):
        """Keep customers found by a lookup on this store's tablets: their changes follow."""
        held = customers.hold(db.session, current_actor(), body["customer_ids"])
        db.session.commit()
        return {"held": held}


@blp.route("/pull")
class Pull(MethodView):
    @authorized("sync:pull")
    @blp.arguments(PullArgs, location="query")
    @blp.response(200, PullPage)
    def get(self, args):
        """Changes in this device's scope after `cursor` (none: a snapshot), in commit order.

        `If-None-Match` with the last ETag answers 304 when nothing has changed since.
        """
        page = pulling.read_page(db.session, current_actor(), args["cursor"], args["limit"])
        headers = {"ETag": f'"{page.next_cursor}"'}
        if not page.items and request.if_none_match.contains(page.next_cursor):
            return Response(status=304, headers=headers)
        # Records were serialised at commit (PullPage documents them): sent as they are.
        return Response(page.to_json(), mimetype="application/json", headers=headers)
