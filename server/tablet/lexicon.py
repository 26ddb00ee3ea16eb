"""The sensitive-note lexicon as the tablet app reads it: the same merged categories
the server's scanner compiles (the default file, extended or replaced by the
operator's), so a note is flagged before it is saved, offline too.

The app compiles the rules itself (static/js/sensitive.js); a test checks that it
flags exactly what the server flags on the labelled notes shipped with the tests.
"""

from __future__ import annotations

import functools
from typing import Any

from server import config
from server.notes import sensitive


def _public(rules: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in rules.items()
            if not key.startswith("_") and key != "replace"}


# The scanner's own reading and merging, so the two can never read the files apart.
@functools.lru_cache(maxsize=8)
def _merged(path: str | None) -> dict[str, Any]:
    return {"categories": [{"name": name, **_public(rules)}
                           for name, rules in sensitive.lexicon_categories(path).items()]}


def for_tablets() -> dict[str, Any]:
    """Categories in scanning order, each with terms, near, except, patterns, detectors."""
    return _merged(config.sensitive_lexicon())
