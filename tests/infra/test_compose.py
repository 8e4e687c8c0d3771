"""infra/docker-compose.yml: valid Compose, and shaped to be left running on a server.

No Docker engine runs here: the file is read as `docker compose config` would read it (with
its ${VAR} interpolation) and checked against the vendored Compose Specification schema.
"""

from __future__ import annotations

import hashlib
import json
import re

import jsonschema
import pytest

from runtime import processes as stack
from tests.infra import compose

SERVICES = {"postgres", "redis", "migrate", "ingest", "metrics", "stream-drain", "view-refresh", "scheduler", "gateway", "grafana"}
PYTHON_SERVICES = {"ingest", "metrics", "stream-drain", "view-refresh", "scheduler", "gateway"}
LONG_RUNNING = SERVICES - {"migrate"}
SECRETS = {
    "POSTGRES_PASSWORD",
    "ANALYTICS_DB_PASSWORD",
    "REDIS_PASSWORD",
    "ANALYTICS_WRITE_KEY",
    "ANALYTICS_READ_KEY",
    "ANALYTICS_TASK_TOKEN",
    "ANALYTICS_READER_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "GRAFANA_SECRET_KEY",
}
PYTHON_IMAGE = "python:3.11.14-slim-bookworm"
HEALTHY = "service_healthy"
MIGRATED = "service_completed_successfully"
DEPENDENCIES = {
    "postgres": {},
    "redis": {},
    "migrate": {"postgres": HEALTHY},
    **{f: {"postgres": HEALTHY, "redis": HEALTHY, "migrate": MIGRATED} for f in ("ingest", "metrics", "stream-drain", "view-refresh")},
    "scheduler": {"stream-drain": HEALTHY, "view-refresh": HEALTHY},
    "gateway": {"ingest": HEALTHY, "metrics": HEALTHY, "stream-drain": HEALTHY, "view-refresh": HEALTHY},
    "grafana": {"postgres": HEALTHY, "migrate": MIGRATED},
}


@pytest.fixture(scope="module")
def config() -> dict:
    return compose.load_compose(compose.filled_env())


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(compose.SCHEMA.read_text())


def test_the_compose_file_is_valid_against_the_compose_specification(config, schema):
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(config)]
    assert errors == []


def test_the_schema_catches_what_compose_would_refuse(config, schema):
    validator = jsonschema.validators.validator_for(schema)(schema)
    broken = json.loads(json.dumps(config))
    broken["services"]["gateway"]["depends_on"]["ingest"]["condition"] = "service_ready"
    broken["services"]["redis"]["healtcheck"] = broken["services"]["redis"].pop("healthcheck")
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_vendored_schema_is_the_file_its_readme_names():
    readme = (compose.SCHEMA.parent / "README.md").read_text()
    assert "compose-spec/compose-spec" in readme and "schema/compose-spec.json" in readme
    assert re.search(r"\b[0-9a-f]{40}\b", readme), "the source commit"
    assert hashlib.sha256(compose.SCHEMA.read_bytes()).hexdigest() in readme


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}-${B:-b}-${B-b}-${C-c}-$A-$$A", "a-b--c-a-$A"),
        ("${B:+x-${A}}|${D:+x-${A}}|${B+set}", "|x-a|set"),
        ("${E:-${B:-${A}}/z}|${D:-${A}}", "a/z|d"),
        ("${D:?need ${A}}", "d"),
    ],
)
def test_interpolation_reads_values_as_compose_does_nested_ones_included(text, expected):
    assert compose.interpolate(text, {"A": "a", "B": "", "D": "d"}) == expected


def test_a_nested_required_variable_stops_the_start_only_where_it_is_used():
    assert compose.interpolate("${R:+${S:?set S}}", {}) == ""
    with pytest.raises(compose.MissingVariable, match="required variable S is missing a value: set S"):
        compose.interpolate("${R:+${S:?set S}}", {"R": "r"})


def test_the_stack_has_every_service(config):
    assert set(config["services"]) == SERVICES


def test_every_long_running_service_has_a_healthcheck_and_restarts(config):
    for name in LONG_RUNNING:
        service = config["services"][name]
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name
    assert "healthcheck" not in config["services"]["migrate"]
    assert config["services"]["migrate"]["restart"] == "no"


