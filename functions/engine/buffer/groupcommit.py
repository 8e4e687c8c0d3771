"""Group commit: the requests of one process that wait to append share one script call.

A Committer serves one stream shard on one event loop. A request hands it its group (its
items and its buckets) and waits. When no call is in flight the group goes at once; groups
that arrive while a call is in flight wait for the next call, which carries all of them (up
to GROUP_COMMIT_MAX_EVENTS). The append script decides each group on its own, in arrival
order, exactly as one call per request would (streams.py): each request gets its own rate
limit outcome, backlog check, duplicates and entry ids. A failure of the call itself (Redis
unreachable, a refused write, a wait that timed out) is the answer of every group it carried.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

import redis
import redis.asyncio

from engine.buffer import streams
from engine.core import constants as c


async def append_groups(client: redis.asyncio.Redis, call: streams.Call, groups: list[streams.Group]) -> list[streams.Outcome]:
    """streams.append_groups on an asyncio client: one round trip, the script loaded only when Redis lacks it."""
    for attempt in (1, 2):
        async with client.pipeline(transaction=False) as pipe:
            streams.queue_append(pipe, call, groups)
            try:
                return streams.read_outcomes(call, groups, await pipe.execute())
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
        await streams.load_script(client)
    raise AssertionError("unreachable")


class Committer:
    """The group commit of one stream shard on one event loop (see the module's docstring)."""

    def __init__(self, run: Callable[[list[streams.Group]], Awaitable[list[streams.Outcome]]]):
        self.run = run
        self.waiting: deque[tuple[streams.Group, asyncio.Future]] = deque()
        self.busy = False
        self.calls = 0  # script calls made, and the groups they carried: what group commit saves
        self.groups = 0

    async def append(self, group: streams.Group) -> list[bytes | None]:
        """Append one request's group with whatever else waits; its entry ids, or its refusal raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append((group, future))
        if not self.busy:
            self.busy = True
            loop.create_task(self.flush())
        return streams.settled(await future)

    def take(self) -> list[tuple[streams.Group, asyncio.Future]]:
        """The next call's groups: every waiting one, in arrival order, up to GROUP_COMMIT_MAX_EVENTS."""
        taken, events = [], 0
        while self.waiting and (not taken or events + len(self.waiting[0][0][0]) <= c.GROUP_COMMIT_MAX_EVENTS):
            taken.append(self.waiting.popleft())
            events += len(taken[-1][0][0])
        return taken

    async def flush(self) -> None:
        """Make calls until nothing waits; each group's future gets its own outcome."""
        taken: list[tuple[streams.Group, asyncio.Future]] = []
        try:
            while self.waiting:
                taken = self.take()
                self.calls, self.groups = self.calls + 1, self.groups + len(taken)
                try:
                    outcomes = await self.run([group for group, _ in taken])
                except Exception as exc:  # the call failed as a whole: so did each request it carried
                    outcomes = [exc] * len(taken)
                for (_, future), outcome in zip(taken, outcomes, strict=True):
                    if not future.done():  # a request whose client left is not answered
                        future.set_result(outcome)
                taken = []
        finally:
            self.busy = False
            for _, future in (*taken, *self.waiting):  # only when the loop itself cancels this task
                future.cancel()
            self.waiting.clear()
