"""Names, limits and defaults in one place, each with its unit in its name."""

# Redis key layout. Every key of one deployment shares the hash tag of its namespace,
# so the ingest script, which touches the stream and the dedupe keys, stays in one slot.
STREAM_SUFFIX = "events"
DEDUPE_SUFFIX = "seen"
STATE_SUFFIX = "state"
DRAIN_GROUP = "drain"

# The one field of a stream entry: the normalized event as JSON.
ENTRY_FIELD = b"e"
# Version of the entry's JSON shape, written into each entry so a drain can read old ones.
ENTRY_VERSION = 1

DEFAULT_PROJECT_ID = 1

# Defaults of the tunables that config.py reads from the environment.
DEFAULT_HTTP_PORT = 8080
DEFAULT_DRAIN_BATCH_SIZE = 2000
# Short enough that a drain in flight when its process is told to stop finishes its
# invocation within the platform's grace period, so nothing is left pending.
DEFAULT_DRAIN_BUDGET_SECONDS = 5.0
DEFAULT_DRAIN_RECLAIM_IDLE_MS = 30_000
DEFAULT_DRAIN_MAX_DELIVERIES = 5
# How long a client event_id is remembered at ingest (README, Redis memory model): an hour
# covers the SDKs' retry chains (minutes) and a page's beacon; a later resend still makes no
# second row (PostgreSQL's unique event id), it is only answered "accepted".
DEFAULT_DEDUPE_WINDOW_SECONDS = 3600
DEFAULT_RETENTION_DAYS = 0  # 0 keeps events forever
# The drain creates daily partitions for events up to this many days old; older events
# (backfills, a client's stale clock) go to events_default, so no input can mint a
# partition per arbitrary day.
PARTITION_DAYS_BACK = 62
DEFAULT_PARTITION_DAYS_AHEAD = 7
DEFAULT_ACTIVE_WINDOW_SECONDS = 300
DEFAULT_TOP_ELEMENTS = 10
DEFAULT_DRAIN_INTERVAL_SECONDS = 1.0
DEFAULT_REFRESH_INTERVAL_SECONDS = 30.0
DEFAULT_PG_STATEMENT_TIMEOUT_MS = 30_000
DEFAULT_PG_REFRESH_TIMEOUT_MS = 600_000
DEFAULT_IO_TIMEOUT_SECONDS = 10.0
# Backpressure: ingest answers 503 + Retry-After past these, instead of letting Redis fill.
DEFAULT_MAX_BACKLOG = 2_000_000
DEFAULT_MAX_REDIS_MEMORY_RATIO = 0.85
# Every 503 (backpressure, a store down, keys not checkable) asks clients to retry after this.
RETRY_AFTER_SECONDS = 5
# Group commit (buffer/groupcommit.py): at most this many events in one append script call,
# so that one call (and the requests waiting behind it) stays a few milliseconds long.
GROUP_COMMIT_MAX_EVENTS = 2_000
# How often a process re-reads Redis's memory and persistence settings.
REDIS_FACTS_TTL_SECONDS = 1.0
# Durability modes (ANALYTICS_DURABILITY): "everysec" trusts the server's AOF policy (up to
# about 1 s of acknowledged events can be lost in a Redis crash); "strict" answers 202 only
# once the event is fsynced: WAITAOF on Redis >= 7.2, else it requires appendfsync always.
DURABILITY_MODES = ("everysec", "strict")
WAITAOF_TIMEOUT_MS = 2000
# Rate limits: token buckets in Redis, refilled at the limit (events per second) up to
# RATE_BURST_SECONDS worth of events; 0 turns a limit off.
DEFAULT_KEY_RATE_LIMIT = 2000  # events/s per write key
DEFAULT_IP_RATE_LIMIT = 1000  # events/s per client address
RATE_BURST_SECONDS = 2.0
RATE_SUFFIX = "rate"
SALT_SUFFIX = "salt"
# Sharded streams (README, Scaling out): at most this many shards; a drain's lease on a shard
# lasts twice its budget plus this margin, renewed before each batch.
MAX_STREAM_SHARDS = 1024
LEASE_SUFFIX = "lease"
SHARD_LEASE_MARGIN_MS = 5000
# An erasure holds every shard's lease while it runs (engine/erase.py): for at most this long
# should its process die, and it waits at most ERASURE_WAIT_SECONDS for running drains to end.
ERASURE_LEASE_MS = 300_000
ERASURE_WAIT_SECONDS = 30.0
ERASURE_STATEMENT_TIMEOUT_MS = 120_000
# With replicas, a 202 waits (WAIT 1) this long for one of them to hold the append.
REPLICA_WAIT_TIMEOUT_MS = 2000
# Client addresses are never stored: rate-limit buckets are keyed by an HMAC of the
# address under a random salt that Redis forgets after SALT_KEEP_SECONDS (a new one a day).
SALT_KEEP_SECONDS = 2 * 86_400

