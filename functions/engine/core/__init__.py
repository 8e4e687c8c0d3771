"""The pure core: rules and shapes of events and metrics. Imports no I/O library and nothing outside engine.core."""
