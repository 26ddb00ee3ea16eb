"""`flask notices …`: publish and list notice versions."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from server.consent import service
from server.consent.schemas import NoticeCreate
from server.core.actor import Actor
from server.extensions import db

notices_cli = click.Group("notices", help="Publish and list consent notices.")


@notices_cli.command("publish")
@click.option("--key", required=True, help="the notice's name, e.g. marketing")
@click.option("--language", required=True, help="a language tag, e.g. en or en-GB")
@click.option("--title", required=True)
@click.option("--text-file", type=click.File("r", encoding="utf-8"), required=True,
              help="the plain-language text shown to the customer ('-' for stdin)")
@click.option("--value-exchange", required=True, help='"giving x gets you y"')
@click.option("--purpose", "purposes", multiple=True, required=True)
@click.option("--channel", "channels", multiple=True, required=True)
@click.option("--requires-reconsent", is_flag=True,
              help="grants citing earlier versions stop counting")
@with_appcontext
def publish(key, language, title, text_file, value_exchange, purposes, channels,
            requires_reconsent):
    """Publish the next version of a notice; prints its id on the last line."""
    try:
        data = NoticeCreate().load({
            "key": key, "language": language, "title": title, "text": text_file.read(),
            "value_exchange": value_exchange, "purposes": list(purposes),
            "channels": list(channels), "requires_reconsent": requires_reconsent})
    except ValidationError as error:
        raise click.ClickException(f"not published: {error.messages}") from None
    notice = service.publish_notice(db.session, Actor("admin", label="cli"), data)
    db.session.commit()
    click.echo(f"notice {notice.key} ({notice.language}) version {notice.number} published")
    click.echo(str(notice.id))


@notices_cli.command("list")
@with_appcontext
def list_notices():
    for notice in service.notices(db.session):
        flags = " requires re-consent" if notice.requires_reconsent else ""
        click.echo(f"{notice.key}\t{notice.language}\tv{notice.number}\t{notice.id}\t"
                   f"{','.join(notice.purposes)}\t{','.join(notice.channels)}{flags}")
