"""`flask customers …`: head office's commands on customer records."""

from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext

from server.core.actor import Actor
from server.core.errors import BlackbookError
from server.customers import merge as merging
from server.extensions import db

customers_cli = click.Group("customers", help="Customer records.")


@customers_cli.command("merge")
@click.argument("duplicate_id", type=click.UUID)
@click.option("--into", "survivor_id", type=click.UUID, required=True,
              help="the record of the same person that stays")
@with_appcontext
def merge(duplicate_id: uuid.UUID, survivor_id: uuid.UUID):
    """Merge a duplicate record into the one that stays (see server/customers/merge.py)."""
    try:
        result = merging.merge(db.session, Actor("admin", label="cli"), duplicate_id,
                               survivor_id)
    except BlackbookError as error:
        db.session.rollback()
        fields = "; ".join(f"{name}: {' '.join(map(str, messages))}"
                           for name, messages in (error.errors or {}).items())
        raise click.ClickException(f"{error.detail}{' (' + fields + ')' if fields else ''}") \
            from None
    db.session.commit()
    if result.already:
        click.echo(f"customer {duplicate_id} was merged into {survivor_id} already")
    else:
        filled = ", ".join(result.filled) or "none"
        click.echo(f"customer {duplicate_id} merged into {survivor_id}: {result.requests} "
                   f"requests and {result.notes} notes moved, {result.refusals} refusals "
                   f"carried over, fields filled: {filled}")
