"""The Redis wing: the event stream, dedupe marks, rate-limit buckets and server facts. Each function takes its client."""
