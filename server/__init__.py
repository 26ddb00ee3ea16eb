"""Blackbook server: `create_app` builds the Flask app; nothing happens at import."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_sqlalchemy.session import Session as FlaskSqlSession
from flask_swagger_ui import get_swaggerui_blueprint

# models: every table registered before migrations run
from server import audit, dashboard, models  # noqa: F401
from server import config as settings
from server.changelog import service as changelog
from server.core import database, problems
from server.core.api import make_api
from server.core.http import require_json_body
from server.core.json import SafeJSONProvider
from server.extensions import db, end_request_session, migrate
from server.notes import sensitive
from server.ops import request_log

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.json = SafeJSONProvider(app)
    app.config.update(settings.API_SETTINGS)
    app.config.update(settings.from_environment())
    app.config.update(config or {})
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", database.engine_options(url))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("blackbook").setLevel(app.config["LOG_LEVEL"])

    db.init_app(app)
    app.teardown_request(end_request_session)
    app.before_request(database.mark_read_requests)
    app.teardown_request(database.unmark_read_requests)
    with app.app_context():
        database.configure(db.engine)
    changelog.install(FlaskSqlSession)
    dashboard.install()  # the requests' search text: its index, and erasure forgets it
    audit.install()  # the access log's index of several customers (PostgreSQL)
    migrate.init_app(app, db, directory=MIGRATIONS)
    api = make_api(app)
    problems.register(app)
    sensitive.scanner()  # a broken operator lexicon stops the start, not the first note
    request_log.install(app)
    app.before_request(require_json_body)
    _register_blueprints(app, api)
    _register_commands(app)
    _install_domains()
    return app


def _install_domains() -> None:
    """Each domain registers what it writes into the change log, and connects its own
    listeners to the signals it reacts to; the log must know every entity it carries."""
    from server import consent, contact, customer_requests, customers, notes, privacy, webhooks

    for domain in (customers, customer_requests, notes, consent, contact, privacy, webhooks):
        domain.install()
    missing = changelog.missing_registrations()
    if missing:  # a domain forgot to register: refuse to start rather than fail a commit
        raise RuntimeError(f"Not registered with the change log: {', '.join(sorted(missing))}")


def _register_blueprints(app: Flask, api) -> None:
    from server.consent.routes import consents_blp, notices_blp
    from server.contact.routes import followups_blp, policy_blp
    from server.customer_requests.routes import blp as requests_blp
    from server.customers.routes import blp as customers_blp
    from server.dashboard.routes import bp as dashboard_pages
    from server.feed.routes import blp as feed_blp
    from server.notes.routes import blp as notes_blp
    from server.ops.routes import blp as ops_blp
    from server.privacy.page_routes import pages as customer_pages
    from server.privacy.routes import blp as privacy_blp
    from server.stores.routes import blp as stores_blp
    from server.sync.routes import blp as sync_blp
    from server.tablet import init_app as init_tablet_app
    from server.webhooks.routes import blp as webhooks_blp

    for blueprint in (stores_blp, customers_blp, requests_blp, notes_blp, notices_blp,
                      consents_blp, policy_blp, followups_blp, sync_blp, feed_blp,
                      privacy_blp, webhooks_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(ops_blp)
    app.register_blueprint(customer_pages)
    app.register_blueprint(dashboard_pages)
    init_tablet_app(app)  # the store assistants' web app, /tablet/
    app.register_blueprint(get_swaggerui_blueprint(
        "/api/v1/docs", "/api/v1/openapi.json", config={"app_name": "Blackbook API v1"}))


def _register_commands(app: Flask) -> None:
    from server.changelog.cli import changes_cli
    from server.consent.cli import notices_cli
    from server.customers.cli import customers_cli
    from server.dashboard.cli import search_cli, users_cli
    from server.demo import demo_cli
    from server.notes.cli import notes_cli
    from server.privacy.cli import privacy_cli
    from server.stores.cli import associates_cli, keys_cli, stores_cli
    from server.webhooks.cli import webhooks_cli

    for group in (stores_cli, keys_cli, associates_cli, demo_cli, changes_cli,
                  notices_cli, notes_cli, privacy_cli, webhooks_cli, users_cli,
                  customers_cli, search_cli):
        app.cli.add_command(group)
