"""All runtime configuration, read once from the environment into a frozen object.

Nothing else in the project reads os.environ: the functions, the scheduler, the local
emulator and the tests all come here, and a malformed or missing setting fails at start
with the variable's name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from engine.core import constants as c
from engine.core.errors import ConfigError

ENVIRONMENTS = ("development", "test", "production")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of a deployment; None means "not set" for the optional URLs and secrets."""

    env: str = "development"
    database_url: str | None = None
    redis_url: str | None = None
    write_key: str | None = None
    read_key: str | None = None
    task_token: str | None = None
    redis_namespace: str = "analytics"
    http_port: int = c.DEFAULT_HTTP_PORT
    http_host: str = "127.0.0.1"
    local_dir: str | None = None
    ingest_url: str | None = None
    metrics_url: str | None = None
    drain_url: str | None = None
    refresh_url: str | None = None
    drain_batch_size: int = c.DEFAULT_DRAIN_BATCH_SIZE
    drain_budget_seconds: float = c.DEFAULT_DRAIN_BUDGET_SECONDS
    drain_reclaim_idle_ms: int = c.DEFAULT_DRAIN_RECLAIM_IDLE_MS
    drain_max_deliveries: int = c.DEFAULT_DRAIN_MAX_DELIVERIES
    dedupe_window_seconds: int = c.DEFAULT_DEDUPE_WINDOW_SECONDS
    retention_days: int = c.DEFAULT_RETENTION_DAYS
    rollup_retention_days: int = c.DEFAULT_ROLLUP_RETENTION_DAYS
    partition_days_ahead: int = c.DEFAULT_PARTITION_DAYS_AHEAD
    active_window_seconds: int = c.DEFAULT_ACTIVE_WINDOW_SECONDS
    top_elements: int = c.DEFAULT_TOP_ELEMENTS
    session_gap_seconds: int = c.DEFAULT_SESSION_GAP_SECONDS
    drain_interval_seconds: float = c.DEFAULT_DRAIN_INTERVAL_SECONDS
    refresh_interval_seconds: float = c.DEFAULT_REFRESH_INTERVAL_SECONDS
    pg_statement_timeout_ms: int = c.DEFAULT_PG_STATEMENT_TIMEOUT_MS
    pg_refresh_timeout_ms: int = c.DEFAULT_PG_REFRESH_TIMEOUT_MS
    io_timeout_seconds: float = c.DEFAULT_IO_TIMEOUT_SECONDS
    durability: str = "everysec"
    key_rate_limit: int = c.DEFAULT_KEY_RATE_LIMIT
    ip_rate_limit: int = c.DEFAULT_IP_RATE_LIMIT
    trusted_proxy_hops: int = 1
    metrics_allowed_origins: tuple[str, ...] = ()
    max_backlog: int = c.DEFAULT_MAX_BACKLOG
    max_redis_memory_ratio: float = c.DEFAULT_MAX_REDIS_MEMORY_RATIO
    stream_shards: int = 1
    redis_cluster_nodes: tuple[tuple[str, int], ...] = ()
    database_read_url: str | None = None
    header_timeout_seconds: float = c.DEFAULT_HEADER_TIMEOUT_SECONDS
    body_timeout_seconds: float = c.DEFAULT_BODY_TIMEOUT_SECONDS
    idle_timeout_seconds: float = c.DEFAULT_IDLE_TIMEOUT_SECONDS
    max_connections: int = c.DEFAULT_MAX_CONNECTIONS
    drop_bots: bool = True

    def require(self, *names: str) -> Settings:
        """Fail with the variable's name unless every named setting is present."""
        present = {"redis_url"} if self.redis_cluster_nodes else set()  # a cluster replaces the one Redis
        missing = [ENV_NAMES[n] for n in names if getattr(self, n) in (None, "") and n not in present]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set (see README, Configuration)")
        return self


# Setting name -> (environment variable, parser). Parsers raise ValueError with a reason.
def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value.strip()


def _secret(value: str) -> str:
    value = _text(value)
    if len(value) < 16:
        raise ValueError("must be at least 16 characters")
    return value


