"""Real processes the end-to-end tests drive: the server under gunicorn on 127.0.0.1,
and Debian's chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.conftest import REPO
from tests.test_e2e_server import free_port, wait_until_up

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def gunicorn(database_url: str, instance: Path, workers: int = 2,
             env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """The server (threads, so requests really overlap) on the given database; yields
    its base URL and stops it, bounded, afterwards. `log`: a file for what it logs."""
    port = free_port()
    environment = os.environ | {"DATABASE_URL": database_url, "BLACKBOOK_LOG_LEVEL": "WARNING",
                                "BLACKBOOK_INSTANCE": str(instance)} | (env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4",
         "--no-control-socket", "--graceful-timeout", "5", "--bind", f"127.0.0.1:{port}",
         "server:create_app()"],
        cwd=REPO, env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log.open("ab"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# Tests that saturate both cores on purpose (the concurrent-push proof) take this lock
# alone; browsers share it, so their bounded waits never run against a flood from the
# other pytest-xdist worker (seen: a page not drawn within 10 s while 8 pushers ran).
_MACHINE_LOCK = Path(tempfile.gettempdir()) / "blackbook-tests-machine.lock"


@contextmanager
def _machine(mode: int) -> Iterator[None]:
    with _MACHINE_LOCK.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def machine_to_itself():
    """Hold the machine alone (waits for browser tests to finish; they wait meanwhile)."""
    return _machine(fcntl.LOCK_EX)


@contextmanager
def chromium() -> Iterator[Browser]:
    with _machine(fcntl.LOCK_SH), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
