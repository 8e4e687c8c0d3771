-- Most used elements over all retained events, as of the last view refresh.
SELECT element, events
FROM element_rankings
WHERE project_id = :project_id
ORDER BY events DESC, element COLLATE "C"
LIMIT :limit
