"""Configuration, read from the environment once, with documented defaults.

DATABASE_URL         SQLAlchemy URL. Default: SQLite at <instance>/blackbook.sqlite3.
                     PostgreSQL: postgresql+psycopg://user:password@host/db
BLACKBOOK_INSTANCE   folder of the default SQLite file. Default: ./instance
BLACKBOOK_HOST, BLACKBOOK_PORT  where `python -m server` listens. Default: 127.0.0.1, 5000
BLACKBOOK_MAX_BODY   largest request body in bytes (413 beyond). Default: 5242880
BLACKBOOK_LOG_LEVEL  level of the request log. Default: INFO
BLACKBOOK_SECRET_KEY the server's master key (webhook signing secrets are derived from
                     it; changing it changes every subscription's secret). Production
                     sets it, the same on every host and worker. Default: a random key
                     generated once into <instance>/secret_key (mode 0600), so the
                     embedded default needs no configuration.
BLACKBOOK_WEBHOOK_MAX_ATTEMPTS  tries before a delivery is dead, unless the
                     subscription says otherwise. Default: 8
BLACKBOOK_WEBHOOK_BACKOFF       first retry delay in seconds; doubled per attempt,
                     with jitter, up to 6 hours. Default: 60
BLACKBOOK_SENSITIVE_LEXICON  a JSON lexicon extending (or, with "replace": true,
                     replacing) the note scanner's default; format in
                     server/notes/sensitive.py. Default: none.
BLACKBOOK_CHARTS_CACHE_SECONDS  how long each worker keeps the dashboard's drawn charts
                     (aggregates only). Default: 300; 0 recounts on every view.
BLACKBOOK_SEARCH_INDEX_SECONDS  how often each web process looks whether the requests'
                     search index needs a pass (dashboard.search_index): when the
                     captures have paused this long. Default: 1; 0 runs none (then run
                     `flask search catch-up` from a timer: a search stays complete, it
                     only slows as the unindexed tail grows).
BLACKBOOK_SEARCH_INDEX_LONGEST_SECONDS  a pass runs anyway once the oldest unindexed
                     change is this old (captures that never pause). Default: 60.
BLACKBOOK_SECURE_COOKIES  1: the dashboard's session cookie is sent over HTTPS only
                     (production behind TLS). Default: 0, so the embedded default
                     works on http://127.0.0.1.
BLACKBOOK_RETAIN_CLOSED_REQUESTS_MONTHS  retention (privacy.retention): a closed request
                     loses its free text this long after it closed. Default: 24
BLACKBOOK_RETAIN_NOTES_MONTHS  a note is deleted this long after it was written.
                     Default: 24
BLACKBOOK_RETAIN_INACTIVE_CUSTOMERS_MONTHS  a customer with no interaction this long is
                     erased. Default: 36
BLACKBOOK_EXPIRE_STALE_DAYS  an open request this far past its due date (or untouched
                     this long, with none) expires. Default: 30

Two settings are read when used rather than at start, so a process can be pointed at
another file without a restart of the tests that do so: the sensitive lexicon
(`sensitive_lexicon`) and the retention rules (`retention`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

DEFAULT_MAX_BODY = 5 * 1024 * 1024


def _instance() -> Path:
    instance = Path(os.environ.get("BLACKBOOK_INSTANCE", Path.cwd() / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return instance


def _default_sqlite_url() -> str:
    return f"sqlite:///{_instance() / 'blackbook.sqlite3'}"


def _instance_secret_key() -> str:
    """The key kept in the instance folder, made on first use. It is written to a
    private temporary file and then linked into place, which fails if another process
    got there first: every process that starts at once ends up reading the same key."""
    path = _instance() / "secret_key"
    if not path.exists():
        draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


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
        "SECRET_KEY": os.environ.get("BLACKBOOK_SECRET_KEY") or _instance_secret_key(),
        "WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("BLACKBOOK_WEBHOOK_MAX_ATTEMPTS", 8)),
        "WEBHOOK_BACKOFF_SECONDS": float(os.environ.get("BLACKBOOK_WEBHOOK_BACKOFF", 60)),
        "SESSION_COOKIE_SECURE": os.environ.get("BLACKBOOK_SECURE_COOKIES", "0") == "1",
        "CHARTS_CACHE_SECONDS": float(os.environ.get("BLACKBOOK_CHARTS_CACHE_SECONDS", 300)),
        "SEARCH_INDEX_SECONDS": float(os.environ.get("BLACKBOOK_SEARCH_INDEX_SECONDS", 1)),
        "SEARCH_INDEX_LONGEST_SECONDS": float(
            os.environ.get("BLACKBOOK_SEARCH_INDEX_LONGEST_SECONDS", 60)),
    }


def listen_address() -> tuple[str, int]:
    """Where `python -m server` (the embedded default) listens."""
    return (os.environ.get("BLACKBOOK_HOST", "127.0.0.1"),
            int(os.environ.get("BLACKBOOK_PORT", "5000")))


SENSITIVE_LEXICON = "BLACKBOOK_SENSITIVE_LEXICON"


def sensitive_lexicon() -> str | None:
    """The operator's lexicon file for the note scanner and the tablets, if any."""
    return os.environ.get(SENSITIVE_LEXICON) or None


def retention() -> dict[str, int]:
    """The retention rules' periods (privacy.retention.Rules)."""
    env = os.environ.get
    return {"months_closed_requests": int(env("BLACKBOOK_RETAIN_CLOSED_REQUESTS_MONTHS", 24)),
            "months_notes": int(env("BLACKBOOK_RETAIN_NOTES_MONTHS", 24)),
            "months_inactive_customers": int(
                env("BLACKBOOK_RETAIN_INACTIVE_CUSTOMERS_MONTHS", 36)),
            "days_stale": int(env("BLACKBOOK_EXPIRE_STALE_DAYS", 30))}


API_SETTINGS = {
    "API_TITLE": "Blackbook",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "JSON_SORT_KEYS": False,
    # The dashboard's session: a signed cookie scripts cannot read, not sent on
    # cross-site posts, ending after a working day.
    "SESSION_COOKIE_NAME": "blackbook_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
}
