"""End to end: the README's first command, and gunicorn, as real processes over HTTP."""

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from server.stores import keys
from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if requests.get(url, timeout=3).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture
def server_process():
    started = []
    yield started.append
    for process in started:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_readme_first_command_serves_demo_data_with_the_printed_key(tmp_path, server_process):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"BLACKBOOK_INSTANCE": str(tmp_path), "BLACKBOOK_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "server"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server_process(process)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", process)
    lines = []
    while not any(line.strip().startswith("curl") for line in lines):
        lines.append(process.stdout.readline())
    printed = "".join(lines)
    assert f"{base}/api/v1/docs/" in printed
    key = next(line.strip() for line in lines if line.strip().startswith("bb_"))
    listed = requests.get(f"{base}/api/v1/requests", headers={"Authorization": f"Bearer {key}"},
                          timeout=5)
    assert listed.status_code == 200
    assert len(listed.json()["items"]) >= 3
    assert {r["status"] for r in listed.json()["items"]} == {"open"}
    assert requests.get(f"{base}/api/v1/requests", timeout=5).status_code == 401
    email, password = re.search(r"log in as (\S+), password (\S+) ", printed).groups()
    browser = requests.Session()
    login = browser.get(f"{base}/dashboard/login", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    signed_in = browser.post(f"{base}/dashboard/login", timeout=10, data={
        "email": email, "password": password, "csrf_token": token})
    assert signed_in.status_code == 200 and "Requests across stores" in signed_in.text


def test_gunicorn_serves_the_app_on_the_configured_database(app, database_url, session,
                                                            server_process):
    _, token = keys.issue(session, "admin", "e2e")
    session.commit()
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf",
         "--workers", "2", "--no-control-socket",
         "--bind", f"127.0.0.1:{port}", "server:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server_process(process)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", process)
    response = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                            timeout=5)
    assert response.json()["scope"] == "admin"
