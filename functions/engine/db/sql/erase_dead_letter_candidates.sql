-- Dead letters whose payload contains this byte string (an id as JSON writes it); the caller
-- decodes each to check its project and fields.
SELECT id, payload FROM dead_letters WHERE position(CAST(:needle AS bytea) IN payload) > 0
