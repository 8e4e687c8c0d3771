"""The durability policy: when ingest must refuse, when it waits for an fsync, when memory is full."""

import pytest

from engine.core import durability
from engine.core.durability import ServerFacts


def facts(version="7.0.15", appendonly=True, appendfsync="everysec", snapshots=False, waitaof=False, used=0, maxmemory=None):
    return ServerFacts(version, used, maxmemory, appendonly, appendfsync, snapshots, waitaof)


STRICT_NEEDS = "ANALYTICS_DURABILITY=strict needs Redis >= 7.2 (WAITAOF) or appendfsync always"
NOTHING_ON_DISK = "Redis keeps nothing on disk"


@pytest.mark.parametrize(
    ("server", "mode", "env", "refused_with"),
    [
        (facts(), "everysec", "development", None),
        (facts(), "everysec", "production", None),
        (facts(appendfsync="always"), "strict", "production", None),
        (facts(waitaof=True), "strict", "production", None),
        (facts(), "strict", "development", STRICT_NEEDS),
        (facts(appendfsync=None), "strict", "development", STRICT_NEEDS),
        (facts(appendonly=False), "everysec", "development", None),
        (facts(appendonly=False), "everysec", "production", NOTHING_ON_DISK),
        (facts(appendonly=False, snapshots=True), "everysec", "production", None),
        (facts(appendonly=None), "everysec", "production", None),
    ],
)
def test_refusal(server, mode, env, refused_with):
    problem = durability.refusal(server, mode, env)
    if refused_with is None:
        assert problem is None
    else:
        assert problem.startswith(refused_with)


@pytest.mark.parametrize(
    ("server", "mode", "timeout"),
    [
        (facts(waitaof=True), "strict", 2000),
        (facts(waitaof=True, appendfsync="always"), "strict", None),
        (facts(waitaof=True), "everysec", None),
        (facts(), "strict", None),
    ],
)
def test_fsync_timeout_only_when_strict_and_waitaof_adds_something(server, mode, timeout):
    assert durability.fsync_timeout_ms(server, mode, 2000) == timeout


@pytest.mark.parametrize(
    ("server", "warned_with"),
    [
        (facts(appendonly=False), "Redis keeps nothing on disk"),
        (facts(appendonly=None), "cannot read Redis's persistence"),
        (facts(), None),
    ],
)
def test_warning(server, warned_with):
    warning = durability.warning(server)
    assert (warning is None) if warned_with is None else warning.startswith(warned_with)


@pytest.mark.parametrize(
    ("used", "maxmemory", "full"), [(90, 100, True), (85, 100, True), (84, 100, False), (10**9, 0, False), (10**9, None, False)]
)
def test_memory_backpressure_rule(used, maxmemory, full):
    assert durability.memory_full(facts(used=used, maxmemory=maxmemory), 0.85) is full