def _url(*schemes: str):
    def parse(value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in schemes:
            raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
        return value.strip()

    return parse


KIND_NAMES = {int: "a whole number", float: "a number"}
# The gateway's port and the next four, one per function (local/stack.py's FUNCTIONS).
PORT_BLOCK = 5


def _number(kind, low, high, why: str = ""):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise ValueError(f"must be {KIND_NAMES[kind]}, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}{why}, got {number}")
        return number

    return parse


def _choice(*options: str):
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return value

    return parse


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in FLAG_WORDS:
        raise ValueError(f"must be one of {', '.join(FLAG_WORDS)}, got {value!r}")
    return FLAG_WORDS[lowered]


FLAG_WORDS = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False, "off": False, "no": False}


def _origins(value: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ValueError(f"must be a comma-separated list of origins like https://app.example.com, got {origin!r}")
    return origins


def _nodes(value: str) -> tuple[tuple[str, int], ...]:
    nodes = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be a comma-separated list of host:port, got {part!r}")
        nodes.append((host, int(port)))
    if not nodes:
        raise ValueError("names no host:port")
    return tuple(nodes)


def _namespace(value: str) -> str:
    value = _text(value)
    if not all(ch.isalnum() or ch in "-_." for ch in value):
        raise ValueError("may hold only letters, digits, '-', '_' and '.'")
    return value


FIELDS = {
    "env": ("ANALYTICS_ENV", _choice(*ENVIRONMENTS)),
    "database_url": ("ANALYTICS_DATABASE_URL", _url("postgresql", "postgres")),
    "redis_url": ("ANALYTICS_REDIS_URL", _url("redis", "rediss", "unix")),
    "write_key": ("ANALYTICS_WRITE_KEY", _secret),
    "read_key": ("ANALYTICS_READ_KEY", _secret),
    "task_token": ("ANALYTICS_TASK_TOKEN", _secret),
    "redis_namespace": ("ANALYTICS_REDIS_NAMESPACE", _namespace),
    "http_port": (
        "ANALYTICS_HTTP_PORT",
        _number(int, 1, 65536 - PORT_BLOCK, f" (the gateway's port; the functions take the next {PORT_BLOCK - 1})"),
    ),
    "http_host": ("ANALYTICS_HTTP_HOST", _text),
    "local_dir": ("ANALYTICS_LOCAL_DIR", _text),
    "ingest_url": ("ANALYTICS_INGEST_URL", _url("http", "https")),
    "metrics_url": ("ANALYTICS_METRICS_URL", _url("http", "https")),
    "drain_url": ("ANALYTICS_DRAIN_URL", _url("http", "https")),
    "refresh_url": ("ANALYTICS_REFRESH_URL", _url("http", "https")),
    "drain_batch_size": ("ANALYTICS_DRAIN_BATCH_SIZE", _number(int, 1, 100_000)),
    "drain_budget_seconds": ("ANALYTICS_DRAIN_BUDGET_SECONDS", _number(float, 0.1, 3600)),
    "drain_reclaim_idle_ms": ("ANALYTICS_DRAIN_RECLAIM_IDLE_MS", _number(int, 0, 86_400_000)),
    "drain_max_deliveries": ("ANALYTICS_DRAIN_MAX_DELIVERIES", _number(int, 1, 1000)),
    "dedupe_window_seconds": ("ANALYTICS_DEDUPE_WINDOW_SECONDS", _number(int, 1, 90 * 86400)),
    "retention_days": ("ANALYTICS_RETENTION_DAYS", _number(int, 0, 36_500)),
    "rollup_retention_days": ("ANALYTICS_ROLLUP_RETENTION_DAYS", _number(int, 0, 36_500)),
    "partition_days_ahead": ("ANALYTICS_PARTITION_DAYS_AHEAD", _number(int, 1, 366)),
    "active_window_seconds": ("ANALYTICS_ACTIVE_WINDOW_SECONDS", _number(int, 10, 86_400)),
    "top_elements": ("ANALYTICS_TOP_ELEMENTS", _number(int, 1, 1000)),
    "session_gap_seconds": ("ANALYTICS_SESSION_GAP_SECONDS", _number(int, 1, 86_400)),
    "drain_interval_seconds": ("ANALYTICS_DRAIN_INTERVAL_SECONDS", _number(float, 0.1, 3600)),
    "refresh_interval_seconds": ("ANALYTICS_REFRESH_INTERVAL_SECONDS", _number(float, 1, 86_400)),
    "pg_statement_timeout_ms": ("ANALYTICS_PG_STATEMENT_TIMEOUT_MS", _number(int, 100, 3_600_000)),
    "pg_refresh_timeout_ms": ("ANALYTICS_PG_REFRESH_TIMEOUT_MS", _number(int, 1000, 86_400_000)),
    "io_timeout_seconds": ("ANALYTICS_IO_TIMEOUT_SECONDS", _number(float, 0.1, 600)),
    "durability": ("ANALYTICS_DURABILITY", _choice(*c.DURABILITY_MODES)),
    "key_rate_limit": ("ANALYTICS_KEY_RATE_LIMIT", _number(int, 0, 10_000_000)),
    "ip_rate_limit": ("ANALYTICS_IP_RATE_LIMIT", _number(int, 0, 10_000_000)),
    "trusted_proxy_hops": ("ANALYTICS_TRUSTED_PROXY_HOPS", _number(int, 0, 10)),
    "metrics_allowed_origins": ("ANALYTICS_METRICS_ALLOWED_ORIGINS", _origins),
    "max_backlog": ("ANALYTICS_MAX_BACKLOG", _number(int, 1, 1_000_000_000)),
    "max_redis_memory_ratio": ("ANALYTICS_MAX_REDIS_MEMORY_RATIO", _number(float, 0.05, 1.0)),
    "stream_shards": ("ANALYTICS_STREAM_SHARDS", _number(int, 1, c.MAX_STREAM_SHARDS)),
    "redis_cluster_nodes": ("ANALYTICS_REDIS_CLUSTER_NODES", _nodes),
    "database_read_url": ("ANALYTICS_DATABASE_READ_URL", _url("postgresql", "postgres")),
    "header_timeout_seconds": ("ANALYTICS_HEADER_TIMEOUT_SECONDS", _number(float, 0.1, 600)),
    "body_timeout_seconds": ("ANALYTICS_BODY_TIMEOUT_SECONDS", _number(float, 0.1, 3600)),
    "idle_timeout_seconds": ("ANALYTICS_IDLE_TIMEOUT_SECONDS", _number(float, 0.1, 3600)),
    "max_connections": ("ANALYTICS_MAX_CONNECTIONS", _number(int, 1, 1_000_000)),
    "drop_bots": ("ANALYTICS_DROP_BOTS", _flag),
}
ENV_NAMES = {name: var for name, (var, _) in FIELDS.items()}


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Parse every ANALYTICS_* variable present in environ; absent ones keep their defaults."""
    values = {}
    errors = []
    for name, (var, parse) in FIELDS.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            errors.append(f"{var} {exc}")
    if errors:
        raise ConfigError("; ".join(errors))
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from its environment on first use."""
    return load_settings(os.environ)


# What each function needs to start, by its functions-framework target: its stores, the key it
# checks, and the task token that guards its /internal/metrics. A function deployed alone
# (README, "Production") is given these and nothing more.
FUNCTION_NEEDS = {
    "ingest": ("database_url", "redis_url", "write_key", "task_token"),
    "metrics": ("database_url", "redis_url", "read_key", "task_token"),
    "stream_drain": ("database_url", "redis_url", "task_token"),
    "view_refresh": ("database_url", "redis_url", "task_token"),
}
ALL_FUNCTION_NEEDS = tuple(dict.fromkeys(need for needs in FUNCTION_NEEDS.values() for need in needs))


def function_target() -> str:
    """The target this process serves: functions-framework sets FUNCTION_TARGET before it loads the source."""
    return os.environ.get("FUNCTION_TARGET", "")


def function_settings(target: str | None = None) -> Settings:
    """Settings a function process needs: those of its target, or every function's when it is not known."""
    return get_settings().require(*FUNCTION_NEEDS.get(target or "", ALL_FUNCTION_NEEDS))


def test_service_urls(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The services the test suite should use (ANALYTICS_TEST_*), or None to embed its own."""
    environ = os.environ if environ is None else environ
    return environ.get("ANALYTICS_TEST_DATABASE_URL") or None, environ.get("ANALYTICS_TEST_REDIS_URL") or None


def process_environment() -> dict[str, str]:
    """A copy of this process's environment, for starting child processes."""
    return dict(os.environ)
