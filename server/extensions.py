"""The extension objects, created unbound; `create_app` binds them."""

from flask.globals import _cv_app, _cv_request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations stable across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _request_or_app_scope() -> int:
    """One session per HTTP request (one transaction), else one per app context (CLI, jobs).

    Flask reuses an app context that is already pushed for a request; scoping by
    request keeps such requests from sharing, and leaking into, one another's session.
    """
    request_ctx = _cv_request.get(None)
    return id(request_ctx) if request_ctx is not None else id(_cv_app.get(None))


def end_request_session(error: BaseException | None = None) -> None:
    db.session.remove()


db = SQLAlchemy(model_class=Base, session_options={"scopefunc": _request_or_app_scope})
migrate = Migrate()
