"""Logging in and out, lockout, session cookies, CSRF, and where each role may go."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.core.types import utcnow
from server.dashboard import users
from server.dashboard.models import User
from tests.dashboard.conftest import PASSWORD, csrf_of, log_in


def test_pages_need_a_login_and_come_back_after_it(client, people):
    response = client.get("/dashboard/requests?status=open")
    assert response.status_code == 302
    assert "/dashboard/login?next=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post("/dashboard/login", data={
        "email": people.viewer, "password": PASSWORD, "csrf_token": csrf_of(page),
        "next": "/dashboard/requests?status=open"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/requests?status=open"


def test_the_session_cookie_is_http_only_and_same_site(client, people):
    response = log_in(client, people.viewer)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("blackbook_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_next_address_elsewhere_is_not_followed(client, people):
    page = client.get("/dashboard/login").get_data(as_text=True)
    for target in ("https://evil.example/", "//evil.example/dashboard/", "/api/v1/me"):
        response = client.post("/dashboard/login", data={
            "email": people.viewer, "password": PASSWORD, "csrf_token": csrf_of(page),
            "next": target})
        assert response.headers["Location"] == "/dashboard/requests"
        page = client.get("/dashboard/login").get_data(as_text=True)


@pytest.mark.parametrize("email, password", [
    ("viewer@hq.example", "wrong password!!"),
    ("nobody@hq.example", PASSWORD),
    ("VIEWER@hq.example ", "wrong password!!"),
])
def test_a_wrong_login_says_the_same_whatever_was_wrong(client, people, email, password):
    response = log_in(client, email, password)
    assert response.status_code == 401
    assert users.REFUSED in response.get_data(as_text=True)
    assert client.get("/dashboard/requests").status_code == 302


def test_five_failures_lock_the_account_then_it_opens_again(client, session, people):
    for _ in range(users.MAX_FAILURES):
        assert log_in(client, people.viewer, "not the password").status_code == 401
    locked = log_in(client, people.viewer)  # even the right password, for a while
    assert locked.status_code == 401
    assert users.REFUSED in locked.get_data(as_text=True)
    assert client.get("/dashboard/requests").status_code == 302
    session.close()
    user = users.by_email(session, people.viewer)
    assert user.locked_until > utcnow()
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert log_in(client, people.viewer).status_code == 303


def test_a_locked_account_and_an_unknown_one_cost_the_same_hash(session, people, monkeypatch):
    """No shortcut for locked or unknown accounts: timing says nothing about which exist."""
    user = users.by_email(session, people.viewer)
    user.locked_until = utcnow() + timedelta(minutes=5)
    session.commit()
    checked = []

    class Counting:
        def verify(self, *args):
            checked.append(1)
            return real.verify(*args)

    real = users._hasher
    monkeypatch.setattr(users, "_hasher", Counting())
    for email in (people.viewer, "nobody@hq.example"):
        with pytest.raises(users.LoginRefused):
            users.authenticate(session, email, PASSWORD)
    assert len(checked) == 2


def test_logout_ends_every_copy_of_the_session(client, app, people):
    log_in(client, people.viewer)
    stolen = client.get_cookie("blackbook_session").value
    page = client.get("/dashboard/requests").get_data(as_text=True)
    assert client.post("/dashboard/logout",
                       data={"csrf_token": csrf_of(page)}).status_code == 303
    other = app.test_client()
    other.set_cookie("blackbook_session", stolen)
    assert other.get("/dashboard/requests").status_code == 302


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(client, session,
                                                                        people):
    log_in(client, people.viewer)
    epoch = users.by_email(session, people.viewer).session_epoch
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post("/dashboard/logout", data=data)
        assert response.status_code == 403
        assert "did not come from this site" in response.get_data(as_text=True)
    session.close()
    assert users.by_email(session, people.viewer).session_epoch == epoch
    assert client.get("/dashboard/requests").status_code == 200


def test_login_itself_needs_the_csrf_token(client, people):
    response = client.post("/dashboard/login",
                           data={"email": people.viewer, "password": PASSWORD})
    assert response.status_code == 403


def test_a_disabled_user_is_signed_out(client, session, people):
    log_in(client, people.viewer)
    users.disable(users.by_email(session, people.viewer))
    session.commit()
    assert client.get("/dashboard/requests").status_code == 302
    assert log_in(client, people.viewer).status_code == 401


def test_passwords_are_stored_as_argon2_hashes_only(session, people):
    user = session.query(User).filter_by(email=people.viewer).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("role, store, field", [
    ("store_manager", None, "store"), ("viewer", "A-01", "store"), ("boss", None, "role")])
def test_users_are_made_with_a_role_and_a_store_only_for_managers(session, world, role,
                                                                 store, field):
    with pytest.raises(users.Rejected) as refused:
        users.create(session, "x@hq.example", "X", role, PASSWORD, store)
    assert field in refused.value.errors


def test_a_short_password_is_refused(session, world):
    with pytest.raises(users.Rejected) as refused:
        users.create(session, "x@hq.example", "X", "viewer", "short")
    assert "password" in refused.value.errors


def test_the_cli_creates_a_user_without_the_password_on_the_command_line(app, session, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cli@hq.example", "--name", "Cli",
                                 "--role", "store_manager", "--store", "A-01"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    session.close()
    assert users.authenticate(session, "cli@hq.example", PASSWORD).role == "store_manager"
