import pytest

from engine.config import Settings, load_settings
from engine.core.errors import ConfigError

BASE = {
    "ANALYTICS_DATABASE_URL": "postgresql://u:p@db:5432/analytics",
    "ANALYTICS_REDIS_URL": "redis://cache:6379/0",
    "ANALYTICS_WRITE_KEY": "w" * 16,
    "ANALYTICS_READ_KEY": "r" * 16,
    "ANALYTICS_TASK_TOKEN": "t" * 16,
}


def test_defaults():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.http_port == 8080
    assert settings.retention_days == 0


def test_reads_each_variable():
    settings = load_settings({**BASE, "ANALYTICS_HTTP_PORT": "9000", "ANALYTICS_DRAIN_BUDGET_SECONDS": "2.5"})
    assert settings.database_url == BASE["ANALYTICS_DATABASE_URL"]
    assert settings.http_port == 9000
    assert settings.drain_budget_seconds == 2.5
    assert settings.require("database_url", "redis_url", "write_key", "read_key", "task_token") is settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ANALYTICS_HTTP_PORT": "eighty"}, "ANALYTICS_HTTP_PORT must be a int, got 'eighty'"),
        ({"ANALYTICS_HTTP_PORT": "70000"}, "ANALYTICS_HTTP_PORT must be between 1 and 65535, got 70000"),
        ({"ANALYTICS_DATABASE_URL": "mysql://x"}, "ANALYTICS_DATABASE_URL must start with postgresql:// or postgres://"),
        ({"ANALYTICS_WRITE_KEY": "short"}, "ANALYTICS_WRITE_KEY must be at least 16 characters"),
        ({"ANALYTICS_ENV": "staging"}, "ANALYTICS_ENV must be one of development, test, production"),
        ({"ANALYTICS_REDIS_NAMESPACE": "a b"}, "ANALYTICS_REDIS_NAMESPACE may hold only"),
    ],
)
def test_malformed_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert message in str(caught.value)


def test_require_names_missing_variables():
    with pytest.raises(ConfigError) as caught:
        load_settings({"ANALYTICS_REDIS_URL": "redis://x"}).require("database_url", "redis_url", "task_token")
    assert str(caught.value) == "ANALYTICS_DATABASE_URL, ANALYTICS_TASK_TOKEN must be set (see README, Configuration)"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5433/analytics", ("u", "p", "analytics", "db", 5433, None, "prefer")),
        (
            "postgresql://postgres@/analytics?host=/run/pg&port=5432",
            ("postgres", None, "analytics", None, 5432, "/run/pg/.s.PGSQL.5432", "prefer"),
        ),
        ("postgres://u@h/db?sslmode=require", ("u", None, "db", "h", 5432, None, "require")),
        ("postgresql://u%40x:p%2Fw@h/d", ("u@x", "p/w", "d", "h", 5432, None, "prefer")),
    ],
)
def test_database_urls(url, expected):
    from engine.db.postgres import parse_database_url

    t = parse_database_url(url)
    assert (t.user, t.password, t.database, t.host, t.port, t.unix_sock, t.sslmode) == expected


@pytest.mark.parametrize(("sslmode", "context"), [("disable", False), ("prefer", None), ("require", True)])
def test_sslmode_maps_to_pg8000(sslmode, context):
    from engine.db.postgres import parse_database_url

    assert parse_database_url(f"postgresql://u@h/d?sslmode={sslmode}").ssl_context() is context
    assert parse_database_url(f"postgresql://u@/d?host=/run&sslmode={sslmode}").ssl_context() is False


def test_unknown_sslmode_is_refused():
    from engine.db.postgres import parse_database_url

    with pytest.raises(ConfigError, match="sslmode must be one of"):
        parse_database_url("postgresql://u@h/d?sslmode=maybe")
