"""Write infra/.env from infra/.env.example with a fresh random value for every empty secret.

python3 infra/new_env.py [PATH]    # default: infra/.env next to this file; never overwrites
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET_BYTES = 32  # 64 hex characters: URL- and config-safe, far past the 16-character floor


def fill(example: str) -> str:
    """The example's lines, each `NAME=` (empty) given a random hex value; comments kept."""
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and not value.strip():
            line = f"{name}={secrets.token_hex(SECRET_BYTES)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else HERE / ".env"
    if target.exists():
        print(f"{target} exists; not overwriting it", file=sys.stderr)
        return 1
    # Created with mode 600 from the start: the secrets are never readable by others.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(fill((HERE / ".env.example").read_text()))
    print(f"wrote {target} with fresh random secrets (mode 600); keep it out of version control")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
