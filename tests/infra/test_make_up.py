"""`make up`'s checks on a machine that lacks what it needs: no docker at all, or no infra/.env.
A stand-in `docker` on PATH stands for a machine with Docker; everything else `make up` and
`make down` do is run on a real engine by tests/containers.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MAKE = shutil.which("make")
FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "{log}"
case "$*" in
  *" up "*) exit {up_status} ;;
esac
exit 0
"""

pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")


def make(target: str, bin_dir, **variables: str) -> subprocess.CompletedProcess:
    assignments = [f"{k}={v}" for k, v in variables.items()]
    env = {"PATH": str(bin_dir), "HOME": str(bin_dir), "USER": "tester"}
    return subprocess.run(
        [MAKE, "--no-print-directory", target, *assignments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def docker(tmp_path):
    """A bin directory holding a fake docker; returns (bin_dir, log path, install(up_status))."""
    bin_dir, log = tmp_path / "bin", tmp_path / "docker.log"
    bin_dir.mkdir()

    def install(up_status: int = 0):
        script = bin_dir / "docker"
        script.write_text(FAKE_DOCKER.format(log=log, up_status=up_status))
        script.chmod(0o755)

    return bin_dir, log, install


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "stack.env"
    path.write_text("# secrets\nPOSTGRES_PASSWORD=abc\nGATEWAY_PORT=9090\nGRAFANA_ADMIN_USER=boss\n")
    return path


def test_without_docker_it_says_so_and_stops(docker, env_file):
    bin_dir, _, _ = docker
    result = make("up", bin_dir, COMPOSE_ENV=str(env_file))
    assert result.returncode != 0
    assert "docker is not installed" in result.stderr and "make run" in result.stderr


def test_without_the_env_file_it_says_how_to_make_one(docker, tmp_path):
    bin_dir, log, install = docker
    install()
    result = make("up", bin_dir, COMPOSE_ENV=str(tmp_path / "missing.env"))
    assert result.returncode != 0
    expected = f"error: {tmp_path / 'missing.env'} is missing. Create it with fresh random secrets: python3 infra/new_env.py (or copy infra/.env.example and fill it in)"
    assert result.stderr.splitlines()[0] == expected
    assert " up " not in log.read_text()
