"""Sessions and CSRF for the dashboard's pages.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax; Secure with
BLACKBOOK_SECURE_COOKIES=1, as production behind TLS sets)
holding the user's id and session epoch, so logging out anywhere ends every copy of
the cookie. Every POST carries the session's CSRF token in a hidden field.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import uuid

from flask import g, redirect, request, session, url_for

from server.core.errors import Forbidden
from server.dashboard import users
from server.dashboard.models import User
from server.extensions import db


class CsrfRefused(Forbidden):
    code, title = "csrf_refused", "The form could not be trusted"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Before every POST: the form's token must be the session's."""
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("This form has expired or did not come from this site: "
                          "reload the page and try again.")


def sign_in(user: User) -> None:
    session.clear()
    session.permanent = True
    session.update(uid=str(user.id), epoch=user.session_epoch,
                   csrf=secrets.token_urlsafe(32))


def sign_out(user: User | None) -> None:
    if user is not None:
        users.end_sessions(user)
    session.clear()


def load_user() -> None:
    g.user = None
    uid, epoch = session.get("uid"), session.get("epoch")
    if uid is None or epoch is None:
        return
    try:
        g.user = users.active(db.session, uuid.UUID(uid), int(epoch))
    except (ValueError, TypeError):
        g.user = None
    if g.user is None:
        session.pop("uid", None)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("dashboard.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped
