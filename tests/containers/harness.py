"""A compose stack of its own for the container tier: a clean clone, a project name and ports
no user's stack has, `make up` / `make down` as a user runs them, and a teardown that leaves no
container, network or volume of the run behind. Tests reach the stack only at the gateway's
port on 127.0.0.1, and read PostgreSQL through `docker compose exec`.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from local.stack import free_port_block

ROOT = Path(__file__).resolve().parents[2]


def docker_cli() -> str | None:
    """The docker CLI: $DOCKER (.ci/run names Debian's), else the one on PATH."""
    return os.environ.get("DOCKER") or shutil.which("docker")


def why_no_docker() -> str | None:
    """None when a Docker engine with Compose v2 answers here, else the one-line reason."""
    docker = docker_cli()
    if docker is None:
        return "no docker CLI on PATH (install Docker Engine 20.10+ with the Compose v2 plugin; README, Production)"
    for argv, what in (([docker, "info"], "the Docker engine does not answer"), ([docker, "compose", "version"], "no Compose v2 plugin")):
        try:
            if subprocess.run(argv, capture_output=True, timeout=30).returncode != 0:
                return what
        except (OSError, subprocess.TimeoutExpired):
            return what
    return None


class Stack:
    """One compose project, started from a clone of this repository's HEAD."""

    def __init__(self, workdir: Path):
        self.docker = docker_cli()
        self.clone = workdir / "clone"
        self.project = f"analytics-test-{secrets.token_hex(4)}"
        self.gateway_port, grafana_port = free_port_block(2), None
        grafana_port = self.gateway_port + 1
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(self.clone)], check=True, timeout=120)
        self.env_file = self.clone / "infra" / ".env"
        subprocess.run(["python3", "infra/new_env.py"], cwd=self.clone, check=True, capture_output=True, timeout=30)
        with self.env_file.open("a") as out:
            out.write(f"BIND_ADDRESS=127.0.0.1\nGATEWAY_PORT={self.gateway_port}\nGRAFANA_PORT={grafana_port}\n")
        self.secrets = dict(line.split("=", 1) for line in self.env_file.read_text().splitlines() if "=" in line and line[0] != "#")
        # Compose prefers the caller's environment to the env file: a variable this pytest process
        # holds (the function_env fixture sets ANALYTICS_WRITE_KEY and the rest for the session)
        # would replace the stack's own. The stack gets only its env file's values.
        self.env = {k: v for k, v in os.environ.items() if k not in self.secrets and not k.startswith("ANALYTICS_")}
        self.env |= {"COMPOSE_PROJECT_NAME": self.project, "DOCKER": self.docker}
        self.env.pop("COMPOSE_FILE", None)

    def make(self, target: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        result = subprocess.run(
            ["make", "--no-print-directory", target], cwd=self.clone, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        return result, time.monotonic() - started

    def compose(self, *args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        argv = [self.docker, "compose", "-f", "infra/docker-compose.yml", "--env-file", str(self.env_file), *args]
        return subprocess.run(argv, cwd=self.clone, env=self.env, input=stdin, capture_output=True, timeout=timeout)

    def container(self, service: str) -> str:
        return self.compose("ps", "--all", "-q", service).stdout.decode().strip()

    def services(self) -> dict[str, dict]:
        """Each container of the project: service -> {state, health, exit code}."""
        out = self.compose("ps", "--all", "--format", "json").stdout.decode()
        rows = [json.loads(line) for line in out.splitlines() if line.strip()] if not out.lstrip().startswith("[") else json.loads(out)
        return {r["Service"]: {"state": r["State"], "health": r.get("Health", ""), "exit": r.get("ExitCode")} for r in rows}

    def sql(self, query: str, database: str = "analytics") -> list[list[str]]:
        """Rows of a query run by psql inside the postgres container, as the owner analytics."""
        result = self.compose(
            "exec", "-T", "postgres", "psql", "-U", "analytics", "-d", database, "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query
        )
        assert result.returncode == 0, result.stderr.decode()
        return [line.split("\t") for line in result.stdout.decode().splitlines() if line]

    def request(self, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.gateway_port}{path}", data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def post_event(self, event: dict) -> int | None:
        try:
            return self.request("POST", "/event", event, {"X-Write-Key": self.secrets["ANALYTICS_WRITE_KEY"]})[0]
        except (OSError, ValueError, http.client.HTTPException):  # no answer, or one cut short: not acknowledged
            return None

    def metrics(self) -> dict:
        status, body = self.request("GET", "/metrics", headers={"Authorization": f"Bearer {self.secrets['ANALYTICS_READ_KEY']}"})
        assert status == 200, body
        return body

    def teardown(self) -> None:
        """No container, network or volume of this project stays, nor the images it built."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=300)
        images = subprocess.run(
            [self.docker, "images", "-q", "--filter", f"reference={self.project}-*"], capture_output=True, text=True, timeout=60
        ).stdout.split()
        if images:
            subprocess.run([self.docker, "rmi", "--force", *set(images)], capture_output=True, timeout=300)
