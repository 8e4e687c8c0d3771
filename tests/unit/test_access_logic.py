"""Keys, the key ring, client addresses and rate-limit buckets: the pure parts."""

import asyncio
import datetime as dt
import threading
import time

import pytest

from engine import keyring
from engine.buffer import ratelimit
from engine.config import Settings
from engine.core import apikeys, auth, clientip
from engine.core.errors import ServiceUnavailable, Unauthorized
from engine.keyring import KeyRing, KeysUnavailable

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
S = Settings(write_key="w" * 16, read_key="r" * 16, task_token="t" * 16)


def test_keys_are_long_random_prefixed_and_hashed():
    keys = {apikeys.new_key("write") for _ in range(100)}
    assert len(keys) == 100 and all(k.startswith("wk_") and len(k) > 40 for k in keys)
    assert apikeys.new_key("read").startswith("rk_")
    key = apikeys.new_key("write")
    assert len(apikeys.key_hash(key)) == 32 and apikeys.key_hash(key) == apikeys.key_hash(key)
    assert apikeys.shown(key) == key[:8]


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def ring_with(rows, clock, calls):
    def load():
        calls.append(clock.t)
        if isinstance(rows, Exception):
            raise rows
        return list(rows)

    return KeyRing(load, clock)


def test_ring_finds_valid_keys_of_the_right_kind():
    clock, calls = Clock(), []
    h = apikeys.key_hash("wk_a")
    ring = ring_with([(h, 2, "write", None), (apikeys.key_hash("rk_old"), 3, "read", NOW - dt.timedelta(seconds=1))], clock, calls)
    assert ring.lookup(h, "write", NOW) == 2
    assert ring.lookup(h, "read", NOW) is None  # a write key never reads
    assert ring.lookup(apikeys.key_hash("rk_old"), "read", NOW) is None  # expired
    assert len(calls) == 1


def test_ring_reloads_on_schedule_and_rate_limits_miss_reloads():
    clock, calls = Clock(), []
    rows = [(apikeys.key_hash("wk_a"), 2, "write", None)]
    ring = ring_with(rows, clock, calls)
    ring.lookup(apikeys.key_hash("wk_a"), "write", NOW)
    for _ in range(50):  # a flood of wrong keys costs no query ...
        assert ring.lookup(apikeys.key_hash("nope"), "write", NOW) is None
    assert len(calls) == 1
    clock.t = 6.0  # ... until the miss-reload interval has passed
    rows.append((apikeys.key_hash("wk_new"), 4, "write", None))
    assert ring.lookup(apikeys.key_hash("wk_new"), "write", NOW) == 4
    assert len(calls) == 2
    clock.t = 40.0
    ring.lookup(apikeys.key_hash("wk_a"), "write", NOW)
    reloaded_within(calls, 3)


def reloaded_within(calls: list, count: int, seconds: float = 5.0) -> None:
    """The scheduled reload runs on a thread of its own: wait for it to have loaded `count` times."""
    deadline = time.monotonic() + seconds
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == count


def test_the_scheduled_reload_never_makes_a_lookup_wait_for_postgresql():
    clock, calls = Clock(), []
    rows = [(apikeys.key_hash("wk_a"), 2, "write", None)]
    release = threading.Event()

    def load():
        calls.append(clock.t)
        if len(calls) > 1:
            assert release.wait(10)  # PostgreSQL slow or down: this reload hangs until released
        return list(rows)

    ring = KeyRing(load, clock)
    assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) == 2
    clock.t = 40.0
    rows[:] = [(apikeys.key_hash("wk_b"), 3, "write", None)]
    started = time.monotonic()
    for _ in range(20):  # every lookup meanwhile answers at once from the ring it has
        assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) == 2
    assert time.monotonic() - started < 1.0
    reloaded_within(calls, 2)  # one reload started, not one per lookup
    release.set()
    deadline = time.monotonic() + 5
    while ring.lookup(apikeys.key_hash("wk_b"), "write", NOW) != 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ring.lookup(apikeys.key_hash("wk_b"), "write", NOW) == 3
    assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) is None
    assert len(calls) == 2


