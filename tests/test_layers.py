"""The server's one direction of dependencies: a lower layer never imports a higher one.

    core (with server.config and server.extensions)
      → changelog, audit
        → stores
          → customers
            → the other domains (consent, contact, customer_requests, notes,
              privacy, webhooks)
              → sync, feed, dashboard, tablet, ops
                → the app (server/__init__.py, __main__, demo, models, gunicorn_conf)

Every import is checked, also those inside functions. Packages of one layer may import
each other one way: no circle of files runs through two packages, nor any circle of
packages. When a lower layer must tell a higher one something, it offers a registry
(changelog.bodies, changelog.on_written, privacy.erasure.keeps_copies_of_requests) or
a signal (server.core.signals).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

LAYERS = [
    {"core", "config", "extensions"},
    {"changelog", "audit"},
    {"stores"},
    {"customers"},
    {"consent", "contact", "customer_requests", "notes", "privacy", "webhooks"},
    {"sync", "feed", "dashboard", "tablet", "ops"},
    {"__init__", "__main__", "demo", "models", "gunicorn_conf"},
]
LAYER = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
SERVER = REPO / "server"

def _modules() -> dict[str, Path]:
    found = {}
    for path in SERVER.rglob("*.py"):
        if "migrations" in path.relative_to(SERVER).parts:
            continue
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The server modules `module` imports, at its top or inside a function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def test_every_server_package_has_a_layer():
    assert {_package(m) for m in _graph()} <= set(LAYER)


def test_no_layer_imports_a_higher_one():
    upward = sorted((module, imported) for module, imports in _graph().items()
                    for imported in imports
                    if LAYER[_package(imported)] > LAYER[_package(module)])
    assert upward == []


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected sets of modules of more than one (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.add(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(members)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_circle_of_files_runs_through_two_packages():
    across = [sorted(c) for c in _circles(_graph()) if len({_package(m) for m in c}) > 1]
    assert across == []


def test_the_check_sees_imports_inside_functions():
    graph = _graph()
    assert "server.customers.routes" in graph["server"]  # imported in a function
    assert defaultdict(set, graph)["server.nowhere"] == set()


def test_no_circle_of_packages():
    """Stronger than the files' rule: within a layer too, packages depend one way."""
    packages: dict[str, set[str]] = defaultdict(set)
    for module, imports in _graph().items():
        packages[_package(module)] |= {_package(i) for i in imports} - {_package(module)}
    assert _circles(packages) == []


def test_the_access_log_is_written_by_services_not_routes():
    """Audit below the domains: a service logs the reads and changes it makes, with the
    customer ids it knows; an HTTP view only calls it."""
    graph = _graph()
    views = [m for m in graph if m.rsplit(".", 1)[-1] in ("routes", "page_routes")]
    assert len(views) > 10
    for view in views:
        assert not any(target.startswith("server.audit") for target in graph[view]), view


def test_every_signal_is_heard_once_the_app_is_made(app):
    """A signal nobody listens to would lose what it carries (a merge's rows stay
    behind): the app factory's install() calls connect every one."""
    from server.core import signals

    declared = [value for value in vars(signals).values() if hasattr(value, "receivers")]
    assert len(declared) >= 4
    for signal in declared:
        assert signal.receivers, signal.name
