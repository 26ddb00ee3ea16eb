"""Following the CRM feed into JSON Lines, with a checkpoint that survives any crash.

Each page's changes are appended to the output file and flushed to disk; only then
is the checkpoint — the cursor to ask for next, and the output file's length after
that page — replaced atomically (write a temporary file, fsync, rename). After a
crash at any moment, the next run cuts the output back to the checkpointed length
(dropping a page written but not checkpointed) and asks for the checkpointed cursor
again: no page is skipped and none is written twice. A `410 cursor_expired` starts
over from a snapshot, after a line that says so, so the reader of the file knows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.errors import ProblemError
from client.transport import Transport

FEED = "/api/v1/feed"


@dataclass
class Checkpoint:
    cursor: str | None = None
    length: int = 0  # bytes of the output that hold checkpointed pages

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        return cls(data.get("cursor"), int(data.get("length", 0)))

    def save(self, path: Path) -> None:
        draft = path.with_name(path.name + ".tmp")
        with open(draft, "w", encoding="utf-8") as file:
            json.dump({"cursor": self.cursor, "length": self.length}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(draft, path)


@dataclass
class Followed:
    pages: int = 0
    changes: int = 0
    restarted: bool = False


def follow(transport: Transport, out: Path, checkpoint_path: Path, *, limit: int = 1000,
           max_pages: int | None = None,
           progress: Callable[[Followed], None] = lambda done: None,
           after_write: Callable[[], None] = lambda: None) -> Followed:
    """Append the feed's pages to `out` until it has no more (or `max_pages`)."""
    checkpoint = Checkpoint.load(checkpoint_path)
    done = Followed()
    with open(out, "ab") as file:
        file.truncate(checkpoint.length)  # a page written but not checkpointed goes
        file.seek(checkpoint.length)
        while max_pages is None or done.pages < max_pages:
            params = {"limit": limit} | ({"cursor": checkpoint.cursor}
                                         if checkpoint.cursor else {})
            try:
                page = transport.call("GET", FEED, params=params).body
            except ProblemError as error:
                if error.code != "cursor_expired":
                    raise
                file.write(b'{"resync": "cursor_expired"}\n')
                checkpoint = _commit(file, Checkpoint(None, 0), checkpoint_path)
                done.restarted = True
                continue
            for change in page["changes"]:
                file.write(json.dumps(change, separators=(",", ":")).encode() + b"\n")
            after_write()  # tests crash here: written, not yet checkpointed
            checkpoint = _commit(file, Checkpoint(page["next_cursor"], 0), checkpoint_path)
            done.pages += 1
            done.changes += len(page["changes"])
            progress(done)
            if not page["has_more"]:
                break
    return done


def _commit(file, checkpoint: Checkpoint, path: Path) -> Checkpoint:
    file.flush()
    os.fsync(file.fileno())
    checkpoint.length = file.tell()
    checkpoint.save(path)
    return checkpoint