def test_each_service_waits_for_what_it_needs(config):
    found = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in config["services"].items()
    }
    assert found == DEPENDENCIES


def test_every_dependency_it_waits_on_to_be_healthy_has_a_healthcheck(config):
    for service in config["services"].values():
        for dep, spec in service.get("depends_on", {}).items():
            if spec["condition"] == HEALTHY:
                assert "healthcheck" in config["services"][dep], dep


def test_data_lives_in_named_volumes(config):
    assert set(config["volumes"]) == {"postgres-data", "redis-data", "grafana-data"}
    mounts = {name: service.get("volumes", []) for name, service in config["services"].items()}
    assert "postgres-data:/var/lib/postgresql/data" in mounts["postgres"]
    assert "redis-data:/data" in mounts["redis"]
    assert "grafana-data:/var/lib/grafana" in mounts["grafana"]


def test_only_the_gateway_and_grafana_publish_ports_and_on_loopback_by_default(config):
    published = {name: service["ports"] for name, service in config["services"].items() if "ports" in service}
    assert published == {"gateway": ["127.0.0.1:8080:8080"], "grafana": ["127.0.0.1:3000:3000"]}
    widened = compose.load_compose({**compose.filled_env(), "BIND_ADDRESS": "0.0.0.0", "GATEWAY_PORT": "80"})  # noqa: S104
    assert widened["services"]["gateway"]["ports"] == ["0.0.0.0:80:8080"]


def test_every_secret_is_required_and_never_defaulted():
    assert compose.required_variables() == SECRETS
    values = "\n".join(compose.strings(compose.raw_compose()))
    for name in SECRETS:
        # ${NAME}, ${NAME-x} or ${NAME:-x} would start the stack without it ($${NAME} is the container's own shell).
        assert not re.search(rf"(?<!\$)\$\{{{name}(:?-|\}})", values), f"{name} must only appear as ${{{name}:?...}}"


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_missing_secret_stops_the_start_and_says_which(name):
    env = compose.filled_env()
    for missing in (None, ""):
        if missing is None:
            env.pop(name)
        else:
            env[name] = missing
        with pytest.raises(compose.MissingVariable, match=rf"required variable {name} is missing a value: set {name} in infra/\.env"):
            compose.load_compose(env)


def test_env_example_documents_every_secret_and_holds_none():
    example = compose.env_example()
    assert set(example) == SECRETS
    assert all(value == "" for value in example.values())
    text = compose.ENV_EXAMPLE.read_text()
    for name in SECRETS:
        comment = text.split(f"\n{name}=")[0].rsplit("\n\n", 1)[-1]
        assert comment.startswith("#"), f"{name} needs a comment saying what it is"


