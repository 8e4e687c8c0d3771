"""Pure: which address a request came from, trusting only the proxies we were told about."""

from __future__ import annotations

import ipaddress


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """The client's address: the entry the outermost of `trusted_hops` proxies added to
    X-Forwarded-For (entries further left are the client's own words and can be forged),
    or the peer's address when there is no trusted proxy or no header."""
    remote = (remote_addr or "").strip() or "unknown"
    if trusted_hops <= 0 or not forwarded_for:
        return remote
    entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not entries:
        return remote
    candidate = entries[-trusted_hops] if len(entries) >= trusted_hops else entries[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
