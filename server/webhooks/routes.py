"""HTTP for webhook subscriptions (admin keys)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from server.core.api import Blueprint
from server.core.http import etag_for, expected_version
from server.extensions import db
from server.stores.auth import authorized, current_actor
from server.webhooks import service
from server.webhooks.schemas import (
    DeliveryListArgs,
    DeliveryPage,
    ReplayBody,
    ReplayOut,
    WebhookCreate,
    WebhookCreated,
    WebhookListArgs,
    WebhookOut,
    WebhookPage,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Signed POSTs of the CRM feed's events (ids only), retried "
                            "with backoff, with a delivery log per subscription.")


@blp.route("")
class Webhooks(MethodView):
    @authorized("webhooks:admin")
    @blp.arguments(WebhookListArgs, location="query")
    @blp.response(200, WebhookPage)
    def get(self, args):
        """Subscriptions, newest first (no secrets)."""
        items, next_token = service.find(db.session, args["limit"], args["after"])
        return {"items": items, "next": next_token}

    @authorized("webhooks:admin")
    @blp.arguments(WebhookCreate)
    @blp.response(201, WebhookCreated)
    def post(self, data):
        """Subscribe a URL to event types; the answer carries the signing secret, once."""
        subscription, secret = service.create(
            db.session, current_actor(), data, master_key=current_app.config["SECRET_KEY"],
            default_max_attempts=current_app.config["WEBHOOK_MAX_ATTEMPTS"])
        db.session.commit()
        body = {name: getattr(subscription, name) for name in WebhookOut().fields}
        return body | {"secret": secret}, 201, {"Location": f"/api/v1/webhooks/{subscription.id}",
                           "ETag": etag_for(subscription.version)}


@blp.route("/<uuid:webhook_id>")
class WebhookById(MethodView):
    @authorized("webhooks:admin")
    @blp.response(200, WebhookOut)
    def get(self, webhook_id):
        subscription = service.get(db.session, webhook_id)
        return subscription, 200, {"ETag": etag_for(subscription.version)}

    @authorized("webhooks:admin")
    @blp.response(204)
    def delete(self, webhook_id):
        """Deactivate: nothing more is queued or sent; the log stays. `If-Match` guards it."""
        service.deactivate(db.session, current_actor(), webhook_id, expected_version())
        db.session.commit()


@blp.route("/<uuid:webhook_id>/deliveries")
class Deliveries(MethodView):
    @authorized("webhooks:admin")
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args, webhook_id):
        """Deliveries, newest first, with every attempt (status code, error, duration)."""
        items, next_token = service.deliveries(db.session, webhook_id, args.get("status"),
                                               args["limit"], args["after"])
        return {"items": items, "next": next_token}


@blp.route("/<uuid:webhook_id>/replay")
class Replay(MethodView):
    @authorized("webhooks:admin")
    @blp.arguments(ReplayBody)
    @blp.response(200, ReplayOut)
    def post(self, data, webhook_id):
        """Queue again the deliveries of changes from `from_seq` on (only the dead ones
        with `dead_only`), with fresh attempts; their delivery ids stay the same."""
        count = service.replay(db.session, current_actor(), webhook_id, data["from_seq"],
                               data["dead_only"])
        db.session.commit()
        return {"requeued": count}
