"""Keys are stored hashed, revocable, and the CLI prints a new key alone on its last line."""

import sqlalchemy as sa

from server.stores import keys
from server.stores.models import ApiKey, Associate, Device
from tests.factories import bearer


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def test_cli_creates_a_store_and_a_tablet_key_printed_last(app, client, session):
    created = run(app, "stores", "create", "LDN-09", "--name", "London", "--country", "gb",
                  "--timezone", "Europe/London")
    assert created.exit_code == 0, created.output
    result = run(app, "keys", "create", "--scope", "tablet", "--store", "LDN-09",
                 "--device", "Till 2")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("bb_") and " " not in token
    me = client.get("/api/v1/me", headers=bearer(token)).json
    assert me["scope"] == "tablet" and me["store"]["code"] == "LDN-09"
    assert session.scalar(sa.select(Device.name)) == "Till 2"


def test_the_clear_key_is_never_stored(app, session):
    run(app, "stores", "create", "S1", "--name", "S", "--country", "GB",
        "--timezone", "Europe/London")
    token = run(app, "keys", "create", "--scope", "crm").output.strip().splitlines()[-1]
    stored = session.execute(sa.select(ApiKey)).scalar_one()
    assert token not in (stored.digest, stored.prefix)
    assert stored.digest == keys.digest(token)
    everything = " ".join(str(v) for v in session.execute(sa.text("SELECT * FROM api_keys")).one())
    assert token not in everything


def test_revoked_key_is_refused(app, client):
    output = run(app, "keys", "create", "--scope", "admin").output.strip().splitlines()
    token, prefix = output[-1], output[-1].split("_")[1]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert run(app, "keys", "revoke", prefix).exit_code == 0
    refused = client.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.json["detail"]
    listed = run(app, "keys", "list").output
    assert prefix in listed and "revoked" in listed and token not in listed


def test_tablet_key_needs_a_store_and_device(app):
    result = run(app, "keys", "create", "--scope", "tablet")
    assert result.exit_code != 0
    assert "--store" in result.output


def test_bad_store_fields_are_named(app):
    result = run(app, "stores", "create", "X1", "--name", "X", "--country", "ZZ",
                 "--timezone", "Nowhere/Town")
    assert result.exit_code != 0
    assert "country" in result.output and "timezone" in result.output


def test_associates_are_created_once_per_store(app, session):
    run(app, "stores", "create", "S2", "--name", "S", "--country", "GB",
        "--timezone", "Europe/London")
    first = run(app, "associates", "create", "--store", "S2", "--code", "A-117", "--name", "Sam")
    again = run(app, "associates", "create", "--store", "S2", "--code", "A-117", "--name", "Sam")
    assert first.exit_code == 0 and again.exit_code != 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Associate)) == 1


def test_unknown_key_and_wrong_scheme_are_401(client):
    for header in ({"Authorization": "Bearer bb_0000_nope"}, {"Authorization": "Basic abc"},
                   {"Authorization": "Bearer"}, {}):
        response = client.get("/api/v1/me", headers=header)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
