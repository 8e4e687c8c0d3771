"""The PostgreSQL wing: connections and transactions, the named queries (SQL in sql/), migrations."""
