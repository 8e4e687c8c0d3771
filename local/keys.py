"""The default project's keys and the task token: from the environment, else generated once
and kept in .local/keys.json (mode 600) so that they survive restarts.

Generated keys are made like every other key (engine.core.apikeys: `wk_`/`rk_` and 32 random
bytes); keys a .local/keys.json of an older version holds are kept as they are.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from engine.config import Settings
from engine.core import apikeys

NAMES = {"write_key": "ANALYTICS_WRITE_KEY", "read_key": "ANALYTICS_READ_KEY", "task_token": "ANALYTICS_TASK_TOKEN"}
TOKEN_BYTES = 32


def new_secret(name: str) -> str:
    """A fresh value for one of NAMES: a key of its kind, or a task token of 32 random bytes."""
    if name == "task_token":
        return secrets.token_urlsafe(TOKEN_BYTES)
    return apikeys.new_key(name.removesuffix("_key"))


def ensure_keys(settings: Settings, local_dir: Path) -> dict[str, str]:
    """{env var: value} for the three secrets; generates and stores any that is not configured."""
    path = local_dir / "keys.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in NAMES:
        if not stored.get(name):
            stored[name] = new_secret(name)
            changed = True
    if changed:
        local_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        os.chmod(path, 0o600)
    return {var: getattr(settings, name) or stored[name] for name, var in NAMES.items()}
