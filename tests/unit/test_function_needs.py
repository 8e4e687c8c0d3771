"""Each function requires only its own settings (engine.config.FUNCTION_NEEDS), by its target."""

from __future__ import annotations

import pytest

from engine import config
from engine.core.errors import ConfigError
from runtime import processes

STORES = {"ANALYTICS_DATABASE_URL": "postgresql://a@127.0.0.1/a", "ANALYTICS_REDIS_URL": "redis://127.0.0.1:6379/0"}
TOKEN = {"ANALYTICS_TASK_TOKEN": "t" * 16}
WRITE = {"ANALYTICS_WRITE_KEY": "w" * 16}
READ = {"ANALYTICS_READ_KEY": "r" * 16}


def test_every_target_of_the_process_table_has_its_needs():
    assert set(config.FUNCTION_NEEDS) == set(processes.TARGETS.values())


@pytest.mark.parametrize(
    ("target", "given", "missing"),
    [
        ("ingest", {**STORES, **TOKEN, **WRITE}, None),
        ("ingest", {**STORES, **TOKEN, **READ}, "ANALYTICS_WRITE_KEY"),
        ("metrics", {**STORES, **TOKEN, **READ}, None),
        ("metrics", {**STORES, **TOKEN, **WRITE}, "ANALYTICS_READ_KEY"),
        ("stream_drain", {**STORES, **TOKEN}, None),
        ("view_refresh", {**STORES, **TOKEN}, None),
        ("view_refresh", STORES, "ANALYTICS_TASK_TOKEN"),
        ("", {**STORES, **TOKEN, **WRITE}, "ANALYTICS_READ_KEY"),  # target unknown: every function's needs
    ],
)
def test_a_target_starts_with_exactly_its_needs(monkeypatch, target, given, missing):
    for name in config.ENV_NAMES.values():
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()
    try:
        if missing is None:
            assert config.function_settings(target).database_url == STORES["ANALYTICS_DATABASE_URL"]
        else:
            with pytest.raises(ConfigError, match=f"^{missing} must be set"):
                config.function_settings(target)
    finally:
        config.get_settings.cache_clear()


def test_the_target_is_what_functions_framework_sets(monkeypatch):
    monkeypatch.setenv("FUNCTION_TARGET", "stream_drain")
    assert config.function_target() == "stream_drain"
    monkeypatch.delenv("FUNCTION_TARGET")
    assert config.function_target() == ""
