"""The container tier's stack: started once by `make up` for the whole tier, always torn down.

Without Docker the tier skips with a one-line reason; with CI set it fails instead, since CI
installs and starts Docker itself (.ci/docker.sh).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.containers.harness import ROOT, Stack, why_no_docker

FIGURES = ROOT / ".local" / "containers" / "figures.json"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    reason = why_no_docker()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"tests/containers: {reason}; CI must run this tier (.ci/docker.sh installs and starts Docker)", pytrace=False)
        pytest.skip(f"tests/containers: {reason}")
    running = Stack(tmp_path_factory.mktemp("containers"))
    running.figures = {}
    try:
        yield running
    finally:
        running.teardown()
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(running.figures, indent=2) + "\n")
