"""The widget's static files: content-hashed URLs cached for a year, gzip made once at start, ETags."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

# Addresses that sites and e-mails hold on to: they keep their name and are revalidated, and they
# point at the hashed names of everything else (so a new release is picked up at once).
ENTRIES = {
    "widget.js": "public, max-age=300",  # the embed tag's src: short, so a release reaches sites soon
    "panel.html": "no-cache",  # the iframe and the links in e-mails
    "demo.html": "no-cache",
}
HASHED = "public, max-age=31536000, immutable"
UNHASHED = "public, max-age=300"  # an old page asking for a plain name still gets the file
MIN_GZIP = 512  # smaller files grow or save nothing worth a header
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str
    cache: str


class Assets:
    """Every file of one directory, read once; `url(name)` is the address pages should use."""

    def __init__(self, directory: Path, prefix: str = "/widget/") -> None:
        self.prefix = prefix
        files = {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}
        self.urls: dict[str, str] = {}
        self.files: dict[str, Asset] = {}
        for name, body in files.items():
            if name in ENTRIES:
                continue
            digest = hashlib.sha256(body).hexdigest()[:12]
            stem, dot, ext = name.rpartition(".")
            hashed = f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"
            self.urls[name] = prefix + hashed
            self.files[hashed] = _asset(name, body, HASHED)
            self.files[name] = _asset(name, body, UNHASHED)
        for name, cache in ENTRIES.items():
            if name in files:
                self.files[name] = _asset(name, self._rewrite(files[name]), cache)

    def url(self, name: str) -> str:
        return self.urls.get(name, self.prefix + name)

    def _rewrite(self, body: bytes) -> bytes:
        # Only exact references to our own files change: "/widget/panel.css" -> "/widget/panel.<hash>.css".
        for name, url in self.urls.items():
            body = body.replace(f'"{self.prefix}{name}"'.encode(), f'"{url}"'.encode())
        return body

    def response(self, request: Request, name: str) -> Response:
        asset = self.files.get(name)
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": asset.cache, "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if asset.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and _accepts_gzip(request.headers.get("accept-encoding", "")):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=asset.media_type)
        return Response(body, headers=headers, media_type=asset.media_type)

    async def serve(self, request: Request) -> Response:
        return self.response(request, request.path_params["name"])


def _asset(name: str, body: bytes, cache: str) -> Asset:
    suffix = Path(name).suffix
    media_type = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type == "text/html":
        media_type = "text/html; charset=utf-8"
    # mtime=0: the same bytes on every process and host, so their ETags agree behind a balancer.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= MIN_GZIP else None
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, gzipped, media_type, etag, cache)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
