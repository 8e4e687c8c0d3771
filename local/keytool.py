"""`make key`, `make rotate-key`, `make keys`: engine.keycli against ANALYTICS_DATABASE_URL, or else
against the database of the `make run` that is running on this .local/ (its run.json records it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from engine import config, keycli
from engine.core.errors import ConfigError
from local.run import local_dir

NO_DATABASE = (
    "keys: ANALYTICS_DATABASE_URL is not set and no `make run` is running on {local}. "
    "Start `make run` (in another terminal; the key commands then find its database), "
    "or name the database: ANALYTICS_DATABASE_URL=postgresql://user@host:5432/analytics make {command}"
)
COMMANDS = {"create": "key NAME=…", "rotate": "rotate-key PROJECT=… KIND=…", "list": "keys"}


def running_database_url(local_dir: Path) -> str | None:
    """The database URL a live `make run` recorded in local_dir/run.json, else None."""
    try:
        state = json.loads((local_dir / "run.json").read_text())
        alive = Path(f"/proc/{int(state['pid'])}").exists()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state.get("database_url") if alive and int(state["pid"]) != os.getpid() else None


def main(argv: list[str]) -> int:
    try:
        settings = config.get_settings()
    except ConfigError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 2
    where = local_dir(settings)
    database_url = settings.database_url or running_database_url(where)
    if database_url is None:
        print(NO_DATABASE.format(local=where, command=COMMANDS.get(argv[0] if argv else "", "keys")), file=sys.stderr)
        return 1
    return keycli.main(argv, database_url=database_url)
