"""Messages read by people at the counter: words, not keys, and the right article."""

from __future__ import annotations


def with_article(phrase: str) -> str:
    """"an expired request", "a ready request": by how the phrase is said, near enough."""
    return f"{'an' if phrase[:1].lower() in 'aeio' else 'a'} {phrase}"


def spoken(key: str) -> str:
    """A vocabulary key as words: "in_progress" → "in progress"."""
    return key.replace("_", " ")
