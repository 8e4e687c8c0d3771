"""Pure key handling: making keys, and the hash under which a key is stored and looked up."""

from __future__ import annotations

import hashlib
import secrets

KINDS = ("write", "read", "admin")
# The kinds `make key` creates with a project; an admin key (erasure) is made on purpose only.
PROJECT_KINDS = ("write", "read")
PREFIXES = {"write": "wk_", "read": "rk_", "admin": "ak_"}
SHOWN_CHARS = 8


def new_key(kind: str) -> str:
    """A new random key (32 bytes of entropy), prefixed with its kind so a leak is recognisable."""
    return PREFIXES[kind] + secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes:
    """SHA-256 of the key: what is stored and compared; the key itself is never kept."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def shown(key: str) -> str:
    """The first characters of a key, enough to tell keys apart in listings and logs."""
    return key[:SHOWN_CHARS]
