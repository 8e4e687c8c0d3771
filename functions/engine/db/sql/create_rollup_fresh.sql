-- What a batch saw for the first time: 's' a (user, session), 'e' a (user, element), 'u' a
-- user id. The counters of distinct ids add these.
CREATE TEMP TABLE IF NOT EXISTS rollup_fresh (
    kind char(1) NOT NULL,
    project_id integer NOT NULL,
    user_id varchar(255),
    element varchar(100)
) ON COMMIT DELETE ROWS
