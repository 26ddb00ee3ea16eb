"""One configured tablet: its local store, the server's API and capture, opened and
closed together. What the command line (or an app embedding the client) holds."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from client.api import ServerApi
from client.capture import Capture
from client.config import Config
from client.store import LocalStore
from client.transport import Transport


class Tablet:
    def __init__(self, config: Config, store: LocalStore, api: ServerApi) -> None:
        self.config = config
        self.store = store
        self.api = api
        self.capture = Capture(store, config.associate)

    @classmethod
    def open(cls, config: Config, *, db: str | Path | None = None) -> Tablet:
        """`db` overrides the configured file (e.g. a second tablet on one machine)."""
        transport = Transport(config.server, config.key, retry=config.retry)
        return cls(config, LocalStore(db or config.db), ServerApi(transport))

    def close(self) -> None:
        self.store.close()
        self.api.transport.close()

    def __enter__(self) -> Tablet:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
