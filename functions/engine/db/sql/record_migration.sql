-- A migration applied (in the transaction that applied it).
INSERT INTO schema_migrations (version, name, checksum) VALUES (:version, :name, :checksum)
