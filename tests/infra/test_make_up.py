"""`make up` / `make down` without a Docker engine: a stand-in `docker` on PATH records what the
targets ask of it, so their checks, their compose command and their URLs are proven here.
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
    assert result.returncode != 0 and "python3 infra/new_env.py" in result.stderr
    assert " up " not in log.read_text()


def test_up_builds_starts_and_waits_for_health_then_prints_the_urls(docker, env_file):
    bin_dir, log, install = docker
    install()
    result = make("up", bin_dir, COMPOSE_ENV=str(env_file))
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[-1] == f"compose -f infra/docker-compose.yml --env-file {env_file} up --detach --build --wait --wait-timeout 300"
    assert "http://127.0.0.1:9090/" in result.stdout, "the gateway's port from the env file"
    assert "http://127.0.0.1:3000/" in result.stdout and "user boss" in result.stdout
    assert "abc" not in result.stdout, "no secret is printed"


def test_up_fails_loudly_when_the_stack_does_not_become_healthy(docker, env_file):
    bin_dir, _, install = docker
    install(up_status=1)
    result = make("up", bin_dir, COMPOSE_ENV=str(env_file))
    assert result.returncode != 0 and "did not become healthy" in result.stderr
    assert "Analytics engine is up" not in result.stdout


def test_down_stops_the_stack(docker, env_file):
    bin_dir, log, install = docker
    install()
    assert make("down", bin_dir, COMPOSE_ENV=str(env_file)).returncode == 0
    assert log.read_text().splitlines()[-1] == f"compose -f infra/docker-compose.yml --env-file {env_file} down"
