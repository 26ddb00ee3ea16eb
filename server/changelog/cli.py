"""`flask changes prune`: keep the change log small (see changelog.retention)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from server.changelog import retention
from server.extensions import db

changes_cli = click.Group("changes", help="The change log behind sync and the feed.")


@changes_cli.command("prune")
@click.option("--tombstone-days", type=click.IntRange(1), default=90, show_default=True,
              help="keep tombstones this long; devices offline longer resync (410)")
@with_appcontext
def prune(tombstone_days: int) -> None:
    result = retention.prune(db.session, timedelta(days=tombstone_days))
    db.session.commit()
    click.echo(f"pruned {result.superseded} superseded changes and {result.tombstones} "
               f"tombstones; cursors below {result.pruned_through} now resync")
