"""An HTTP load and its result, whichever generator drives it (wrk, or the built-in one)."""

from __future__ import annotations

import dataclasses
import shutil
from urllib.parse import urlsplit

WRK_HOW_TO_GET = (
    "wrk is not installed; the built-in generator is used instead (its ceiling is in the table). "
    "For the reference figures install wrk: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)"
)


@dataclasses.dataclass(frozen=True)
class Load:
    """Closed-loop HTTP load: `connections` keep-alive connections, each sending the next request on each answer."""

    url: str
    method: str = "GET"
    bodies: tuple[bytes, ...] = ()  # cycled through; empty: no body
    headers: tuple[tuple[str, str], ...] = ()
    connections: int = 32
    seconds: int = 10
    threads: int = 2

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def requests(self) -> list[bytes]:
        """The raw HTTP/1.1 requests to cycle through."""
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in self.headers]
        if not self.bodies:
            return ["\r\n".join([*head, "", ""]).encode()]
        return ["\r\n".join([*head, f"Content-Length: {len(body)}", "", ""]).encode() + body for body in self.bodies]


@dataclasses.dataclass
class LoadResult:
    """What a load achieved: requests answered 2xx/3xx, errors, and latency in milliseconds."""

    generator: str
    requests: int
    seconds: float
    errors: int
    latency_ms: dict[str, float | None]

    @property
    def rps(self) -> float:
        ok = self.requests - self.errors
        return ok / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "rps": round(self.rps, 1)}


def wrk_path() -> str | None:
    return shutil.which("wrk")
