"""Pure policy: may ingest accept events into this Redis, given what it keeps on disk and how full it is?

A 202 means the event is in the stream; how much of the stream survives a Redis crash
depends on the server: no AOF and no snapshots loses everything not yet drained; AOF with
appendfsync everysec loses up to about one second of acknowledged events; appendfsync
always, or WAITAOF (Redis >= 7.2, used in "strict" mode), loses none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerFacts:
    """What this Redis keeps on disk and how full it is (None where CONFIG is not allowed)."""

    version: str
    used_memory: int
    maxmemory: int | None
    appendonly: bool | None
    appendfsync: str | None
    rdb_snapshots: bool | None
    waitaof: bool
    hash_listpack_entries: int | None = None

    @property
    def persistent(self) -> bool | None:
        if self.appendonly is None:
            return None
        return bool(self.appendonly or self.rdb_snapshots)


def refusal(facts: ServerFacts, mode: str, env: str) -> str | None:
    """Why ingest must refuse every event on this server, or None."""
    if mode == "strict" and not facts.waitaof and facts.appendfsync != "always":
        return (
            f"ANALYTICS_DURABILITY=strict needs Redis >= 7.2 (WAITAOF) or appendfsync always; "
            f"this Redis {facts.version} has appendfsync {facts.appendfsync or 'unknown'}"
        )
    if env == "production" and facts.persistent is False:
        return "Redis keeps nothing on disk (appendonly no, no save points); refusing events that a restart would lose"
    return None


def warning(facts: ServerFacts) -> str | None:
    """What to warn about loudly (outside production, or when the settings cannot be read)."""
    if facts.persistent is False:
        return "Redis keeps nothing on disk: every event not yet drained is lost if Redis restarts (development only)"
    if facts.persistent is None:
        return "cannot read Redis's persistence settings (CONFIG GET refused); make sure appendonly is on"
    return None


def memory_full(facts: ServerFacts, ratio: float) -> bool:
    """Past ratio of maxmemory (when one is set) ingest answers 503 instead of filling Redis."""
    return bool(facts.maxmemory) and facts.used_memory >= ratio * facts.maxmemory


def fsync_timeout_ms(facts: ServerFacts, mode: str, timeout_ms: int) -> int | None:
    """The WAITAOF timeout to use on each append, or None when the server's policy suffices."""
    if mode == "strict" and facts.waitaof and facts.appendfsync != "always":
        return timeout_ms
    return None
