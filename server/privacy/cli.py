"""`flask privacy …`: the privacy officer's commands."""

from __future__ import annotations

import sys
import uuid

import click
from flask.cli import with_appcontext

from server.core.actor import Actor
from server.core.errors import BlackbookError
from server.extensions import db
from server.privacy import erasure, retention

privacy_cli = click.Group("privacy", help="Privacy operations.")


@privacy_cli.command("erase")
@click.argument("customer_id", type=click.UUID)
@with_appcontext
def erase(customer_id: uuid.UUID):
    """Erase a customer's personal data everywhere (idempotent)."""
    try:
        result = erasure.erase(db.session, Actor("admin", label="cli"), customer_id)
    except BlackbookError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from None
    db.session.commit()
    if result.already:
        click.echo(f"customer {customer_id} was erased already, at {result.erased_at}")
    else:
        click.echo(f"customer {customer_id} erased: {result.notes_deleted} notes deleted, "
                   f"{result.requests_anonymised} requests anonymised, "
                   f"{result.suppressed} contact points suppressed")


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="only say what each rule would do")
@click.option("--batch", default=500, show_default=True, help="records per transaction")
@with_appcontext
def apply_retention(dry_run: bool, batch: int):
    """Apply the retention rules (see server/privacy/retention.py); safe to re-run."""
    rules = retention.Rules.from_environment()
    todo = retention.pending(db.session, rules)
    db.session.rollback()
    if dry_run:
        for rule, count in todo.items():
            click.echo(f"{rule}: {count} to do")
        return
    with click.progressbar(length=sum(todo.values()), label="retention",
                           file=sys.stderr) as bar:
        done = retention.apply(db.session, rules, batch=batch,
                               progress=lambda rule, count: bar.update(count))
    for rule, count in done.done.items():
        click.echo(f"{rule}: {count}")