def test_an_unknown_write_key_waits_for_its_reload_on_a_thread_while_the_event_loop_answers_known_keys(monkeypatch):
    clock, calls = Clock(), []
    release = threading.Event()

    def load():
        calls.append(clock.t)
        if len(calls) > 1:
            assert release.wait(3)  # PostgreSQL slow or down: the unknown key's reload hangs until released
        return [(apikeys.key_hash("wk_a"), 2, "write", None)]

    ring = KeyRing(load, clock)
    monkeypatch.setitem(keyring._rings, S.database_url, ring)
    assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) == 2
    clock.t = 10.0  # an unknown key's reload is due, the scheduled one is not

    async def scenario():
        unknown = asyncio.create_task(keyring.write_project(S, "wk_unknown"))
        await asyncio.sleep(0.2)
        assert not unknown.done()  # its check waits for the reload, off the loop
        known = [await keyring.write_project(S, "wk_a") for _ in range(20)]
        configured = await keyring.write_project(S, S.write_key)
        release.set()
        with pytest.raises(Unauthorized):
            await unknown
        return known, configured

    known, configured = asyncio.run(scenario())
    assert known == [2] * 20 and configured == 1
    assert calls == [0.0, 10.0]  # one reload for the unknown key, none for the known or configured ones


def test_ring_keeps_the_last_list_when_a_reload_fails_and_says_so_when_it_has_none():
    clock, calls = Clock(), []
    empty = ring_with(ConnectionError("down"), clock, calls)
    with pytest.raises(KeysUnavailable):
        empty.lookup(apikeys.key_hash("wk_a"), "write", NOW)
    rows = [(apikeys.key_hash("wk_a"), 2, "write", None)]
    state = {"fail": False}

    def load():
        if state["fail"]:
            raise ConnectionError("down")
        return rows

    ring = KeyRing(load, clock)
    assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) == 2
    state["fail"] = True
    clock.t = 100.0
    assert ring.lookup(apikeys.key_hash("wk_a"), "write", NOW) == 2


def test_auth_uses_the_lookup_and_never_401s_when_keys_cannot_be_checked():
    lookups = []

    def lookup(key_hash, kind):
        lookups.append(kind)
        return 7 if key_hash == apikeys.key_hash("wk_other") else None

    assert auth.project_for_write_key(S.write_key, {"X-Write-Key": "wk_other"}, {}, lookup) == 7
    assert auth.project_for_write_key(S.write_key, {"X-Write-Key": "w" * 16}, {}, lookup) == 1  # configured: no lookup
    assert lookups == ["write"]
    with pytest.raises(Unauthorized):
        auth.project_for_read_key(S.read_key, {"Authorization": "Bearer rk_unknown"}, lookup)

    def broken(key_hash, kind):
        raise KeysUnavailable("down")

    with pytest.raises(ServiceUnavailable):
        auth.project_for_write_key(S.write_key, {"X-Write-Key": "wk_other"}, {}, broken)


@pytest.mark.parametrize(
    ("remote", "forwarded", "hops", "client"),
    [
        ("10.0.0.1", None, 1, "10.0.0.1"),
        ("127.0.0.1", "203.0.113.7", 1, "203.0.113.7"),
        ("127.0.0.1", "1.2.3.4, 203.0.113.7", 1, "203.0.113.7"),  # the client wrote 1.2.3.4 itself
        ("127.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7", 0, "127.0.0.1"),  # no trusted proxy: the header is ignored
        ("127.0.0.1", "not-an-address", 1, "127.0.0.1"),
        ("127.0.0.1", "2001:db8::1", 1, "2001:db8::1"),
        (None, None, 1, "unknown"),
    ],
)
def test_client_address(remote, forwarded, hops, client):
    assert clientip.client_address(remote, forwarded, hops) == client


def test_address_tags_depend_on_the_salt_and_hide_the_address():
    a, b = ratelimit.address_tag(b"salt-1", "203.0.113.7"), ratelimit.address_tag(b"salt-2", "203.0.113.7")
    assert a != b and len(a) == 24 and "203" not in a
    assert ratelimit.address_tag(b"salt-1", "203.0.113.7") == a


@pytest.mark.parametrize(("key_rate", "ip_rate", "largest"), [(0, 0, None), (100, 0, 200.0), (100, 30, 60.0), (0, 250, 500.0)])
def test_largest_request_is_the_smallest_burst(key_rate, ip_rate, largest):
    assert ratelimit.Buckets("k", key_rate, "i", ip_rate).largest_request() == largest