def test_images_are_pinned(config):
    images = {name: service["image"] for name, service in config["services"].items() if "image" in service}
    assert re.fullmatch(r"postgres:15\.\d+", images["postgres"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+(-alpine)?", images["redis"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", images["grafana"])


def test_redis_keeps_an_fsynced_append_only_file_never_evicts_and_needs_a_password(config):
    script = config["services"]["redis"]["command"][-1]
    argv = script.split("<<")[0].split()
    for option, value in (("--appendonly", "yes"), ("--appendfsync", "everysec"), ("--maxmemory-policy", "noeviction")):
        assert argv[argv.index(option) + 1] == value
    assert argv[-1] == "-", "the password is read from stdin, after every option"
    assert 'requirepass "${REDIS_PASSWORD}"' in script
    assert compose.filled_env()["REDIS_PASSWORD"] not in json.dumps(config["services"]["redis"]["command"])
    assert "grep -q PONG" in config["services"]["redis"]["healthcheck"]["test"][1], "redis-cli exits 0 even on NOAUTH"


def test_postgres_is_ready_only_when_it_answers_over_tcp(config):
    test = config["services"]["postgres"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"] and test[test.index("--host") + 1] == "127.0.0.1"


def test_grafana_needs_its_admin_password_and_lets_nobody_in_anonymously(config):
    env = config["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == compose.filled_env()["GRAFANA_ADMIN_PASSWORD"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] != "admin"
    assert env["ANALYTICS_READER_PASSWORD"] == compose.filled_env()["ANALYTICS_READER_PASSWORD"]
    assert env["GF_ANALYTICS_REPORTING_ENABLED"] == env["GF_ANALYTICS_CHECK_FOR_UPDATES"] == "false"


def test_the_python_services_build_one_image_and_differ_only_in_their_target(config):
    for name in PYTHON_SERVICES | {"migrate"}:
        service = config["services"][name]
        assert service["build"] == {
            "context": "..",
            "dockerfile": "infra/Dockerfile",
            "target": name,
            "args": {"PYTHON_IMAGE": PYTHON_IMAGE},
        }
        assert "command" not in service and "entrypoint" not in service, f"{name} runs its target's CMD"
        assert "image" not in service
    for name in PYTHON_SERVICES:
        assert config["services"][name]["healthcheck"]["test"] == ["CMD", "python", "-m", "runtime", "health", name]
        assert config["services"][name]["cap_drop"] == ["ALL"]
        assert config["services"][name]["init"] is True


def test_the_functions_run_in_production_and_listen_on_the_compose_network(config):
    env = compose.filled_env()
    for name in ("ingest", "metrics", "stream-drain", "view-refresh"):
        service_env = config["services"][name]["environment"]
        assert service_env["ANALYTICS_ENV"] == "production"
        assert service_env["ANALYTICS_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 (inside its container)
        assert service_env["ANALYTICS_DATABASE_URL"] == f"postgresql://analytics:{env['ANALYTICS_DB_PASSWORD']}@postgres:5432/analytics"
        assert service_env["ANALYTICS_REDIS_URL"] == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
        for key in ("ANALYTICS_WRITE_KEY", "ANALYTICS_READ_KEY", "ANALYTICS_TASK_TOKEN"):
            assert service_env[key] == env[key]


def test_the_gateway_and_the_scheduler_find_each_function_by_its_service_name(config):
    urls = stack.function_urls(None, 8080)
    gateway = config["services"]["gateway"]["environment"]
    assert {k: v for k, v in gateway.items() if k.endswith("_URL")} == urls
    scheduler = config["services"]["scheduler"]["environment"]
    assert {k: scheduler[k] for k in ("ANALYTICS_DRAIN_URL", "ANALYTICS_REFRESH_URL")} == {
        k: urls[k] for k in ("ANALYTICS_DRAIN_URL", "ANALYTICS_REFRESH_URL")
    }
    for url in urls.values():
        assert url.split("/")[2].split(":")[0] in config["services"]


def test_the_scheduler_reads_its_health_as_the_read_only_role(config):
    url = config["services"]["scheduler"]["environment"]["ANALYTICS_DATABASE_URL"]
    assert url.startswith("postgresql://analytics_reader:")


def test_grafana_mounts_the_provisioning_and_the_dashboards_read_only(config):
    mounts = config["services"]["grafana"]["volumes"]
    assert "../grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
    assert "../grafana/dashboards:/etc/grafana/dashboards:ro" in mounts
    home = config["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (compose.ROOT / "grafana" / "dashboards" / home.removeprefix("/etc/grafana/dashboards/")).exists()


def test_logs_are_rotated(config):
    for name, service in config["services"].items():
        assert service["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}, name


def test_no_key_needs_a_newer_engine_than_20_10(config):
    for name, service in config["services"].items():
        assert "start_interval" not in service.get("healthcheck", {}), f"{name}: start_interval needs Engine 25"


def test_the_dockerfile_and_compose_pin_the_same_python_image():
    assert re.search(rf"^ARG PYTHON_IMAGE={re.escape(PYTHON_IMAGE)}$", compose.DOCKERFILE.read_text(), re.MULTILINE)


def test_only_migrate_logs_in_as_the_superuser(config):
    env = compose.filled_env()
    superuser = f"postgresql://postgres:{env['POSTGRES_PASSWORD']}@"
    logins = {
        name: sorted(v.split("://")[1].split(":")[0] for v in service.get("environment", {}).values() if str(v).startswith("postgresql://"))
        for name, service in config["services"].items()
    }
    assert logins["migrate"] == ["analytics", "postgres"]
    assert {name for name, users in logins.items() if "postgres" in users} == {"migrate"}
    assert config["services"]["migrate"]["environment"]["POSTGRES_ADMIN_URL"].startswith(superuser)
    assert config["services"]["postgres"]["environment"]["POSTGRES_USER"] == "postgres"
