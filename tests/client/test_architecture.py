"""The client is a separate package a tablet embeds: it imports nothing of the server,
and no third-party library beyond requests (with urllib3, its own transport, which
comes with it) and phonenumbers."""

from __future__ import annotations

import ast
import sys

from tests.conftest import REPO

ALLOWED_THIRD_PARTY = {"requests", "urllib3", "phonenumbers"}


def imported_packages(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_client_stands_alone():
    modules = sorted((REPO / "client").glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        foreign = imported_packages(module) - set(sys.stdlib_module_names) - {"client"}
        assert foreign <= ALLOWED_THIRD_PARTY, (module.name, foreign)
