"""Pure rules of erasing a person: which stream entries and dead letters are theirs, and the
salted hashes that record an erasure without the erased ids in clear.

The salt is per record (16 random bytes stored beside the hashes), not per deployment: there is
no secret to configure, keep or lose, a record stays checkable on any restored copy of the
database, and two records of the same id share no hash, so records cannot be linked to each
other. The price: whoever can read the table and guesses an id can check it against a record,
which is what an operator needs after a restore (README, "Erasing a person").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

import orjson

from engine.core import constants as c
from engine.core import copyfmt

SALT_BYTES = 16
MAX_USER_ID_CHARS = 255  # events.user_id is varchar(255)
# The kinds of rows an erasure counts, in the order its answer and its record list them.
COUNT_KINDS = (
    "events",
    "users",
    "identity_links",
    "group_members",
    "dead_letters",
    "stream_entries",
    "rollup_rows_deleted",
    "rollup_rows_updated",
)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def subject_hash(salt: bytes, project_id: int, user_id: str) -> bytes:
    """HMAC-SHA-256 of "project_id NUL user_id" under the record's salt."""
    message = f"{project_id}\x00{user_id}".encode("utf-8", "surrogatepass")
    return hmac.new(salt, message, hashlib.sha256).digest()


def was_erased(salt: bytes, hashes: Iterable[bytes], project_id: int, user_id: str) -> bool:
    """Whether a record (its salt and hashes) covers this id of this project."""
    mine = subject_hash(salt, project_id, user_id)
    return any(hmac.compare_digest(mine, bytes(h)) for h in hashes)


def entry_ids(event: dict) -> set[str]:
    """Every person id a decoded stream entry names: its user, anonymous id and links."""
    found = {event.get("user_id"), event.get("anonymous_id")}
    for link in event.get("links") or []:
        found.update(link if isinstance(link, list | tuple) else ())
    return {i for i in found if isinstance(i, str)}


def decode_payload(payload: bytes) -> dict | None:
    """A stream entry's JSON (as the stream and dead letters keep it), or None if unreadable."""
    try:
        return copyfmt.decode_entry({c.ENTRY_FIELD: payload})
    except copyfmt.EntryError:
        return None


def belongs(event: dict | None, project_id: int, ids: set[str]) -> bool:
    """Whether a decoded entry is of this project and names one of the ids."""
    return event is not None and event.get("project_id") == project_id and bool(entry_ids(event) & ids)


def linked_ids(events: Iterable[dict | None], project_id: int, ids: set[str]) -> set[str]:
    """ids grown by the links that entries of this project carry (an identify or alias still in
    the stream links ids no table knows yet), until no entry adds one."""
    links = [
        set(link)
        for event in events
        if event is not None and event.get("project_id") == project_id
        for link in event.get("links") or []
        if isinstance(link, list | tuple)
    ]
    grown = set(ids)
    changed = True
    while changed:
        changed = False
        for link in links:
            if link & grown and not link <= grown:
                grown |= link
                changed = True
    return grown


def needles(ids: Iterable[str]) -> list[bytes]:
    """Each id as it appears inside a JSON payload (escaped, without its quotes): what a dead
    letter naming it must contain."""
    return [orjson.dumps(i)[1:-1] for i in sorted(ids)]


def payload_belongs(payload: bytes, project_id: int, ids: set[str]) -> bool:
    """A dead letter's payload: of this project and naming one of the ids; one that cannot be
    decoded (so cannot tell its project) but contains an id is erased too, since it can never
    load and may name the person."""
    event = decode_payload(payload)
    if event is None:
        return any(n in payload for n in needles(ids))
    return belongs(event, project_id, ids)


def check_user_id(user_id: str) -> str | None:
    """Why a user id from the path cannot be one (None when it can)."""
    if not user_id:
        return "user_id is empty"
    if len(user_id) > MAX_USER_ID_CHARS:
        return f"user_id is longer than {MAX_USER_ID_CHARS} characters"
    if "\x00" in user_id:
        return "user_id contains a NUL character"
    return None


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KINDS, 0)
