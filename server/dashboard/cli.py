"""`flask users …`: the operator creates the dashboard's people. Passwords are typed at
a hidden prompt (or read from stdin), never given as an argument (shell history)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.core.errors import BlackbookError
from server.dashboard import search_index, users
from server.dashboard.models import ROLES, User
from server.extensions import db

users_cli = click.Group("users", help="Create and manage dashboard users.")
search_cli = click.Group("search", help="The requests' search index.")


def _run(action):
    try:
        result = action()
        db.session.commit()
        return result
    except BlackbookError as error:
        db.session.rollback()
        details = f" {error.errors}" if error.errors else ""
        raise click.ClickException(f"{error.detail}{details}") from None


def _ask(prompt: str) -> str:
    """Typed at a hidden prompt (or piped on stdin), twice: never an argument."""
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--store", "store_code", default=None, help="store code (store managers)")
@with_appcontext
def create(email, display_name, role, store_code):
    password = _ask("Password (12 characters or more)")
    user = _run(lambda: users.create(db.session, email, display_name, role, password,
                                     store_code))
    click.echo(f"user {user.email} created ({user.role})")


@users_cli.command("password")
@click.argument("email")
@with_appcontext
def password(email):
    password = _ask("New password")
    _run(lambda: users.set_password(db.session, users.by_email(db.session, email), password))
    click.echo("password changed; every session of this user has ended")


@users_cli.command("disable")
@click.argument("email")
@with_appcontext
def disable(email):
    def act():
        user = users.by_email(db.session, email)
        users.disable(user)
    _run(act)
    click.echo("user disabled")


@users_cli.command("list")
@with_appcontext
def list_users():
    for user in db.session.scalars(db.select(User).order_by(User.email)):
        state = "disabled" if user.disabled_at else "active"
        click.echo(f"{user.email}\t{user.role}\t{state}\t{user.display_name}")


@search_cli.command("catch-up")
@with_appcontext
def catch_up():
    """Index every request changed since the last pass (the web processes do it every
    BLACKBOOK_SEARCH_INDEX_SECONDS; this is for when they are told not to)."""
    read = search_index.catch_up_all(db.session, wait=True)
    click.echo(f"search index up to date ({read} change-log entries read)")


@search_cli.command("rebuild")
@with_appcontext
def rebuild():
    """Write every request's search text again (after a restore or a bulk load)."""
    click.echo(f"search index rebuilt: {search_index.rebuild(db.session)} requests")
