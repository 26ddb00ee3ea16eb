"""Bearer-key authentication and scope checks for the blueprints (HTTP only)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request

from server.core.actor import Actor
from server.core.errors import Unauthorized
from server.extensions import db
from server.stores import keys, permissions


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <api key>`.")
    return token.strip()


def authorized(permission: str) -> Callable:
    """Authenticate the caller, check the scope, and put the actor in `g.actor`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = keys.authenticate(db.session, _bearer_token())
            permissions.require(actor, permission)
            g.actor = actor
            return view(*args, **kwargs)

        return wrapper

    return decorator


def current_actor() -> Actor:
    return g.actor
