"""The default project's keys and the task token: from the environment, else generated once
and kept in .local/keys.json (mode 600) so that they survive restarts.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from engine.config import Settings

NAMES = {"write_key": "ANALYTICS_WRITE_KEY", "read_key": "ANALYTICS_READ_KEY", "task_token": "ANALYTICS_TASK_TOKEN"}


def ensure_keys(settings: Settings, local_dir: Path) -> dict[str, str]:
    """{env var: value} for the three secrets; generates and stores any that is not configured."""
    path = local_dir / "keys.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in NAMES:
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        local_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        os.chmod(path, 0o600)
    return {var: getattr(settings, name) or stored[name] for name, var in NAMES.items()}
