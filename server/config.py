"""Configuration, read from the environment once, with documented defaults.

DATABASE_URL         SQLAlchemy URL. Default: SQLite at <instance>/blackbook.sqlite3.
                     PostgreSQL: postgresql+psycopg://user:password@host/db
BLACKBOOK_INSTANCE   folder of the default SQLite file. Default: ./instance
BLACKBOOK_MAX_BODY   largest request body in bytes (413 beyond). Default: 5242880
BLACKBOOK_LOG_LEVEL  level of the request log. Default: INFO
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MAX_BODY = 5 * 1024 * 1024


def _default_sqlite_url() -> str:
    instance = Path(os.environ.get("BLACKBOOK_INSTANCE", Path.cwd() / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'blackbook.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs always use psycopg 3, whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment() -> dict:
    url = os.environ.get("DATABASE_URL") or _default_sqlite_url()
    return {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
        "MAX_CONTENT_LENGTH": int(os.environ.get("BLACKBOOK_MAX_BODY", DEFAULT_MAX_BODY)),
        "LOG_LEVEL": os.environ.get("BLACKBOOK_LOG_LEVEL", "INFO"),
    }


API_SETTINGS = {
    "API_TITLE": "Blackbook",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "JSON_SORT_KEYS": False,
}
