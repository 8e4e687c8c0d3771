"""A function shipped alone, as a cloud function platform deploys it: runtime.bundle writes its
main.py, the engine and a requirements.txt; a clean venv installs the pins and `functions-framework`
serves it against this run's real Redis and PostgreSQL, given only that function's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid

import pytest

from engine import config
from runtime import bundle
from tests.conftest import WRITE_KEY
from tests.e2e.stack import free_port_block, wait_for

pytestmark = pytest.mark.integration

SEED = {"user_id": "user_123", "action": "play", "element": "video_player", "duration": 12.5, "timestamp": "2024-01-15T10:30:00Z"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The ingest bundle in a fresh venv (no PYTHONPATH, nothing of this checkout importable)."""
    dest = bundle.build("ingest", tmp_path_factory.mktemp("bundle"))
    subprocess.run([sys.executable, "-m", "venv", str(dest / "venv")], check=True)
    pip = [str(dest / "venv" / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(dest / "requirements.txt")], check=True, timeout=600)
    return dest


def only_env(settings: config.Settings, target: str, **extra: str) -> dict[str, str]:
    """PATH and HOME, and exactly the variables FUNCTION_NEEDS names for target."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}  # noqa: S108 (fallback only)
    for need in config.FUNCTION_NEEDS[target]:
        env[config.ENV_NAMES[need]] = getattr(settings, need)
    return {**env, "ANALYTICS_REDIS_NAMESPACE": settings.redis_namespace, "ANALYTICS_ENV": "test", **extra}


def test_the_bundle_holds_main_the_engine_and_only_the_functions_pins(served):
    assert sorted(p.name for p in served.iterdir() if p.name != "venv") == ["engine", "main.py", "requirements.txt"]
    pins = served.joinpath("requirements.txt").read_text().split()
    assert "functions-framework==3.10.2" in pins and all("==" in pin for pin in pins)
    assert not {p.split("==")[0] for p in pins} & set(bundle.NOT_FOR_FUNCTIONS)


def test_ingest_alone_serves_from_its_bundle_without_the_read_key(served, settings, rclient, keys):
    port = free_port_block(1)
    env = only_env(settings, "ingest")
    assert "ANALYTICS_READ_KEY" not in env
    command = [str(served / "venv" / "bin" / "functions-framework"), "--source", str(served / "main.py"), "--target", "ingest"]
    process = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)], cwd=served, env=env)
    try:
        wait_for(lambda: healthz(port) == 200, timeout=60, interval=0.3)
        event_id = str(uuid.uuid4())
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/event",
            data=json.dumps({**SEED, "event_id": event_id}).encode(),
            headers={"Content-Type": "application/json", "X-Write-Key": WRITE_KEY},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 202 and json.loads(answer.read()) == {"event_id": event_id, "status": "accepted"}
        entries = rclient.xrange(keys.stream)
        assert len(entries) == 1 and event_id.encode() in entries[0][1][b"e"]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_metrics_alone_refuses_to_start_without_its_read_key(served, settings):
    env = {k: v for k, v in only_env(settings, "metrics").items() if k != "ANALYTICS_READ_KEY"}
    command = [str(served / "venv" / "bin" / "python"), "-c", "import main"]
    result = subprocess.run(command, cwd=served, env={**env, "FUNCTION_TARGET": "metrics"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "error: ANALYTICS_READ_KEY must be set (see README, Configuration)\n"  # one line, no traceback


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status
    except OSError:
        return None
