"""A trivial HTTP server (asyncio, one process per core): the load generator's ceiling is measured on it.

python -m local.bench.trivial PORT [PROCESSES]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class Answer(asyncio.Protocol):
    """Answers every complete request on a keep-alive connection with the same 200."""

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            total = end + 4 + content_length(self.buffer[:end])
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            self.transport.write(ANSWER)


def serve(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)

    async def main():
        server = await asyncio.get_running_loop().create_server(Answer, sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main(argv: list[str]) -> int:
    port = int(argv[0])
    processes = int(argv[1]) if len(argv) > 1 else os.cpu_count() or 1
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            serve(port)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
