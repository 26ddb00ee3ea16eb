"""People who sign in to the dashboard: created by an operator, checked at login.

Passwords are hashed with argon2id. Five wrong passwords in a row lock the account
for fifteen minutes (counted in the database, so every worker sees the same count).
Every refusal reads the same and costs the same hash — an unknown address, a wrong
password, a locked account — so neither the answer nor its timing tells an attacker
which addresses are accounts.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from server.core.errors import AlreadyExists, NotFound, Rejected, Unauthorized
from server.core.types import utcnow
from server.dashboard.models import ROLES, User
from server.stores.models import Store

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password, only for timing")


REFUSED = ("Wrong email or password — or too many attempts: after five, an account "
           "waits fifteen minutes.")


class LoginRefused(Unauthorized):
    code, title = "login_refused", "Wrong email or password"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Rejected(errors={"password": [f"Use at least {MIN_PASSWORD} characters."]})


def _store_for(session: Session, role: str, store_code: str | None) -> uuid.UUID | None:
    if role not in ROLES:
        raise Rejected(errors={"role": [f"One of: {', '.join(ROLES)}."]})
    if (role == "store_manager") != bool(store_code):
        raise Rejected(errors={"store": ["A store manager needs a store; other roles none."]})
    if not store_code:
        return None
    store_id = session.scalar(sa.select(Store.id).where(Store.code == store_code))
    if store_id is None:
        raise NotFound(f"No store with code {store_code}.")
    return store_id


def create(session: Session, email: str, display_name: str, role: str, password: str,
           store_code: str | None = None) -> User:
    _check_password(password)
    email = email.strip().lower()
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise AlreadyExists("A user with this email exists.")
    user = User(email=email, display_name=display_name, role=role,
                store_id=_store_for(session, role, store_code),
                password_hash=_hasher.hash(password), session_epoch=0, failed_logins=0)
    session.add(user)
    session.flush()
    return user


def by_email(session: Session, email: str) -> User:
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("No such user.")
    return user


def set_password(session: Session, user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session cookie signed before now stops working (logout, new password)."""
    user.session_epoch += 1


def _verify(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str,
                 now: datetime | None = None) -> User:
    """The user, or LoginRefused; failures are counted (the caller commits)."""
    now = now or utcnow()
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower())
                          .with_for_update())
    right = _verify(user, password)  # always hashed, whatever happens next
    if user is None:
        raise LoginRefused(REFUSED)
    if user.locked_until is not None and user.locked_until > now:
        raise LoginRefused(REFUSED)
    if not right or user.disabled_at is not None:
        _failed(user, now)
        raise LoginRefused(REFUSED)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _failed(user: User, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until, user.failed_logins = now + LOCKOUT, 0


def active(session: Session, user_id: uuid.UUID, epoch: int) -> User | None:
    """The signed-in user of a session cookie, if the cookie still holds."""
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None or user.session_epoch != epoch:
        return None
    return user


def disable(user: User) -> None:
    user.disabled_at = utcnow()
    end_sessions(user)
