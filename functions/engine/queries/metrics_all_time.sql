-- All retained events of a project, as of the last view refresh (user_engagement).
SELECT coalesce(sum(events), 0) AS events,
       count(*)                 AS users
FROM user_engagement
WHERE project_id = :project_id
