"""`flask stores|keys|associates …`: the operator's commands.

A new key is printed alone on the last line, so scripts can capture it.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.core.errors import BlackbookError
from server.core.vocabulary import CHANNELS
from server.extensions import db
from server.stores import keys, service
from server.stores.models import Store

stores_cli = click.Group("stores", help="Create and list stores.")
keys_cli = click.Group("keys", help="Create, list and revoke API keys.")
associates_cli = click.Group("associates", help="Create associates (the people at the counter).")


def _fail_on_domain_error(action):
    try:
        return action()
    except BlackbookError as error:
        db.session.rollback()
        details = f" {error.errors}" if error.errors else ""
        raise click.ClickException(f"{error.detail}{details}") from None


@stores_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2, e.g. GB")
@click.option("--timezone", "timezone_", required=True, help="IANA zone, e.g. Europe/London")
@click.option("--region", default=None)
@with_appcontext
def create_store(code, name, country, timezone_, region):
    store = _fail_on_domain_error(
        lambda: service.create_store(db.session, code, name, country, timezone_, region))
    db.session.commit()
    click.echo(f"store {store.code} created: {store.id}")


@stores_cli.command("list")
@with_appcontext
def list_stores():
    for store in db.session.scalars(db.select(Store).order_by(Store.code)):
        click.echo(f"{store.code}\t{store.country}\t{store.timezone}\t{store.name}\t{store.id}")


@keys_cli.command("create")
@click.option("--scope", type=click.Choice(["tablet", "crm", "channel", "admin"]),
              required=True)
@click.option("--store", "store_code", help="store code (tablet keys)")
@click.option("--device", "device_name", help="device name (tablet keys: a new device)")
@click.option("--channel", type=click.Choice(CHANNELS), default=None,
              help="the channel a channel key sends on")
@click.option("--label", default=None)
@with_appcontext
def create_key(scope, store_code, device_name, channel, label):
    """Create a key. The key itself is printed alone on the last line, once."""
    def issue():
        store = service.store_by_code(db.session, store_code) if store_code else None
        device = None
        if scope == "tablet":
            if store is None or not device_name:
                raise click.UsageError("A tablet key needs --store and --device.")
            device = service.create_device(db.session, store, device_name)
        return keys.issue(db.session, scope, label or device_name or channel or scope, store,
                          device, channel)

    key, token = _fail_on_domain_error(issue)
    db.session.commit()
    bound = f" store={store_code} device={key.device_id}" if key.device_id else ""
    click.echo(f"{key.scope} key {key.prefix} created{bound}; shown once, keep it safe:")
    click.echo(token)


@keys_cli.command("list")
@with_appcontext
def list_keys():
    for key in keys.all_keys(db.session):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(f"{key.prefix}\t{key.scope}\t{state}\t{key.label}\t{key.id}")


@keys_cli.command("revoke")
@click.argument("prefix_or_id")
@with_appcontext
def revoke_key(prefix_or_id):
    key = _fail_on_domain_error(lambda: keys.revoke(db.session, prefix_or_id))
    db.session.commit()
    click.echo(f"key {key.prefix} revoked")


@associates_cli.command("create")
@click.option("--store", "store_code", required=True)
@click.option("--code", required=True, help="short code shown on captures, e.g. A-117")
@click.option("--name", required=True)
@with_appcontext
def create_associate(store_code, code, name):
    associate = _fail_on_domain_error(lambda: service.create_associate(
        db.session, service.store_by_code(db.session, store_code), code, name))
    db.session.commit()
    click.echo(f"associate {associate.code} created in {store_code}: {associate.id}")