# Dedupe marks (engine/buffer/dedupe.py): time buckets of window / BUCKETS_PER_WINDOW, each spread
# over shard hashes (a power of two of them) filled to DEDUPE_SHARD_FILL of the server's
# hash-max-listpack-entries (ASSUMED_… when CONFIG is refused), so they stay listpacks.
DEDUPE_BUCKETS_PER_WINDOW = 1
DEDUPE_MIN_SHARDS = 1024
DEDUPE_MAX_SHARDS = 1_048_576
DEDUPE_SHARD_FILL = 0.5
# Each bucket's pre-check bitmap: a power of two of bits, at least BITS_PER_MARK for every mark
# the bucket before it held, within MIN..MAX (2**28 bits: 32 MB, 4 bits for 67 M marks); a
# bucket after one with no marks gets none (every lookup in it reads its shards).
DEDUPE_BITMAP_BITS_PER_MARK = 2
DEDUPE_BITMAP_MIN_BITS = 1024
DEDUPE_BITMAP_MAX_BITS = 2**28
ASSUMED_HASH_LISTPACK_ENTRIES = 128
# Shard hashes have no expiry of their own: calls that make marks unlink those of the buckets past the
# window (listed in the hash Keys.seen:gc), at most this many shard names a call, in one UNLINK (so a bucket
# of many shards is deleted over many calls, about 1 ms each, not in one long one; Lua's unpack takes 8,000).
DEDUPE_UNLINK_NAMES_A_CALL = 1024
# Redis bytes per remembered id, measured (tests/integration/test_dedupe.py asserts
# it; make bench re-measures it): the constant of the README's memory model.
DEDUPE_BYTES_PER_MARK = 24
# /healthz warns when Redis's used_memory passes this share of the refusal ratio.
MEMORY_WARN_FRACTION = 0.8

# Ops counters (HINCRBY in one Redis hash, so every process and instance adds to the same).
COUNTERS_SUFFIX = "counters"

# Input limits (README, Security). Body sizes count the decompressed bytes.
MAX_EVENT_BYTES = 32 * 1024  # one event, as compact JSON (Segment's limit)
MAX_PROPERTIES_DEPTH = 5  # objects and arrays nested inside properties
MAX_PROPERTIES_KEYS = 100  # keys in any one object inside properties
MAX_PROPERTY_KEY_CHARS = 200
MAX_USER_ID_CHARS = 255
MAX_ACTION_CHARS = 255  # Segment's event names; the seed's varchar(50) was widened in 007
MAX_ELEMENT_CHARS = 100
MAX_SESSION_ID_CHARS = 255
MAX_DURATION_SECONDS = 86_400.0
MAX_BODY_BYTES = 512 * 1024
# The edge's bounds on a client connection (README, "Slow and idle clients").
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0  # from connecting (or the first byte of a next request) to its last header
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0  # from the last header to the last byte of the body (512 KiB at 140 kbit/s)
DEFAULT_IDLE_TIMEOUT_SECONDS = 5.0  # a keep-alive connection with no request after an answer
DEFAULT_MAX_CONNECTIONS = 4096  # open connections per server process; more are closed at once
MAX_BATCH_EVENTS = 500
MAX_JSON_DEPTH = 32
# Integers outside the signed 64-bit range cannot round-trip through orjson or jsonb casts.
MIN_JSON_INT = -(2**63)
MAX_JSON_INT = 2**63 - 1

# PostgreSQL advisory lock keys (arbitrary constants, unique within this schema's users).
LOCK_MIGRATE = 7_301_001
LOCK_REFRESH = 7_301_002
LOCK_PARTITIONS = 7_301_003
# Shared by each drain transaction, exclusive by a backfill chunk (sql/009_rollups.sql).
LOCK_ROLLUP_BACKFILL = 7_301_004

# view-refresh deletes task_runs rows older than this.
TASK_RUNS_KEEP_DAYS = 14

# Rows of the per-minute rollup tables are deleted after this many days; 0 keeps them, so by
# default they outlive the raw events they were counted from (the all-time rollups are never deleted).
DEFAULT_ROLLUP_RETENTION_DAYS = 0
DEFAULT_SESSION_GAP_SECONDS = 1800  # events of a person without session_id further apart start a new session
# A backfill chunk counts about this many events while drains wait on its lock.
BACKFILL_CHUNK_EVENTS = 50_000
