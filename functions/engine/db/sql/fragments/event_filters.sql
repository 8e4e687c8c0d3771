-- The analytics filters over raw events (alias e), as one boolean expression that analytics
-- queries put where they say /* event filters */ (engine.db.analytics_filters). Different
-- filters are ANDed; the values of one filter are alternatives ("is any of"): one event has one
-- action, so action=a AND action=b would always be empty. An empty array is no filter.
-- user_id matches a person: the given id resolved through identity_links, and every event whose
-- id resolves to the same person. A property value is compared as text (properties ->> key).
-- No property filter ('{}') is a constant PostgreSQL folds away instead of a check of every event.
(cardinality(CAST(:actions AS text[])) = 0 OR e.action = ANY (CAST(:actions AS text[])))
AND (cardinality(CAST(:elements AS text[])) = 0 OR e.element = ANY (CAST(:elements AS text[])))
AND (cardinality(CAST(:user_ids AS text[])) = 0
     OR coalesce((SELECT l.person_id FROM identity_links l WHERE l.project_id = e.project_id AND l.alias_id = e.user_id), e.user_id)
        IN (SELECT coalesce((SELECT l.person_id FROM identity_links l WHERE l.project_id = :project_id AND l.alias_id = u.id), u.id)
            FROM unnest(CAST(:user_ids AS text[])) AS u (id)))
AND (CAST(:properties AS jsonb) = '{}' OR NOT EXISTS (
    SELECT 1 FROM jsonb_each(CAST(:properties AS jsonb)) AS f (key, wanted)
    WHERE (e.properties ->> f.key) IS NULL
       OR (e.properties ->> f.key) NOT IN (SELECT jsonb_array_elements_text(f.wanted))))
