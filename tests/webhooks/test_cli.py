"""`flask webhooks …`, and the master key the secrets come from."""

from __future__ import annotations

import os
import stat
import uuid

import sqlalchemy as sa

from server import config
from server.webhooks import signing
from server.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import make_customer
from tests.webhooks.conftest import URL, statuses


def run(app, *args):
    return app.test_cli_runner().invoke(args=["webhooks", *args])


def create(app, *args) -> tuple[uuid.UUID, str]:
    result = run(app, "create", *args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    return uuid.UUID(lines[0].split()[1]), lines[-1]


def test_create_prints_the_secret_alone_on_the_last_line(app, session):
    hook_id, secret = create(app, "--url", URL, "--event", "request.changed",
                             "--event", "note.deleted", "--max-attempts", "3")
    assert secret == signing.secret(app.config["SECRET_KEY"], hook_id)
    assert len(secret) == 64 and " " not in secret
    stored = session.get(WebhookSubscription, hook_id)
    assert (stored.events, stored.max_attempts, stored.url) == (
        ["note.deleted", "request.changed"], 3, URL)
    listed = run(app, "list").output
    assert str(hook_id) in listed and "active" in listed and secret not in listed


def test_create_refuses_bad_urls_and_events(app, session):
    for args in (["--url", "ftp://x.example.com", "--event", "*"],
                 ["--url", URL, "--event", "order.shipped"]):
        result = run(app, "create", *args)
        assert result.exit_code != 0 and "not created" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 0


def test_deactivate_and_replay(app, session, world):
    hook_id, _ = create(app, "--url", URL, "--event", "*")
    make_customer(session, world.tablet_a.actor)
    replayed = run(app, "replay", str(hook_id), "--from-seq", "0")
    assert replayed.exit_code == 0 and "1 deliveries queued again" in replayed.output
    assert "0 deliveries" in run(app, "replay", str(hook_id), "--dead-only").output
    assert run(app, "deactivate", str(hook_id)).exit_code == 0
    assert "inactive since" in run(app, "list").output
    refused = run(app, "replay", str(hook_id))
    assert refused.exit_code != 0 and "inactive" in refused.output
    unknown = run(app, "deactivate", str(uuid.uuid4()))
    assert unknown.exit_code != 0 and "No such webhook" in unknown.output


def test_deliver_once_sends_a_batch(app, session, world, receiver):
    hook_id, secret = create(app, "--url", receiver.url, "--event", "customer.changed")
    for _ in range(3):
        make_customer(session, world.tablet_a.actor)
    result = run(app, "deliver", "--once", "--batch", "2", "--timeout", "2", "--lease", "30")
    assert result.exit_code == 0, result.output
    assert "2 delivered" in result.output
    assert statuses(session) == {"delivered": 2, "pending": 1}
    looped = run(app, "deliver", "--max-loops", "3", "--interval", "0.01", "--timeout", "2",
                 "--lease", "30")
    assert looped.exit_code == 0 and "1 delivered" in looped.output
    assert statuses(session) == {"delivered": 3}
    for item in receiver.received:
        assert signing.verify(secret, item.timestamp, item.body, item.signature)
    session.close()
    assert {d.subscription_id for d in session.scalars(sa.select(WebhookDelivery))} == {hook_id}


def test_deliver_wants_a_lease_longer_than_a_post(app):
    result = run(app, "deliver", "--once", "--timeout", "10", "--lease", "15")
    assert result.exit_code != 0 and "--lease" in result.output


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setenv("BLACKBOOK_INSTANCE", str(tmp_path))
    monkeypatch.delenv("BLACKBOOK_SECRET_KEY", raising=False)
    first = config.from_environment()["SECRET_KEY"]
    again = config.from_environment()["SECRET_KEY"]
    assert first == again and len(first) == 64
    kept = tmp_path / "secret_key"
    assert kept.read_text() == first
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind
    monkeypatch.setenv("BLACKBOOK_SECRET_KEY", "from-the-environment")
    assert config.from_environment()["SECRET_KEY"] == "from-the-environment"
