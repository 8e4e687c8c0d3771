"""Each process's view of the API keys: hash -> (project, kind, expiry), loaded from PostgreSQL.

Ingest must keep answering while PostgreSQL is down, and a wrong key must not cost a query,
so lookups are in memory. The ring reloads every KEYRING_REFRESH_SECONDS, and at most every
KEYRING_MISS_RELOAD_SECONDS when a key it does not know is presented (so a key created a
moment ago works at once, and a flood of wrong keys costs one query per interval). The
scheduled reload runs on a thread of its own while lookups go on with the ring they have. When a
reload fails the last good ring stays in use; with none at all, keys cannot be checked and
the caller answers 503, never 401 for a key that may be valid. An event loop (async ingest) asks
write_project first, which runs a check that would wait for a reload on a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from dataclasses import dataclass

from engine.config import Settings
from engine.core import auth
from engine.db import keystore, postgres
from engine.logs import get_logger

log = get_logger("engine.keyring")

KEYRING_REFRESH_SECONDS = 30.0
KEYRING_MISS_RELOAD_SECONDS = 5.0


class KeysUnavailable(Exception):
    """No key list could be loaded yet (PostgreSQL unreachable since this process started)."""


@dataclass(frozen=True)
class Grant:
    project_id: int
    kind: str
    expires_at: dt.datetime | None

    def valid(self, now: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


class KeyRing:
    def __init__(self, load, clock=time.monotonic):
        self._load = load
        self._clock = clock
        self._reloading = threading.Lock()
        self._grants: dict[bytes, Grant] | None = None
        self._loaded_at = float("-inf")
        self._tried_at = float("-inf")

    def _reload(self, wait: bool, older_than: float) -> None:
        """Reload unless another thread is at it (then wait only if asked) or it just happened."""
        if self._reloading.acquire(blocking=wait):
            self._reload_and_release(older_than)

    def _reload_in_background(self) -> None:
        """The scheduled reload, on a thread of its own: the caller goes on with the ring it has, so
        an event loop serving requests (async ingest) never waits on PostgreSQL for it, even when
        PostgreSQL is down and the reload waits out its timeout."""
        if self._reloading.acquire(blocking=False):
            threading.Thread(target=self._reload_and_release, args=(1.0,), name="keyring-reload", daemon=True).start()

    def _reload_and_release(self, older_than: float) -> None:
        """The reload itself, with self._reloading held; releases it."""
        try:
            if self._clock() - self._tried_at < older_than:
                return  # another thread reloaded while this one waited
            self._tried_at = self._clock()
            try:
                rows = self._load()
            except Exception as exc:
                log.warning("key list not reloaded; keeping the last one", extra={"error": str(exc)[:200]})
                return
            self._grants = {h: Grant(p, k, e) for h, p, k, e in rows}
            self._loaded_at = self._clock()
        finally:
            self._reloading.release()

    def would_wait(self, key_hash: bytes) -> bool:
        """Whether lookup(key_hash, ...) would reload from PostgreSQL before it answers: no list
        yet, or a key the list lacks while an unknown key's reload is due."""
        grants = self._grants
        if grants is None:
            return True
        return key_hash not in grants and self._clock() - self._tried_at > KEYRING_MISS_RELOAD_SECONDS

    def lookup(self, key_hash: bytes, kind: str, now: dt.datetime) -> int | None:
        """The project a key of this kind opens now, or None; KeysUnavailable if it cannot tell."""
        if self._grants is None:
            self._reload(wait=True, older_than=0.0)
        elif self._clock() - self._loaded_at > KEYRING_REFRESH_SECONDS:
            self._reload_in_background()
        grants = self._grants
        if grants is None:
            raise KeysUnavailable("the key list could not be loaded from PostgreSQL")
        grant = grants.get(key_hash)
        if grant is None and self._clock() - self._tried_at > KEYRING_MISS_RELOAD_SECONDS:
            self._reload(wait=True, older_than=KEYRING_MISS_RELOAD_SECONDS)
            grant = (self._grants or {}).get(key_hash)
        if grant is not None and grant.kind == kind and grant.valid(now):
            return grant.project_id
        return None


def load_keys(settings: Settings) -> list:
    """One short-lived connection with a short timeout: a reload must never stall ingest for long."""
    conn = postgres.connect(settings.database_url, application_name="analytics-keys", statement_timeout_ms=2000, io_timeout_seconds=2)
    try:
        return keystore.active_api_keys(conn)
    finally:
        conn.close()


_rings: dict[str, KeyRing] = {}
_rings_lock = threading.Lock()


def ring_for(settings: Settings) -> KeyRing:
    """The process's key ring for this database."""
    ring = _rings.get(settings.database_url)
    if ring is None:
        with _rings_lock:
            ring = _rings.get(settings.database_url)
            if ring is None:
                ring = KeyRing(lambda: load_keys(settings))
                _rings[settings.database_url] = ring
    return ring


def reset() -> None:
    with _rings_lock:
        _rings.clear()


def lookup_for(settings: Settings):
    """The lookup auth needs: (key_hash, kind) -> project id or None, against this process's ring."""
    ring = ring_for(settings)
    return lambda key_hash, kind: ring.lookup(key_hash, kind, dt.datetime.now(dt.UTC))


async def write_project(settings: Settings, presented: str | None) -> int:
    """auth.project_for_write_key of a presented write key, for an event loop: a check that would
    wait for the key list (no list yet, or an unknown key when its reload is due, up to the
    reload's 2 s timeout with PostgreSQL down) runs on a worker thread, so a stream of wrong keys
    never stalls the requests the loop is serving; every other check answers from memory at once."""
    headers = {"X-Write-Key": presented} if presented else {}
    if presented and not auth.opens_default(presented, settings.write_key):
        if ring_for(settings).would_wait(auth.key_hash(presented)):
            return await asyncio.to_thread(auth.project_for_write_key, settings.write_key, headers, {}, lookup_for(settings))
    return auth.project_for_write_key(settings.write_key, headers, {}, lookup_for(settings))
