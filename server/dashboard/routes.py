"""The dashboard's pages (HTML forms, no script): HTTP only — the rules are in services."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from marshmallow import Schema, ValidationError
from sqlalchemy.orm.exc import StaleDataError

from server.core import database, problems
from server.core.errors import BlackbookError, Rejected
from server.customer_requests.lifecycle import REASONS, STATUSES, TYPES
from server.dashboard import auth, csv_export, figures, listing, roles, service, today, users
from server.dashboard.auth import login_required
from server.dashboard.schemas import (
    DUE,
    FILTER_NAMES,
    SORTS,
    WINDOWS,
    ChartArgs,
    ListFilters,
    LoginForm,
    StatusForm,
    TodayArgs,
)
from server.extensions import db
from server.stores.models import Store

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard",
               template_folder="templates", static_folder="static")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STALE = "Someone changed this request meanwhile: look at it again, then retry."


@bp.before_request
def _before() -> None:
    auth.load_user()
    auth.check_csrf()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@bp.errorhandler(BlackbookError)
def _failed(error: BlackbookError):
    db.session.rollback()
    return render_template("dashboard/error.html", error=error), error.status


@bp.context_processor
def _context() -> dict:
    return {"user": g.get("user"), "csrf_token": auth.csrf_token}


def _safe_next(target: str | None) -> str:
    """Only back into the dashboard: never an open redirect to another site."""
    if target and target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return url_for("dashboard.requests")


@bp.get("/")
def home():
    return redirect(url_for("dashboard.requests"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("dashboard/login.html", next=request.args.get("next"))
    try:
        form = LoginForm().load(request.form)
        user = users.authenticate(db.session, form["email"], form["password"])
    except ValidationError:
        return render_template("dashboard/login.html", failed="Give an email and a password.",
                               next=request.form.get("next")), 422
    except users.LoginRefused as error:
        db.session.commit()  # the failure counts towards the lockout
        return render_template("dashboard/login.html", failed=error.detail,
                               next=request.form.get("next")), 401
    auth.sign_in(user)
    db.session.commit()
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout():
    auth.sign_out(g.get("user"))
    db.session.commit()
    return redirect(url_for("dashboard.login"), code=303)


def _filters() -> dict:
    """The list's query string, with the empty fields of a submitted form left out."""
    raw = {key: [v for v in request.args.getlist(key) if v.strip()] for key in request.args}
    data = {key: values if key in ("type", "status") else values[0]
            for key, values in raw.items() if values}
    return ListFilters().load(data)


def _choices() -> dict:
    stores = db.session.scalars(db.select(Store).order_by(Store.code)).all()
    visible = roles.stores_of(g.user)
    stores = [s for s in stores if visible is None or s.id in visible]
    return {"stores": stores, "regions": sorted({s.region for s in stores if s.region}),
            "types": TYPES, "statuses": STATUSES, "dues": DUE, "sorts": SORTS}


@bp.get("/requests")
@login_required
def requests():
    try:
        args = _filters()
        rows, next_token = listing.page(db.session, roles.stores_of(g.user), args)
    except ValidationError as error:
        return _list_refused(error.messages)
    except Rejected as error:  # a page token that is not ours
        return _list_refused((error.errors or {}).get("query", error.errors or {}))
    query = _query_of(args)
    return render_template(
        "dashboard/requests.html", rows=rows, args=args, errors={}, **_choices(),
        csv_url=_with(url_for("dashboard.requests_csv"), query),
        first_url=_with(url_for("dashboard.requests"), query) if args.get("after") else None,
        next_url=_with(url_for("dashboard.requests"), query + [("after", next_token)])
        if next_token else None)


def _query_of(args: dict) -> list[tuple[str, str]]:
    """The validated filters as a query string's pairs (never what else was sent)."""
    pairs = []
    for name in FILTER_NAMES:
        value = args.get(name)
        values = value if isinstance(value, list) else [value]
        pairs += [(name, str(v)) for v in values if v is not None and v != ""]
    return pairs


def _with(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _list_refused(errors: dict):
    return render_template("dashboard/requests.html", rows=[], args={}, errors=errors,
                           csv_url=None, first_url=None, next_url=None, **_choices()), 422


@bp.get("/requests.csv")
@login_required
def requests_csv():
    try:
        args = _filters()
    except ValidationError as error:
        raise Rejected(errors=error.messages) from None
    rows = listing.stream(db.session, roles.stores_of(g.user), args | {"after": None})
    return Response(stream_with_context(problems.guarded(csv_export.lines(rows))),
                    mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="requests.csv"'})


def _detail_page(request_id: uuid.UUID, error: str | None = None, status: int = 200):
    data = service.detail(db.session, g.user, request_id)
    return render_template(
        "dashboard/request.html", error=error, reasons=REASONS,
        changed=bool(request.args.get("changed")) and error is None, **data), status


@bp.get("/requests/<uuid:request_id>")
@login_required
def request_detail(request_id: uuid.UUID):
    return _detail_page(request_id)


@bp.post("/requests/<uuid:request_id>/status")
@login_required
def change_status(request_id: uuid.UUID):
    data = request.form.to_dict()
    data["reason"] = data.get("reason") or None  # the form's "none" is an empty string
    try:
        form = StatusForm().load(data)
        service.change_status(db.session, g.user, request_id, form["status"], form["reason"],
                              form["version"])
        db.session.commit()
    except ValidationError as error:
        return _refused(request_id, _messages(error.messages), 422)
    except StaleDataError:
        return _refused(request_id, STALE, 409)
    except BlackbookError as error:
        if error.status not in (409, 412, 422):
            raise
        if error.status == 412:  # the form's version is not the record's any more
            return _refused(request_id, STALE, 409)
        return _refused(request_id, _messages(error.errors or {}) or error.detail,
                        error.status)
    return redirect(url_for("dashboard.request_detail", request_id=request_id, changed=1),
                    code=303)


def _refused(request_id: uuid.UUID, message: str, status: int):
    """The page again, with why: read in a reading transaction (on SQLite, a write lock
    held by this request would block the access log's own connection)."""
    db.session.rollback()
    with database.reading():
        return _detail_page(request_id, message, status)


def _messages(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())


def _page_args(schema: Schema) -> dict:
    data = {key: value for key, value in request.args.items() if value.strip()}
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Rejected(errors=error.messages) from None


@bp.get("/today")
@login_required
def calls_today():
    args = _page_args(TodayArgs())
    store = today.store_for(db.session, g.user, args["store"])
    return render_template("dashboard/today.html", **today.calls(db.session, g.user, store),
                           **_choices())


@bp.get("/charts")
@login_required
def charts():
    args = _page_args(ChartArgs())
    stores = figures.stores_for(db.session, g.user, args["store"])
    drawn = figures.all_figures(db.session, stores, args["weeks"],
                                current_app.config["CHARTS_CACHE_SECONDS"])
    return render_template("dashboard/charts.html", drawn=drawn, weeks=args["weeks"],
                           windows=WINDOWS, store=args["store"], **_choices())
