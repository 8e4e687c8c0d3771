-- Idempotent load: an id already in event_ids (a resend, or a batch replayed after a crash
-- between commit and acknowledge) inserts nothing. The drain sends each id at most once per
-- batch (a second copy follows the first's fate), so no sort is needed to pick one, and
-- IN lets the planner hash the fresh ids (a join on the CTEs, whose sizes it cannot know,
-- was planned as a merge join whose sorts spilled to disk on large batches).
-- The rows inserted, and only they, go on to rollup_batch for the rollups (rollup_apply_*.sql),
-- in the same transaction.
-- Text goes into varchar columns by assignment, which refuses a value that is too long
-- (an explicit cast to varchar(n) would cut it silently).
WITH staged AS MATERIALIZED (
    SELECT stream_id,
           CAST(entry->>'event_id' AS uuid)                  AS event_id,
           CAST(entry->>'project_id' AS integer)             AS project_id,
           entry->>'user_id'                                 AS user_id,
           entry->>'action'                                  AS action,
           entry->>'element'                                 AS element,
           CAST(entry->>'duration' AS double precision)      AS duration,
           CAST(entry->>'timestamp' AS timestamptz)          AS "timestamp",
           CAST(entry->>'client_timestamp' AS timestamptz)   AS client_timestamp,
           CAST(entry->>'sent_at' AS timestamptz)            AS sent_at,
           CAST(entry->>'received_at' AS timestamptz)        AS received_at,
           entry->>'session_id'                              AS session_id,
           nullif(entry->'properties', 'null')               AS properties,
           entry->>'request_id'                              AS request_id,
           entry->>'anonymous_id'                            AS anonymous_id,
           nullif(entry->'context', 'null')                  AS context,
           nullif(entry->'envelope', 'null')                 AS envelope
    FROM drain_raw
),
fresh AS (
    INSERT INTO event_ids (event_id, received_at)
    SELECT event_id, received_at
    FROM staged
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
),
inserted AS (
INSERT INTO events (event_id, project_id, user_id, action, element, duration, "timestamp",
                    client_timestamp, sent_at, received_at, session_id, properties, request_id,
                    anonymous_id, context, envelope)
SELECT s.event_id, s.project_id, s.user_id, s.action, s.element, s.duration, s."timestamp",
       s.client_timestamp, s.sent_at, s.received_at, s.session_id, s.properties, s.request_id,
       s.anonymous_id, s.context, s.envelope
FROM staged s
WHERE s.event_id IN (SELECT event_id FROM fresh)
RETURNING project_id, user_id, action, element, duration, "timestamp", session_id
)
INSERT INTO rollup_batch (project_id, user_id, action, element, duration, "timestamp", session_id)
SELECT project_id, user_id, action, element, duration, "timestamp", session_id FROM inserted
