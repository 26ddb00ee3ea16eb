"""Dashboard users for each role, and a browser-like client that logs in with a form."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from server.dashboard import users

PASSWORD = "correct horse battery"


@dataclass
class People:
    viewer: str
    manager_a: str
    privacy: str
    admin: str


@pytest.fixture
def people(session, world) -> People:
    made = People("viewer@hq.example", "manager.a@hq.example", "privacy@hq.example",
                  "admin@hq.example")
    users.create(session, made.viewer, "Vera Viewer", "viewer", PASSWORD)
    users.create(session, made.manager_a, "Mo Manager", "store_manager", PASSWORD, "A-01")
    users.create(session, made.privacy, "Pat Privacy", "privacy_officer", PASSWORD)
    users.create(session, made.admin, "Ann Admin", "admin", PASSWORD)
    session.commit()
    return made


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, email: str, password: str = PASSWORD):
    token = csrf_of(client.get("/dashboard/login").get_data(as_text=True))
    return client.post("/dashboard/login", data={"email": email, "password": password,
                                                 "csrf_token": token})


@pytest.fixture
def signed_in(client, people):
    """`signed_in(role)`: the client, logged in as that role's person."""
    def sign(role: str):
        response = log_in(client, getattr(people, role))
        assert response.status_code == 303, response.get_data(as_text=True)
        return client
    return sign


from tests.client.conftest import live_server  # noqa: E402,F401  (the real server, by name)


@pytest.fixture(autouse=True)
def _fresh_figures():
    """Drawn charts are kept per worker: no test sees another test's figures."""
    from server.dashboard import figures
    figures.forget()
    yield
    figures.forget()
