"""Who may call what: write keys, read keys and the task token, checked in every function.

Pure: takes headers, query arguments and a lookup(key_hash, kind) -> project id or None;
never a request object or a client. The configured ANALYTICS_WRITE_KEY / ANALYTICS_READ_KEY
open the default project without a lookup, so a deployment works before any key is stored.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Mapping

from engine.core import constants as c
from engine.core.apikeys import key_hash
from engine.core.errors import Forbidden, ServiceUnavailable, Unauthorized

Lookup = Callable[[bytes, str], "int | None"]

WRITE_KEY_HOW = "send the write key as X-Write-Key, as the HTTP Basic username, or as ?key="
READ_KEY_HOW = "send the read key as 'Authorization: Bearer KEY'"
ADMIN_KEY_HOW = "send an admin key as 'Authorization: Bearer KEY' (make rotate-key PROJECT=id KIND=admin makes one)"
TASK_TOKEN_HOW = "send the task token as 'Authorization: Bearer TOKEN'"  # noqa: S105 (a hint, not a secret)


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _basic_username(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def presented_write_key(headers: Mapping[str, str], args: Mapping[str, str]) -> str | None:
    return headers.get("X-Write-Key") or _basic_username(headers) or args.get("key") or None


def _same(presented: str | None, expected: str | None) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("utf-8"))


def opens_default(presented: str, configured: str | None) -> bool:
    """Whether a presented key is the configured one (compared in constant time): no lookup then."""
    return _same(presented, configured)


def _refuse(presented: str | None, what: str, how: str, bearer: bool) -> Unauthorized:
    headers = {"WWW-Authenticate": 'Bearer realm="analytics"'} if bearer else {}
    if not presented:
        return Unauthorized(f"missing {what}: {how}", headers=headers)
    return Unauthorized(f"invalid {what}", headers=headers)


def _project(presented: str | None, configured: str | None, kind: str, lookup: Lookup | None) -> int | None:
    if _same(presented, configured):
        return c.DEFAULT_PROJECT_ID
    if not presented or lookup is None:
        return None
    try:
        return lookup(key_hash(presented), kind)
    except Exception as exc:  # the key store cannot answer: never a 401 for a key that may be valid
        raise ServiceUnavailable(
            "keys cannot be checked right now; retry later", headers={"Retry-After": str(c.RETRY_AFTER_SECONDS)}
        ) from exc


def project_for_write_key(configured: str | None, headers: Mapping[str, str], args: Mapping[str, str], lookup: Lookup | None = None) -> int:
    """The project a write key opens, or Unauthorized."""
    presented = presented_write_key(headers, args)
    project = _project(presented, configured, "write", lookup)
    if project is not None:
        return project
    raise _refuse(presented, "write key", WRITE_KEY_HOW, bearer=False)


def project_for_read_key(configured: str | None, headers: Mapping[str, str], lookup: Lookup | None = None) -> int:
    """The project a read key opens (metrics are scoped to it), or Unauthorized."""
    presented = _bearer(headers)
    project = _project(presented, configured, "read", lookup)
    if project is not None:
        return project
    raise _refuse(presented, "read key", READ_KEY_HOW, bearer=True)


# lookup(key_hash) -> (key id, project id, kind) of a valid stored key, or None.
GrantLookup = Callable[[bytes], "tuple[int, int, str] | None"]


def admin_grant(configured: tuple[str | None, ...], headers: Mapping[str, str], lookup: GrantLookup) -> tuple[int, int]:
    """(key id, project id) of the admin key presented; 401 for none or an unknown key, 403 for
    a valid key of another kind (the configured write and read keys included)."""
    presented = _bearer(headers)
    if not presented:
        raise _refuse(presented, "admin key", ADMIN_KEY_HOW, bearer=True)
    if any(_same(presented, key) for key in configured):
        raise Forbidden("this key may not erase: erasing takes an admin key", {"kind_required": "admin"})
    try:
        grant = lookup(key_hash(presented))
    except Exception as exc:
        raise ServiceUnavailable(
            "keys cannot be checked right now; retry later", headers={"Retry-After": str(c.RETRY_AFTER_SECONDS)}
        ) from exc
    if grant is None:
        raise _refuse(presented, "admin key", ADMIN_KEY_HOW, bearer=True)
    key_id, project_id, kind = grant
    if kind != "admin":
        raise Forbidden(f"a {kind} key may not erase: erasing takes an admin key", {"kind_required": "admin"})
    return key_id, project_id


def require_task_token(configured: str | None, headers: Mapping[str, str]) -> None:
    presented = _bearer(headers)
    if not _same(presented, configured):
        raise _refuse(presented, "task token", TASK_TOKEN_HOW, bearer=True)
