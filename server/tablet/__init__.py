"""The store assistants' tablet app: an installable web app served by the server.

Static files (HTML, ES modules, CSS, the service worker) from `static/`, the
sensitive-note lexicon the app checks notes with before saving, and a `flask tablet`
command that makes a tablet key and shows it as an enrolment QR code.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from server.tablet.cli import tablet_cli
    from server.tablet.routes import blp

    app.register_blueprint(blp)
    app.cli.add_command(tablet_cli)
