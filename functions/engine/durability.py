"""Pure policy: may ingest accept events into this Redis, given what it keeps on disk and how full it is?

A 202 means the event is in the stream; how much of the stream survives a Redis crash
depends on the server: no AOF and no snapshots loses everything not yet drained; AOF with
appendfsync everysec loses up to about one second of acknowledged events; appendfsync
always, or WAITAOF (Redis >= 7.2, used in "strict" mode), loses none.
"""

from __future__ import annotations

from engine.config import Settings
from engine.streams import ServerFacts


def refusal(facts: ServerFacts, settings: Settings) -> str | None:
    """Why ingest must refuse every event on this server, or None."""
    if settings.durability == "strict" and not facts.waitaof and facts.appendfsync != "always":
        return (
            f"ANALYTICS_DURABILITY=strict needs Redis >= 7.2 (WAITAOF) or appendfsync always; "
            f"this Redis {facts.version} has appendfsync {facts.appendfsync or 'unknown'}"
        )
    if settings.env == "production" and facts.persistent is False:
        return "Redis keeps nothing on disk (appendonly no, no save points); refusing events that a restart would lose"
    return None


def warning(facts: ServerFacts, settings: Settings) -> str | None:
    """What to warn about loudly (outside production, or when the settings cannot be read)."""
    if facts.persistent is False:
        return "Redis keeps nothing on disk: every event not yet drained is lost if Redis restarts (development only)"
    if facts.persistent is None:
        return "cannot read Redis's persistence settings (CONFIG GET refused); make sure appendonly is on"
    return None


def memory_full(facts: ServerFacts, ratio: float) -> bool:
    """Past ratio of maxmemory (when one is set) ingest answers 503 instead of filling Redis."""
    return bool(facts.maxmemory) and facts.used_memory >= ratio * facts.maxmemory


def fsync_timeout_ms(facts: ServerFacts, settings: Settings, timeout_ms: int) -> int | None:
    """The WAITAOF timeout to use on each append, or None when the server's policy suffices."""
    if settings.durability == "strict" and facts.waitaof and facts.appendfsync != "always":
        return timeout_ms
    return None
