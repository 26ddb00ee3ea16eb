"""Database work a request does on a connection of its own while its thread goes on.

On PostgreSQL the database works in other processes, so queries sent from other threads
run at the same time as the request's own (a thread waiting on the database holds no
lock of Python's): a CRM feed page's access-log write runs while the page is built.
Work that is mostly Python gains nothing (Python's lock lets one thread run at a
time), and a thread busy in Python delays the others' answers: start the work, do
other database work, then ask for the result.
Elsewhere (SQLite: one file, one writer) the work is done at once, in the caller's
thread. Either way `result()` gives the work's result or raises its error, so a
caller that needs the work done (a read must be logged before it is answered)
asks for it before answering.

The work gets the engine, never the request's session (which belongs to the
request's thread), and opens its own connection from the engine's pool: a request
holds one more per piece of work pending (a CRM feed page: two in all).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")


def start(engine: sa.Engine, work: Callable[..., T], *args: Any) -> Future[T]:
    """`work(*args)` alongside the caller (PostgreSQL), else now."""
    if engine.dialect.name == "postgresql":
        return _threads().submit(work, *args)
    done: Future[T] = Future()
    try:
        done.set_result(work(*args))
    except Exception as error:  # raised by result(), where a thread's would be
        done.set_exception(error)
    return done


@functools.cache
def _threads() -> ThreadPoolExecutor:
    """Made on first use, in the process that uses it (a gunicorn worker, after fork)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="alongside")
