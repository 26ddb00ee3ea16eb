"""`flask notes rescan`: scan stored notes again after the scanner or lexicon changed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.extensions import db
from server.notes import service

notes_cli = click.Group("notes", help="Notes.")


@notes_cli.command("rescan")
@click.option("--batch", default=500, show_default=True)
@with_appcontext
def rescan(batch: int):
    """Flag notes again; newly sensitive ones are withdrawn from the CRM feed."""
    scanned, changed = service.rescan(db.session, batch)
    click.echo(f"{scanned} notes scanned, {changed} changed their flags")
