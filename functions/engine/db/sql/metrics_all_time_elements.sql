-- Most used elements over all events ever stored, as of the drain's last commit.
SELECT element, events
FROM rollup_elements
WHERE project_id = :project_id
ORDER BY events DESC, element COLLATE "C"
LIMIT :limit
