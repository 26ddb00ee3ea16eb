"""`python -m client`: configure, capture, look up, sync, status, attention, conflicts —
against the real server, and never a word of the key."""

from __future__ import annotations

import io
import stat
import subprocess
import sys

import pytest

from client import config as settings
from client.cli import main
from client.transport import RetryPolicy
from tests.client.helpers import sync
from tests.client.test_transport import closed_port
from tests.conftest import REPO
from tests.factories import make_tablet

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    """Runs `python -m client --home <tmp> …` in-process; returns (exit code, out, err)."""
    home = tmp_path / "home"
    monkeypatch.delenv(settings.HOME_ENV, raising=False)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--home", str(home), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    run.home = home
    return run


@pytest.fixture
def configured(cli, world, session, live_server):
    device = make_tablet(session, world.store_a)
    session.commit()
    data = cli.home / "data" / "counter-1.sqlite3"
    code, out, err = cli("configure", "--server", live_server, "--key", "-", "--associate",
                         "A-117", "--db", str(data), stdin=device.token + "\n")
    assert code == 0, err
    assert "configured for store A-01" in out and data.exists()
    cli.token = device.token
    return cli


def test_a_tablet_captures_looks_up_and_syncs_from_the_command_line(configured):
    cli = configured
    config_file = cli.home / settings.CONFIG_FILE
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    outputs = []

    def ok(*argv: str) -> str:
        code, out, err = cli(*argv)
        assert code == 0, err
        outputs.append(out + err)
        return out.strip()

    customer = ok("customer", "add", "--given-name", "Zoë", "--family-name", "Martin",
                  "--email", "zoe@example.com", "--phone", "07911 123456")
    request = ok("request", "add", "--customer", customer, "--type", "hold",
                 "--description", "Coat until Saturday", "--notify", "sms,email")
    ok("request", "status", request, "ready")
    ok("note", "add", "--customer", customer, "--request", request, "Prefers a text")
    assert ok("lookup", "--phone", "3456").split("\t")[:2] == [customer, "Zoë Martin"]
    assert "pending    4" in ok("status")
    assert "pushed 4 applied" in ok("sync")
    status = ok("status")
    assert "pending    0" in status and "last sync  never" not in status
    assert "+447911123456" in ok("lookup", "--name", "zoe")  # as the server normalised it
    assert customer in ok("lookup", "--remote", "--email", "ZOE@example.com")
    assert not any(cli.token in text for text in outputs)


def test_a_rejected_capture_is_listed_fixed_and_sent_again(configured):
    cli = configured
    _, customer, _ = cli("customer", "add", "--given-name", "Ada", "--email", "nope")
    code, out, _ = cli("sync")
    assert code == 0 and "1 need attention" in out
    _, listed, _ = cli("attention", "list")
    assert customer.strip() in listed and "email:" in listed
    mutation_id = listed.split()[0]
    code, new_id, _ = cli("attention", "requeue", mutation_id, "--set", "email=ada@example.com")
    assert code == 0 and new_id.strip() != mutation_id
    assert "pushed 1 applied" in cli("sync")[1]
    assert cli("attention", "list")[2].strip() == "nothing here"


def test_a_conflict_is_resolved_from_the_command_line(configured, world, session,
                                                      live_server, tablets):
    cli = configured
    _, customer, _ = cli("customer", "add", "--given-name", "Ada")
    _, request, _ = cli("request", "add", "--customer", customer.strip(), "--type", "hold",
                        "--description", "Coat", "--size", "38")
    cli("sync")
    other = tablets(world.store_a)
    sync(other)
    other.capture.edit_request(request.strip(), size="40")
    sync(other)
    cli("request", "edit", request.strip(), "--size", "41")
    assert "1 in conflict" in cli("sync")[1]
    _, listed, _ = cli("conflicts", "list")
    assert '"size": "41"' in listed and '"size": "40"' in listed
    code, _, _ = cli("conflicts", "resolve", listed.split()[0], "--keep", "mine")
    assert code == 0 and "pushed 1 applied" in cli("sync")[1]


def test_offline_the_capture_is_kept_and_sync_says_so(cli, tmp_path):
    settings.save(cli.home, settings.Config(
        f"http://127.0.0.1:{closed_port()}", "bb_x_offline", tmp_path / "t.sqlite3",
        retry=RetryPolicy(attempts=2, backoff=0.001)))
    # Offline from the start: the device id is not known yet, captures still work.
    code, customer, _ = cli("customer", "add", "--given-name", "Ada")
    assert code == 0
    code, _, err = cli("sync")
    assert code == 3 and "offline" in err and "bb_x_offline" not in err
    assert "pending    1" in cli("status")[1]
    code, _, _ = cli("consent", "add", "--customer", customer.strip(),
                        "--purpose", "marketing.newsletter", "--channel", "email",
                     "--action", "withdraw", "--method", "customer_on_tablet")
    assert code == 0 and "pending    2" in cli("status")[1]


def test_captures_the_tablet_can_tell_are_wrong_are_refused_with_the_field(configured):
    code, _, err = configured("request", "add", "--customer",
                              "5c1f7a9e-0000-4000-8000-000000000000", "--type", "hold",
                              "--description", "Coat")
    assert code == 1 and "customer_id" in err


def test_python_m_client_needs_configuring_first(tmp_path):
    result = subprocess.run([sys.executable, "-m", "client", "--home", str(tmp_path), "status"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 4 and "configure" in result.stderr
    usage = subprocess.run([sys.executable, "-m", "client", "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and "sync" in usage.stdout and not usage.stderr
