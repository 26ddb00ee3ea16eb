"""HTTP for notices and consent events."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from marshmallow import fields

from server.consent import service
from server.consent.schemas import (
    ConsentFields,
    ConsentOut,
    ConsentSummary,
    NoticeCreate,
    NoticeList,
    NoticeListArgs,
    NoticeOut,
)
from server.core.api import Blueprint
from server.extensions import db
from server.stores.auth import authorized, current_actor

notices_blp = Blueprint("notices", __name__, url_prefix="/api/v1/notices",
                        description="Versioned plain-language notices shown when asking "
                                    "for consent. Published once, never changed.")
consents_blp = Blueprint("consents", __name__, url_prefix="/api/v1/customers",
                         description="A customer's consent events (append-only), the state "
                                     "derived from them, and their sharing tier.")


@notices_blp.route("")
class Notices(MethodView):
    @authorized("notices:read")
    @notices_blp.arguments(NoticeListArgs, location="query")
    @notices_blp.response(200, NoticeList)
    def get(self, args):
        """Every published version, by key, language and number."""
        return {"items": service.notices(db.session, args.get("key"), args.get("language"))}

    @authorized("notices:write")
    @notices_blp.arguments(NoticeCreate)
    @notices_blp.response(201, NoticeOut)
    def post(self, data):
        """Publish the next version of a notice (per key and language)."""
        notice = service.publish_notice(db.session, current_actor(), data)
        db.session.commit()
        return notice, 201, {"Location": f"/api/v1/notices/{notice.id}"}


@notices_blp.route("/<uuid:notice_id>")
class NoticeById(MethodView):
    @authorized("notices:read")
    @notices_blp.response(200, NoticeOut)
    def get(self, notice_id):
        return service.get_notice(db.session, notice_id)


class ConsentAppend(ConsentFields):
    """A consent event posted under its customer; the id may be chosen by the caller."""

    id = fields.UUID()


@consents_blp.route("/<uuid:customer_id>/consents")
class Consents(MethodView):
    @authorized("consents:read")
    @consents_blp.response(200, ConsentSummary)
    def get(self, customer_id):
        """Every event in order of receipt, the state per purpose and channel, the tier."""
        return service.show_summary(db.session, current_actor(), customer_id)

    @authorized("consents:withdraw")
    @consents_blp.arguments(ConsentAppend)
    @consents_blp.response(201, ConsentOut)
    def post(self, data, customer_id: uuid.UUID):
        """Append a consent event. A grant cites a published notice covering it (422)."""
        event = service.record_for(db.session, current_actor(), customer_id, data)
        db.session.commit()
        return event, 201
