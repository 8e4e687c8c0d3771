"""An open-loop load: requests sent on a fixed schedule (rate per second), whatever the answers do.

A closed-loop load (wrk, loadgen.py) measures a server at its limit; latency at a given rate
needs the schedule instead, and each latency counted from when its request was due, not from
when a free connection sent it, so that a stall shows as the wait of every request it delayed
(the correction wrk2 makes). Processes of keep-alive sockets on a selector, like loadgen.py.
"""

from __future__ import annotations

import multiprocessing
import os
import selectors
import time
from array import array
from collections import deque
from concurrent.futures import ProcessPoolExecutor

from local.bench.load import Load, LoadResult
from local.bench.loadgen import RECV_BYTES, Connection, result_of

# After the last request is due, how long its answers may take before the rest count as errors.
GRACE_SECONDS = 10.0


def worker(host: str, port: int, requests: list[bytes], connections: int, seconds: float, rate: float, offset: int):
    """Send `rate` requests/s for `seconds` over up to `connections` connections; (answered, errors, latencies bytes)."""
    selector = selectors.DefaultSelector()
    conns = [Connection(host, port, offset + i) for i in range(connections)]
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
    idle, due_at = deque(conns), {}
    latencies, answered, errors, sent = array("d"), 0, 0, 0
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    while answered < total:
        now = time.perf_counter()
        if now > start + seconds + GRACE_SECONDS:
            errors += total - answered
            break
        while idle and sent < total and start + sent / rate <= now:
            conn = idle.popleft()
            due_at[conn] = start + sent / rate
            conn.send(requests)
            sent += 1
        wait = start + sent / rate - now if idle and sent < total else 0.5
        for key, _ in selector.select(timeout=max(0.0, wait)):
            conn = key.data
            data = conn.sock.recv(RECV_BYTES)
            if not data:
                raise ConnectionError("the server closed a connection of the paced load")
            status = conn.received(data)
            if status is None:
                continue
            answered += 1
            errors += status >= 400
            latencies.append((time.perf_counter() - due_at.pop(conn)) * 1000)
            idle.append(conn)
    for conn in conns:
        conn.sock.close()
    return answered, errors, latencies.tobytes()


def run(load: Load, rate: float, processes: int | None = None) -> LoadResult:
    """The load at `rate` requests/s in total, shared by the processes; latencies from each request's due time."""
    processes = max(1, min(processes or min(os.cpu_count() or 1, 2), load.connections))
    requests = load.requests()
    share = max(1, load.connections // processes)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [
            pool.submit(worker, load.host, load.port, requests, share, load.seconds, rate / processes, i * 1000) for i in range(processes)
        ]
        results = [f.result(timeout=load.seconds + GRACE_SECONDS + 60) for f in futures]
    return result_of("paced", results, float(load.seconds))
