"""Following the CRM feed into JSON Lines, with a checkpoint that survives any crash.

Each page's changes are appended to the output file and flushed to disk; only then
is the checkpoint — the cursor to ask for next, and the output file's length after
that page — replaced atomically (write a temporary file, fsync, rename). After a
crash at any moment, the next run cuts the output back to the checkpointed length
(dropping a page written but not checkpointed) and asks for the checkpointed cursor
again: no page is skipped and none is written twice. A `410 cursor_expired` starts
over from a snapshot, after a line that says so, so the reader of the file knows.

Pages are read ahead (`pages`): the server names the next page in a `Link: rel="next"`
header, sent before it writes the page's body, so the next request goes out as soon
as a page's headers have arrived, and the server builds it while this one is still
being written, read and handled. A body cut off on the way is asked for again. Only
the checkpoint says what was written: a page read ahead and not written is asked for
again after a crash.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from client.errors import Offline, ProblemError
from client.transport import Transport, parse

FEED = "/api/v1/feed"
AHEAD = 2  # pages read ahead of the one being handled, at most


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
            with contextlib.closing(pages(transport, checkpoint.cursor, limit)) as reader:
                try:
                    for page in reader:
                        for change in page["changes"]:
                            file.write(json.dumps(change, separators=(",", ":")).encode()
                                       + b"\n")
                        after_write()  # tests crash here: written, not yet checkpointed
                        checkpoint = _commit(file, Checkpoint(page["next_cursor"], 0),
                                             checkpoint_path)
                        done.pages += 1
                        done.changes += len(page["changes"])
                        progress(done)
                        if max_pages is not None and done.pages >= max_pages:
                            break
                except ProblemError as error:
                    if error.code != "cursor_expired":
                        raise
                    file.write(b'{"resync": "cursor_expired"}\n')
                    checkpoint = _commit(file, Checkpoint(None, 0), checkpoint_path)
                    done.restarted = True
                    continue
            break
    return done


def pages(transport: Transport, cursor: str | None, limit: int = 1000) -> Iterator[dict]:
    """The feed's pages from `cursor` (None: a snapshot) until one says it is the last,
    each asked for while the caller handles the one before (see the module's doc).
    Close it (contextlib.closing) to stop reading ahead."""
    def by_cursor(after: str | None) -> _ReadAhead:
        return _ReadAhead(transport, FEED, {"limit": limit} | ({"cursor": after} if after
                                                               else {}))

    reader, cut = by_cursor(cursor), 0
    try:
        while True:
            response = reader.next()
            try:
                page = parse(response)
            except Offline:
                # Cut off on the way (the body comes after the headers): ask again for
                # the same page, as the transport retries an answer that never came.
                reader.close()
                cut += 1
                if cut >= transport.retry.attempts:
                    raise
                transport.back_off(cut - 1)
                reader = by_cursor(cursor)
                continue
            cut = 0
            yield page
            if not page["has_more"]:
                return
            following, cursor = _next_link(response), page["next_cursor"]
            if following is None or _cursor_of(following) != cursor:
                # No next page named (a server without read-ahead): ask for it by cursor.
                reader.close()
                reader = by_cursor(cursor)
    finally:
        reader.close()


def _next_link(response) -> str | None:
    """The next page the answer names (`Link: <…>; rel="next"`): only a page of the feed
    on the same server (a path), never an address elsewhere, where the key would go."""
    url = response.links.get("next", {}).get("url")
    return url if isinstance(url, str) and url.startswith(FEED + "?") else None


def _cursor_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("cursor", [None])[0]


class _ReadAhead:
    """A thread that asks for a page, then for the page its `Link: rel="next"` names, and
    so on, handing each answer over once the next request is on its way and keeping at
    most AHEAD answers that the caller has not taken. A failure is handed over in its
    place, in order."""

    def __init__(self, transport: Transport, path: str, params: dict | None) -> None:
        self._answers: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(transport, path, params),
                                        name="feed-read-ahead", daemon=True)
        self._thread.start()

    def _read(self, transport: Transport, path: str, params: dict | None) -> None:
        try:
            response = transport.fetch(path, params)
            while not self._stop.is_set():
                following = _next_link(response)
                if following is None:
                    self._hand_over(response)
                    return
                # The next page's request goes out before this page is handed over: the
                # caller parses this page while the server builds the next. (Parsing
                # first would hold Python's lock and delay the request until it ends.)
                response = transport.fetch(following, None, on_sent=functools.partial(
                    self._hand_over, response))
            response.close()  # stopped: this answer is nobody's
        except Exception as error:  # handed to the caller, who raises it
            self._hand_over(error)

    def _hand_over(self, item: Any) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._answers.put(item, timeout=0.1)
                return
        if not isinstance(item, Exception):
            item.close()  # stopped: its connection goes back (a streamed body unread)

    def next(self) -> Any:
        while True:
            try:
                item = self._answers.get(timeout=0.5)
            except queue.Empty:
                if not self._thread.is_alive() and self._answers.empty():
                    raise Offline("The feed's reader stopped without an answer.") from None
                continue
            if isinstance(item, Exception):
                raise item
            return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        while not self._answers.empty():  # answers read ahead and never taken
            item = self._answers.get_nowait()
            if not isinstance(item, Exception):
                item.close()


def _commit(file, checkpoint: Checkpoint, path: Path) -> Checkpoint:
    file.flush()
    os.fsync(file.fileno())
    checkpoint.length = file.tell()
    checkpoint.save(path)
    return checkpoint
