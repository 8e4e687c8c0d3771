"""Stream shards' key names and routing (buffer/keys.py), and their settings."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from engine.buffer.keys import Keys, shard_index, shard_keys
from engine.config import load_settings
from engine.core.errors import ConfigError


def test_one_shard_is_the_namespace_own_keys():
    assert shard_keys("analytics", 1) == (Keys.for_namespace("analytics"),)
    assert Keys.for_namespace("analytics").stream == "{analytics}:events"


@pytest.mark.parametrize("shards", [2, 3, 8, 16])
def test_each_shard_keeps_its_append_keys_in_one_slot_and_the_shards_spread_evenly(shards):
    keys = shard_keys("analytics", shards)
    width = 16384 / shards
    for i, k in enumerate(keys):
        slots = {key_slot(name.encode()) for name in (k.stream, k.seen, k.counters, k.lease, k.rate_bucket("key", "x"))}
        assert len(slots) == 1
        assert int(i * width) <= slots.pop() < int((i + 1) * width)
        assert k.state == "{analytics}:state"


def test_a_person_always_lands_on_the_same_shard():
    assert {shard_index(7, "user_1", 8) for _ in range(5)} == {shard_index(7, "user_1", 8)}
    assert shard_index(7, "user_1", 1) == 0
    assert len({shard_index(1, f"user_{i}", 8) for i in range(200)}) == 8


def test_settings_parse_the_cluster_nodes_and_fail_with_the_variable_name():
    settings = load_settings({"ANALYTICS_REDIS_CLUSTER_NODES": "127.0.0.1:7000, 10.0.0.2:7001", "ANALYTICS_STREAM_SHARDS": "8"})
    assert settings.redis_cluster_nodes == (("127.0.0.1", 7000), ("10.0.0.2", 7001)) and settings.stream_shards == 8
    assert settings.require("redis_url").redis_url is None  # a cluster replaces ANALYTICS_REDIS_URL
    with pytest.raises(ConfigError, match="ANALYTICS_REDIS_CLUSTER_NODES"):
        load_settings({"ANALYTICS_REDIS_CLUSTER_NODES": "nohost"})
    with pytest.raises(ConfigError, match="ANALYTICS_STREAM_SHARDS"):
        load_settings({"ANALYTICS_STREAM_SHARDS": "0"})
