"""The compose stack on a real Docker engine: `make up` from a clean clone, then faults, backup and restore."""
