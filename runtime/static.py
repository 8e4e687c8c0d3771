"""static/ as the gateway serves it: gzip for text when the client accepts it, compressed once per file version.

A file is read and hashed when first asked for, and again only when its size or modification
time changes; a text file (HTML, JS, CSS, JSON, SVG, Markdown, plain text) of at least
MIN_GZIP_BYTES is gzipped once (level 9) at that moment and the bytes are kept in memory.
Every answer for a compressible file says `Vary: Accept-Encoding`; its ETag is the sha256 of
the bytes sent, so the identity and gzip forms never share one. `If-None-Match` gets a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

MIN_GZIP_BYTES = 256
CACHE_SECONDS = 60
COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml"}
COMPRESSIBLE_PREFIXES = ("text/",)


@dataclass(frozen=True)
class Version:
    """One file as it was when read: its type, bytes and ETag, and its gzip form (None if not worth it)."""

    stamp: tuple[int, int]
    mimetype: str
    data: bytes
    etag: str
    gzipped: bytes | None
    gzip_etag: str | None


def _etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def compressible(mimetype: str) -> bool:
    return mimetype in COMPRESSIBLE or mimetype.startswith(COMPRESSIBLE_PREFIXES)


def accepts_gzip(request: Request) -> bool:
    """True when Accept-Encoding names gzip (or *) with a quality above zero."""
    return request.accept_encodings["gzip"] > 0


class StaticFiles:
    """GET and HEAD of the files under root ("/" is index.html); anything else goes to `fallback`."""

    def __init__(self, root: Path, fallback):
        self.root = Path(root)
        self.fallback = fallback
        self._versions: dict[str, Version] = {}
        self._lock = threading.Lock()

    def _file(self, path: str) -> Path | None:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        joined = safe_join(str(self.root), relative)
        if joined is None:
            return None
        found = Path(joined)
        return found if found.is_file() else None

    def version(self, file: Path) -> Version:
        """The cached version of file, read (and compressed) again only when it changed on disk."""
        status = file.stat()
        stamp = (status.st_size, status.st_mtime_ns)
        key = str(file)
        with self._lock:
            known = self._versions.get(key)
        if known is not None and known.stamp == stamp:
            return known
        data = file.read_bytes()
        mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        gzipped = None
        if compressible(mimetype) and len(data) >= MIN_GZIP_BYTES:
            packed = gzip.compress(data, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(data) else None
        made = Version(stamp, mimetype, data, _etag(data), gzipped, _etag(gzipped) if gzipped else None)
        with self._lock:
            self._versions[key] = made
        return made

    def __call__(self, environ, start_response):
        request = Request(environ)
        file = self._file(request.path) if request.method in ("GET", "HEAD") else None
        if file is None:
            return self.fallback(environ, start_response)
        return self.answer(request, self.version(file))(environ, start_response)

    def answer(self, request: Request, version: Version) -> Response:
        packed = version.gzipped is not None and accepts_gzip(request)
        body, etag = (version.gzipped, version.gzip_etag) if packed else (version.data, version.etag)
        headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}", "ETag": f'"{etag}"'}
        if compressible(version.mimetype):
            headers["Vary"] = "Accept-Encoding"
        if packed:
            headers["Content-Encoding"] = "gzip"
        if etag in request.if_none_match:
            return Response(status=304, headers=headers)
        response = Response(body, mimetype=version.mimetype, headers=headers)
        response.headers["Content-Length"] = str(len(body))
        return response
