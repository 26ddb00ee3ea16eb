"""What the server serves for the tablet app (no browser): the shell with a strict
content policy, the service worker with its scope and build, the lexicon for tablet keys
only, and `flask tablet enrol`'s key and QR code."""

from __future__ import annotations

import json
import os
import stat

import pytest

from server.stores import keys
from server.tablet import cli, lexicon, routes


def test_the_shell_is_served_with_a_strict_content_policy(client):
    response = client.get("/tablet/")
    assert response.status_code == 200
    assert b'<script type="module" src="js/app.js">' in response.data
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    for name in routes.shell_files():
        assert client.get(f"/tablet/{name}").status_code == 200, name
    assert client.get("/tablet").status_code == 308


def test_the_service_worker_covers_the_app_and_lists_its_shell(client):
    response = client.get("/tablet/sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/tablet/"
    assert response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    assert f'const BUILD = "{routes.build_id()}"' in text
    assert '"js/sync.js"' in text and '"index.html"' in text and "__SHELL__" not in text


@pytest.mark.parametrize("path", ["/tablet/../server/config.py", "/tablet/nope.js",
                                  "/tablet/js/../../routes.py", "/tablet/sw.js.map"])
def test_nothing_but_the_shell_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_lexicon_is_for_tablet_keys_and_matches_the_scanners(client, world, monkeypatch,
                                                                 tmp_path):
    assert client.get("/tablet/lexicon.json").status_code == 401
    assert client.get("/tablet/lexicon.json", headers=world.headers("crm")).status_code == 403
    response = client.get("/tablet/lexicon.json", headers=world.tablet_a.headers)
    assert response.status_code == 200
    names = [category["name"] for category in response.json["categories"]]
    assert names[:2] == ["health", "pregnancy"] and "identifiers" in names

    extra = tmp_path / "lexicon.json"
    extra.write_text(json.dumps({"categories": {"tattoos": {"terms": ["tattoo*"]},
                                                "bereavement": None}}))
    monkeypatch.setenv("BLACKBOOK_SENSITIVE_LEXICON", str(extra))
    merged = [category["name"] for category in lexicon.for_tablets()["categories"]]
    assert merged[-1] == "tattoos" and "bereavement" not in merged


def test_flask_tablet_enrol_prints_a_qr_code_and_a_working_key(app, session, world, tmp_path):
    svg = tmp_path / "enrol.svg"
    result = app.test_cli_runner().invoke(args=[
        "tablet", "enrol", "--store", "A-01", "--device", "Counter 2",
        "--server", "https://bb.example.com", "--svg", str(svg)])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("bb_")
    assert cli.enrolment_url("https://bb.example.com/", token) == \
        f"https://bb.example.com/tablet/#enrol={token}"  # a fragment: never sent to a server
    assert svg.read_text().startswith("<?xml") and os.path.getsize(svg) > 1000
    assert stat.S_IMODE(os.stat(svg).st_mode) == 0o600  # it holds the key
    actor = keys.authenticate(session, token)
    assert (actor.scope, actor.store_id) == ("tablet", world.store_a.id)
    assert "█" in result.output or "▀" in result.output  # the code, drawn in the terminal
    refused = app.test_cli_runner().invoke(args=[
        "tablet", "enrol", "--store", "A-01", "--device", "X", "--server", "ftp://x"])
    assert refused.exit_code != 0
    svg.chmod(0o644)  # written again over a file anyone could read: now the owner's only
    again = app.test_cli_runner().invoke(args=[
        "tablet", "enrol", "--store", "A-01", "--device", "Counter 3",
        "--server", "https://bb.example.com", "--svg", str(svg)])
    assert again.exit_code == 0 and stat.S_IMODE(os.stat(svg).st_mode) == 0o600
    unknown = app.test_cli_runner().invoke(args=[
        "tablet", "enrol", "--store", "NOPE", "--device", "X", "--server", "https://x"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output
