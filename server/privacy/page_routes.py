"""The customer's own page (HTML, no script, no asset from elsewhere): `/me/<link>`."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from server.consent.purposes import PURPOSES
from server.consent.schemas import CONSENT_CHANNELS
from server.core.errors import BlackbookError
from server.extensions import db
from server.privacy import selfservice

pages = Blueprint("customer_page", __name__, url_prefix="/me", template_folder="templates")


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _failed(error: BlackbookError) -> Response:
    db.session.rollback()
    return Response(render_template("privacy/page_error.html", message=error.detail),
                    status=error.status, mimetype="text/html")


@pages.get("/<token>")
def show(token: str):
    try:
        customer = selfservice.customer_of(_secret(), db.session, token)
        data = selfservice.page(db.session, customer)
    except BlackbookError as error:
        return _failed(error)
    return render_template("privacy/customer_page.html", token=token, purposes=PURPOSES,
                           withdrawable=selfservice.withdrawable(data["state"]),
                           done=request.args.get("done"), **data)


@pages.post("/<token>/withdraw")
def withdraw(token: str):
    purpose, channel = request.form.get("purpose", ""), request.form.get("channel", "")
    if purpose not in PURPOSES or channel not in CONSENT_CHANNELS:
        return Response(render_template("privacy/page_error.html",
                                        message="That choice is not one we know."),
                        status=422, mimetype="text/html")
    try:
        customer = selfservice.customer_of(_secret(), db.session, token)
        selfservice.withdraw(db.session, customer, purpose, channel)
        db.session.commit()
    except BlackbookError as error:
        return _failed(error)
    return redirect(url_for("customer_page.show", token=token, done="1"), code=303)


@pages.get("/<token>/export.json")
def download(token: str):
    try:
        customer = selfservice.customer_of(_secret(), db.session, token)
        data = selfservice.own_export(db.session, customer)
    except BlackbookError as error:
        return _failed(error)
    return Response(json.dumps(data, indent=2, ensure_ascii=False),
                    mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"'})
