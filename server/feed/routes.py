"""HTTP for the CRM feed."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request, stream_with_context
from flask.views import MethodView

from server.core import problems
from server.core.api import Blueprint
from server.extensions import db
from server.feed import service
from server.stores.auth import authorized, current_actor
from server.sync.schemas import PullArgs, PullPage

blp = Blueprint("feed", __name__, url_prefix="/api/v1/feed",
                description="For the CRM: every store's changes in commit order, with the "
                            "same cursor guarantee as a device's pull, reduced to what the "
                            "CRM may hold.")


@blp.route("")
class Feed(MethodView):
    @authorized("feed:read")
    @blp.arguments(PullArgs, location="query")
    @blp.response(200, PullPage)
    def get(self, args):
        """Changes after `cursor` (none: a snapshot of everything), in commit order.

        Entities: `customer`, `consent_state` (id: the customer's; the current state per
        purpose and channel), `request` (with its status history), `note` (never one
        flagged sensitive: that arrives as a delete with reason `withheld`).
        `If-None-Match` with the last ETag answers 304 when nothing has changed since.
        While there is more, a `Link` header names the next page (`rel="next"`): a client
        may ask for it before reading this page's body.
        """
        page = service.feed(db.session, current_actor(), args["cursor"], args["limit"],
                            log=True)
        headers = {"ETag": f'"{page.next_cursor}"'}
        if page.has_more:  # the next page, named before the body: a client can ask early
            query = urlencode({"cursor": page.next_cursor, "limit": args["limit"]})
            headers["Link"] = f'<{request.path}?{query}>; rel="next"'
        if page.empty and request.if_none_match.contains(page.next_cursor):
            return Response(status=304, headers=headers)
        # Streamed: the headers leave before the changes are written, so a client that
        # reads ahead asks for the next page while this one is being written.
        return Response(stream_with_context(problems.guarded(page.chunks())),
                        mimetype="application/json", headers=headers)
