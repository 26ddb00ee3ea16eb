"""`flask webhooks …`: manage subscriptions, run the delivery worker, replay.

A new subscription's signing secret is printed alone on the last line, once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import uuid
from collections.abc import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from server.core.actor import Actor
from server.core.errors import BlackbookError
from server.extensions import db
from server.webhooks import delivery, service
from server.webhooks.outbox import EVENTS, EVERY_EVENT
from server.webhooks.schemas import WebhookCreate

webhooks_cli = click.Group("webhooks", help="Webhook subscriptions and their delivery worker.")
OPERATOR = Actor("admin", label="cli")


def _fail_on_domain_error(action):
    try:
        return action()
    except BlackbookError as error:
        db.session.rollback()
        details = f" {error.errors}" if error.errors else ""
        raise click.ClickException(f"{error.detail}{details}") from None


@webhooks_cli.command("create")
@click.option("--url", required=True, help="where to POST (http or https)")
@click.option("--event", "events", multiple=True, required=True,
              help=f"an event type ({', '.join(EVENTS)}) or {EVERY_EVENT} for all; repeatable")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=None,
              help="tries before a delivery is dead (default: BLACKBOOK_WEBHOOK_MAX_ATTEMPTS)")
@with_appcontext
def create(url, events, max_attempts):
    """Subscribe a URL. The signing secret is printed alone on the last line, once."""
    body = {"url": url, "events": list(events)}
    if max_attempts is not None:
        body["max_attempts"] = max_attempts
    try:
        data = WebhookCreate().load(body)
    except ValidationError as error:
        raise click.ClickException(f"not created: {error.messages}") from None
    subscription, secret = service.create(
        db.session, OPERATOR, data, master_key=current_app.config["SECRET_KEY"],
        default_max_attempts=current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    db.session.commit()
    click.echo(f"webhook {subscription.id} created for {', '.join(subscription.events)}; "
               "signing secret shown once, keep it safe:")
    click.echo(secret)


@webhooks_cli.command("list")
@with_appcontext
def list_subscriptions():
    after = None
    while True:
        page, after = service.find(db.session, 200, after)
        for s in page:
            state = "active" if s.active else f"inactive since {s.deactivated_at:%Y-%m-%d}"
            click.echo(f"{s.id}\t{state}\t{','.join(s.events)}\t{s.max_attempts}\t{s.url}")
        if after is None:
            return


@webhooks_cli.command("deactivate")
@click.argument("subscription_id", type=click.UUID)
@with_appcontext
def deactivate(subscription_id: uuid.UUID):
    _fail_on_domain_error(lambda: service.deactivate(db.session, OPERATOR, subscription_id))
    db.session.commit()
    click.echo(f"webhook {subscription_id} deactivated")


@webhooks_cli.command("replay")
@click.argument("subscription_id", type=click.UUID)
@click.option("--from-seq", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="the first change (its seq in the change log) to send again")
@click.option("--dead-only", is_flag=True, help="only deliveries that ran out of attempts")
@with_appcontext
def replay(subscription_id: uuid.UUID, from_seq: int, dead_only: bool):
    """Queue deliveries again, with fresh attempts (their delivery ids stay)."""
    count = _fail_on_domain_error(lambda: service.replay(
        db.session, OPERATOR, subscription_id, from_seq, dead_only))
    db.session.commit()
    click.echo(f"{count} deliveries queued again")


@webhooks_cli.command("deliver")
@click.option("--once", is_flag=True, help="one pass (a batch), then exit")
@click.option("--interval", type=click.FloatRange(0.01), default=2.0, show_default=True,
              help="seconds to wait when nothing was due")
@click.option("--batch", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--lease", type=click.FloatRange(1), default=300.0, show_default=True,
              help="seconds a worker holds a claimed batch")
@click.option("--timeout", type=click.FloatRange(0.01), default=10.0, show_default=True,
              help="connect and read timeout of each POST, in seconds")
@click.option("--max-loops", type=click.IntRange(1), default=None,
              help="stop after this many passes")
@with_appcontext
def deliver(once, interval, batch, lease, timeout, max_loops):
    """Deliver due webhooks; as many workers as wanted may run at once. Stops after the
    current pass on SIGTERM or Ctrl-C."""
    if lease < 2 * timeout + 1:
        raise click.UsageError("--lease must leave time for a POST: at least 2 x --timeout + 1.")
    settings = delivery.Settings.from_config(current_app.config, batch=batch,
                                             lease_seconds=lease, timeout=timeout)
    worker = delivery.worker_id()
    with _stop_on_signals() as stop:
        totals = delivery.run(db.session, settings, worker, interval=interval,
                              max_loops=1 if once else max_loops, stopping=lambda: stop["now"],
                              report=lambda results: click.echo(_summary(results)))
    click.echo(f"worker {worker} done: {_summary(totals) or 'nothing was due'}")


def _summary(results) -> str:
    return ", ".join(f"{count} {state}" for state, count in sorted(results.items()))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[dict[str, bool]]:
    """SIGTERM and Ctrl-C let the current pass finish (its leases then need no expiry)."""
    stop = {"now": False}

    def finish_the_pass(signum, frame):
        stop["now"] = True

    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return
    previous = {number: signal.signal(number, finish_the_pass)
                for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
