"""What this Redis keeps on disk and how full it is, read from INFO and CONFIG."""

from __future__ import annotations

import redis

from engine.core.durability import ServerFacts


def server_facts(client: redis.Redis) -> ServerFacts:
    info = client.info("server") | client.info("memory")
    version = str(info.get("redis_version", "0"))
    config: dict = {}
    try:  # one name per CONFIG GET: Redis before 7 takes only one
        with client.pipeline(transaction=False) as pipe:
            for name in ("appendonly", "appendfsync", "save", "maxmemory", "hash-max-ziplist-entries"):
                pipe.config_get(name)
            for reply in pipe.execute():
                config.update(reply)
    except redis.ResponseError:  # CONFIG renamed or forbidden (managed Redis)
        config = {}
    major, minor = (int(part) for part in (version.split(".") + ["0"])[:2])

    def value(name):
        raw = config.get(name, config.get(name.encode()))
        return raw.decode() if isinstance(raw, bytes) else raw

    return ServerFacts(
        version=version,
        used_memory=int(info.get("used_memory", 0)),
        maxmemory=int(value("maxmemory")) if value("maxmemory") is not None else None,
        appendonly=(value("appendonly") == "yes") if value("appendonly") is not None else None,
        appendfsync=value("appendfsync"),
        rdb_snapshots=bool(value("save").strip()) if value("save") is not None else None,
        waitaof=(major, minor) >= (7, 2),
        hash_listpack_entries=int(value("hash-max-ziplist-entries")) if value("hash-max-ziplist-entries") is not None else None,
    )
