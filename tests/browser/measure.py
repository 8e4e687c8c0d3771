"""The figures the browser tests measure, kept in test-artifacts/browser/measurements.json."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from tests.e2e.stack import ROOT

STATIC = ROOT / "static"
TRACKER_BUDGET_BYTES = 2048


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def source_stamp(*paths: Path) -> str:
    """What static/build.sh writes into a built file: sha256 of its sources, concatenated, 16 hex digits."""
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()[:16]


def css_sources() -> list[Path]:
    # build.sh globs js/*.js under LC_ALL=C: byte order of the names, as sorted() gives.
    return [STATIC / "src" / "app.css", STATIC / "index.html", STATIC / "tracker-test.html", *sorted((STATIC / "js").glob("*.js"))]


def record(artifacts: Path, **figures) -> None:
    """Merge figures into measurements.json (each test adds its own)."""
    path = artifacts / "measurements.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    found.update(figures)
    path.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
