"""Where the command line keeps its settings.

A folder — `--home`, else $BLACKBOOK_HOME, else ~/.blackbook — holding
`config.json` (server URL, API key, associate code, path of the tablet's SQLite
file, by default `tablet.sqlite3` beside it; optionally `"retry": {"attempts": 5,
"backoff": 0.5, "max_wait": 30}` to tune the transport). The file holds the key, so
it is written readable by its owner only; nothing prints the key.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from client.errors import NotConfigured
from client.transport import RetryPolicy

HOME_ENV = "BLACKBOOK_HOME"
CONFIG_FILE = "config.json"
DB_FILE = "tablet.sqlite3"


@dataclass(frozen=True)
class Config:
    server: str
    key: str = field(repr=False)
    db: Path
    associate: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def home_dir(given: str | None) -> Path:
    return Path(given or os.environ.get(HOME_ENV) or Path.home() / ".blackbook").expanduser()


def load(home: Path) -> Config:
    path = home / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotConfigured(f"No configuration in {home}: run `configure` first.") from None
    return Config(data["server"], data["key"], Path(data["db"]), data.get("associate"),
                  RetryPolicy(**data.get("retry", {})))


def save(home: Path, config: Config) -> Path:
    """Write atomically (a reader never sees half a file), owner-only from the start."""
    home.mkdir(parents=True, exist_ok=True)
    path, temporary = home / CONFIG_FILE, home / f".{CONFIG_FILE}.tmp"
    data = {"server": config.server, "key": config.key, "db": str(config.db),
            "associate": config.associate, "retry": asdict(config.retry)}
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path
