"""HTTP for the tablet app: the app shell, its service worker, and the lexicon.

The service worker is served from /tablet/sw.js so its scope covers the app. Its
text carries a digest of every shell file, so any change to the app changes the
worker's bytes, the browser installs it, and it caches the new shell.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, send_from_directory, url_for

from server.stores.auth import authorized
from server.tablet import lexicon

STATIC = Path(__file__).with_name("static")
# What the page may load and where it may connect: itself only, nothing from a CDN.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json",
         ".svg": "image/svg+xml", ".css": "text/css", ".html": "text/html"}

blp = Blueprint("tablet", __name__, url_prefix="/tablet")


@functools.lru_cache(maxsize=1)
def shell_files() -> tuple[str, ...]:
    """Every file of the app shell, as paths under /tablet/ (the worker precaches them)."""
    names = sorted(str(path.relative_to(STATIC)) for path in STATIC.rglob("*")
                   if path.is_file() and path.name != "sw.js" and path.suffix in TYPES)
    return tuple(names)


@functools.lru_cache(maxsize=1)
def build_id() -> str:
    digest = hashlib.sha256()
    for name in shell_files():
        digest.update(name.encode() + b"\0" + (STATIC / name).read_bytes())
    return digest.hexdigest()[:16]


def _shell(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"  # revalidate; the worker serves offline
    return response


@blp.get("")
def bare():
    return redirect(url_for("tablet.index"), code=308)


@blp.get("/")
def index():
    return _shell(send_from_directory(STATIC, "index.html", mimetype="text/html"))


@blp.get("/sw.js")
def service_worker():
    text = (STATIC / "sw.js").read_text(encoding="utf-8")
    text = text.replace("__BUILD__", build_id()).replace(
        "__SHELL__", json.dumps(["./", *shell_files()]))
    response = Response(text, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/tablet/"
    return _shell(response)


@blp.get("/lexicon.json")
@authorized("notes:write")
def sensitive_lexicon():
    """The sensitive-note rules, for a tablet to warn before a note is saved."""
    response = Response(json.dumps(lexicon.for_tablets()), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/<path:name>")
def shell_file(name: str):
    if name not in shell_files():
        abort(404)
    suffix = Path(name).suffix
    return _shell(send_from_directory(STATIC, name, mimetype=TYPES[suffix]))
