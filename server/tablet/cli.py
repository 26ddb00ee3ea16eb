"""`flask tablet enrol`: a new tablet key, shown as a QR code the tablet scans.

The code holds `<server>/tablet/#enrol=<key>`. A URL fragment never reaches a
server, so the key is in no access log on the way; the app reads it, enrols, and
takes it out of the address bar.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import click
import segno
from flask.cli import with_appcontext

from server.core.errors import BlackbookError
from server.extensions import db
from server.stores import keys, service

tablet_cli = click.Group("tablet", help="Enrol tablets in the tablet app.")


def enrolment_url(server: str, token: str) -> str:
    return f"{server.rstrip('/')}/tablet/#enrol={token}"


def _server_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("an http(s) URL, e.g. https://bb.example.com")
    return value


def _issue(store_code: str, device_name: str) -> str:
    try:
        store = service.store_by_code(db.session, store_code)
        device = service.create_device(db.session, store, device_name)
        _, token = keys.issue(db.session, "tablet", device_name, store, device)
    except BlackbookError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from None
    db.session.commit()
    return token


def write_qr(url: str, svg: Path | None) -> str:
    """The QR code as terminal text (and as an SVG file when asked)."""
    code = segno.make(url, error="m")
    if svg:
        # The code holds the key: readable by its owner only, as the secret key file is.
        descriptor = os.open(svg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a file that was there keeps its mode otherwise
        with os.fdopen(descriptor, "wb") as file:
            code.save(file, kind="svg", scale=8, border=4)
    text = io.StringIO()
    code.terminal(out=text, compact=True, border=2)
    return text.getvalue()


@tablet_cli.command("enrol")
@click.option("--store", "store_code", required=True, help="the store's code")
@click.option("--device", "device_name", required=True, help="a name for the tablet")
@click.option("--server", "server", required=True, callback=lambda c, p, v: _server_url(v),
              help="the URL the tablet reaches this server at")
@click.option("--svg", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the QR code to this SVG file")
@with_appcontext
def enrol(store_code: str, device_name: str, server: str, svg: Path | None) -> None:
    """Make a tablet key for a new device and show it as a QR code to scan.

    The key is printed once, alone on the last line, as `keys create` does."""
    token = _issue(store_code, device_name)
    url = enrolment_url(server, token)
    click.echo(write_qr(url, svg))
    click.echo(f"Scan with the tablet's camera, or open {server.rstrip('/')}/tablet/ "
               "and type the key. Shown once, keep it safe:")
    click.echo(token)
