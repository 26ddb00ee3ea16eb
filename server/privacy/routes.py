"""HTTP for privacy operations: erasure, the access export, privacy requests."""

from __future__ import annotations

from flask import Response, current_app, render_template, request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from server.core.api import Blueprint
from server.core.fields import Timestamp
from server.core.paging import PageArgs
from server.extensions import db
from server.privacy import (
    access_history,
    erasure,
    export,
    privacy_requests,
    propagation,
    selfservice,
)
from server.stores.auth import authorized, current_actor

blp = Blueprint("privacy", __name__, url_prefix="/api/v1",
                template_folder="templates",
                description="Privacy operations: access exports, erasure, and the requests "
                            "customers make for them (due within a month).")


class NoFields(Schema):
    """These actions take no fields: send `{}`."""


class ErasureOut(Schema):
    customer_id = fields.UUID()
    erased_at = Timestamp()
    already = fields.Bool(metadata={"description": "erased before: nothing more was done"})
    notes_deleted = fields.Int()
    requests_anonymised = fields.Int()
    suppressed = fields.Int(metadata={"description": "contact points put on the "
                                                     "suppression list"})


class ExportArgs(Schema):
    format = fields.Str(load_default=None, validate=validate.OneOf(("json", "html")))


class ExportOut(Schema):
    customer_id = fields.Str()
    generated_at = fields.Str()
    erased = fields.Bool()
    purposes = fields.Dict()
    sections = fields.Dict()
    merged_records = fields.List(fields.Dict(), metadata={
        "description": "records of this person merged into this one: what they still "
                       "hold (consent events, the access log), as their own sections"})


class AccessEntryOut(Schema):
    customer_id = fields.UUID()
    action = fields.Str()
    what = fields.Str()
    scope = fields.Str()
    key_id = fields.UUID(allow_none=True)
    store_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    at = Timestamp()


class AccessLogPage(Schema):
    items = fields.List(fields.Nested(AccessEntryOut))
    next = fields.Str(allow_none=True)


class PrivacyRequestCreate(Schema):
    customer_id = fields.UUID(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(("access", "erasure")))


class PrivacyRequestOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    kind = fields.Str()
    status = fields.Str()
    received_at = Timestamp()
    due_at = Timestamp()
    completed_at = Timestamp(allow_none=True)


class PrivacyRequestArgs(PageArgs):
    status = fields.Str(validate=validate.OneOf(("open", "completed")))
    overdue = fields.Bool()


class PrivacyRequestPage(Schema):
    items = fields.List(fields.Nested(PrivacyRequestOut))
    next = fields.Str(allow_none=True)


@blp.route("/customers/<uuid:customer_id>/erasure")
class Erase(MethodView):
    @authorized("privacy:erase")
    @blp.arguments(NoFields)
    @blp.response(200, ErasureOut)
    def post(self, _, customer_id):
        """Erase the customer's personal data everywhere, in one transaction; tablets,
        the CRM feed and webhooks learn of it. Repeating it changes nothing."""
        result = erasure.erase(db.session, current_actor(), customer_id)
        db.session.commit()
        return result


@blp.route("/customers/<uuid:customer_id>/export")
class Export(MethodView):
    @authorized("privacy:export")
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, ExportOut)
    def get(self, args, customer_id):
        """Everything held about the customer, as JSON, or as a page a person can read
        (`?format=html`, or `Accept: text/html`)."""
        data = export.hand_over(db.session, current_actor(), customer_id)
        wants_html = args["format"] == "html" or (
            args["format"] is None and request.accept_mimetypes.best == "text/html")
        if wants_html:
            return Response(render_template("privacy/export.html", data=data),
                            mimetype="text/html")
        return data


class PageLinkOut(Schema):
    url = fields.Str(metadata={"description": "the customer's own page; show it as a QR "
                                              "code, or send it on a channel they allowed"})
    expires_at = Timestamp()


@blp.route("/customers/<uuid:customer_id>/page-link")
class PageLink(MethodView):
    @authorized("customers:write")
    @blp.arguments(NoFields)
    @blp.response(201, PageLinkOut)
    def post(self, _, customer_id):
        """A signed link, valid two weeks, to the customer's own page: what is held, why,
        what sharing gets them, one-click withdrawal, and their export."""
        token, expires_at = selfservice.page_link(current_app.config["SECRET_KEY"],
                                                  db.session, current_actor(), customer_id)
        db.session.commit()
        return {"url": url_for("customer_page.show", token=token, _external=True),
                "expires_at": expires_at}, 201


class PropagationOut(Schema):
    customer_id = fields.UUID()
    system = fields.Str(metadata={"description": "crm, or webhook <subscription id>"})
    created_at = Timestamp()
    acknowledged_at = Timestamp(allow_none=True)


class PropagationArgs(Schema):
    pending = fields.Bool(load_default=None)
    limit = fields.Int(load_default=200, validate=validate.Range(1, 1000))


class PropagationList(Schema):
    items = fields.List(fields.Nested(PropagationOut))


@blp.route("/customers/<uuid:customer_id>/erasure/ack")
class AcknowledgeErasure(MethodView):
    @authorized("feed:read")
    @blp.arguments(NoFields)
    @blp.response(200, PropagationOut)
    def post(self, _, customer_id):
        """The CRM says it has erased this customer too (after the feed's tombstone)."""
        record = propagation.acknowledge(db.session, customer_id, propagation.CRM)
        db.session.commit()
        return record


@blp.route("/erasures")
class Erasures(MethodView):
    @authorized("privacy:export")
    @blp.arguments(PropagationArgs, location="query")
    @blp.response(200, PropagationList)
    def get(self, args):
        """Every erasure's downstream systems, oldest first; `pending=true`: those that
        have not yet said they applied it."""
        return {"items": propagation.listing(db.session, args["pending"], args["limit"])}


@blp.route("/customers/<uuid:customer_id>/access-log")
class AccessLog(MethodView):
    @authorized("privacy:export")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AccessLogPage)
    def get(self, args, customer_id):
        """Who read, searched, exported or changed the customer's data: newest first."""
        items, next_token = access_history.for_customer(db.session, current_actor(), customer_id,
                                                    args["limit"], args["after"])
        return {"items": items, "next": next_token}


@blp.route("/privacy-requests")
class PrivacyRequests(MethodView):
    @authorized("privacy:export")
    @blp.arguments(PrivacyRequestArgs, location="query")
    @blp.response(200, PrivacyRequestPage)
    def get(self, args):
        """Requests, the soonest due first (`overdue=true`: open past their due date)."""
        limit, after = args.pop("limit"), args.pop("after")
        items, next_token = privacy_requests.find(db.session, args, limit, after)
        return {"items": items, "next": next_token}

    @authorized("privacy:export")
    @blp.arguments(PrivacyRequestCreate)
    @blp.response(201, PrivacyRequestOut)
    def post(self, data):
        """Record a customer's access or erasure request, due in one month. An erasure
        request is announced to the CRM and webhooks at once."""
        result = privacy_requests.receive(db.session, current_actor(), data["customer_id"],
                                  data["kind"])
        db.session.commit()
        return result, 201


@blp.route("/privacy-requests/<uuid:privacy_request_id>/complete")
class CompleteRequest(MethodView):
    @authorized("privacy:erase")
    @blp.arguments(NoFields)
    @blp.response(200, PrivacyRequestOut)
    def post(self, _, privacy_request_id):
        """Close the request; an erasure request erases now."""
        result = privacy_requests.complete(db.session, current_actor(), privacy_request_id)
        db.session.commit()
        return result
