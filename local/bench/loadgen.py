"""The built-in load generator, for machines without wrk: processes of keep-alive sockets on a selector.

Closed loop like wrk: each connection sends its next request when the previous answer is
complete. Its own ceiling is measured against local.bench.trivial and shown in the table.
"""

from __future__ import annotations

import multiprocessing
import os
import selectors
import socket
import time
from array import array
from concurrent.futures import ProcessPoolExecutor

from local.bench import stats
from local.bench.load import Load, LoadResult

RECV_BYTES = 1 << 18


def response_end(buffer: bytes | bytearray) -> tuple[int, int] | None:
    """(status, length of the first complete response in buffer), or None while it is incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    length = 0
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)].strip())
    total = end + 4 + length
    return (status, total) if len(buffer) >= total else None


class Connection:
    """One keep-alive connection: the request in flight, when it went, and what came back so far."""

    def __init__(self, host: str, port: int, offset: int):
        self.address = (host, port)
        self.next = offset
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.sock = self.open()

    def open(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def received(self, data: bytes) -> int | None:
        """Keep what arrived; the status of the answer it completes (and drop that answer), or None."""
        self.buffer += data
        done = response_end(self.buffer)
        if done is None:
            return None
        status, length = done
        del self.buffer[:length]
        return status

    def send(self, requests: list[bytes]) -> None:
        self.sent_at = time.perf_counter()
        self.sock.sendall(requests[self.next % len(requests)])
        self.next += 1


def worker(host: str, port: int, requests: list[bytes], connections: int, seconds: float, offset: int) -> tuple[int, int, bytes]:
    """Run `connections` connections for `seconds`; (answered, errors, latencies in ms as array('d') bytes)."""
    selector = selectors.DefaultSelector()
    latencies = array("d")
    answered = errors = 0
    conns = [Connection(host, port, offset + i) for i in range(connections)]
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.send(requests)
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        for key, _ in selector.select(timeout=left):
            conn = key.data
            try:
                data = conn.sock.recv(RECV_BYTES)
            except OSError:
                data = b""
            if not data:  # the server closed it: count the request lost, reconnect
                errors += 1
                selector.unregister(conn.sock)
                conn.sock.close()
                conn.buffer.clear()
                conn.sock = conn.open()
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                conn.send(requests)
                continue
            status = conn.received(data)
            if status is None:
                continue
            answered += 1
            if status >= 400:
                errors += 1
            latencies.append((time.perf_counter() - conn.sent_at) * 1000)
            conn.send(requests)
    for conn in conns:
        conn.sock.close()
    return answered, errors, latencies.tobytes()


def run(load: Load, processes: int | None = None) -> LoadResult:
    processes = max(1, min(processes or min(os.cpu_count() or 1, 2), load.connections))
    requests = load.requests()
    shares = [load.connections // processes + (1 if i < load.connections % processes else 0) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        started = time.perf_counter()
        futures = [
            pool.submit(worker, load.host, load.port, requests, share, load.seconds, i * 1000) for i, share in enumerate(shares) if share
        ]
        results = [f.result(timeout=load.seconds + 60) for f in futures]
        elapsed = time.perf_counter() - started
    # Each worker measures exactly load.seconds; process start-up is not load time.
    return result_of("builtin", results, min(elapsed, float(load.seconds)))


def result_of(generator: str, results: list[tuple[int, int, bytes]], seconds: float) -> LoadResult:
    """One LoadResult of the workers' (answered, errors, latencies) triples."""
    latencies = array("d")
    for _, _, raw in results:
        latencies.frombytes(raw)
    summary = stats.summary(latencies)
    return LoadResult(
        generator=generator,
        requests=sum(r[0] for r in results),
        seconds=seconds,
        errors=sum(r[1] for r in results),
        latency_ms={k: summary[k] for k in ("p50", "p90", "p99", "max")},
    )
