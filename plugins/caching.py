"""HTTP caching and compression: what a browser, nginx or a CDN may keep, for how long, and how it travels.

The public site is read-only (an immutable database), uses no cookie and shows no
per-request value on its pages, so one copy of an answer is right for every visitor.
This ASGI wrapper, the outermost of the project's, says so on every answer:

Public site (``GET`` and ``HEAD``):

* a 200 is ``Cache-Control: public, max-age=60`` (``PAGE``: the ``default_cache_ttl``
  setting, which Datasette's ``_ttl`` parameter no longer changes), or a year
  ``immutable`` for versioned static files (``?v=`` + hash, or a hashed file name such as
  datasette-vega's ``main.1a2b3c4d.js``) and a day for other static files;
* every 200 carries the same weak ``ETag`` (``W/"<data>-<code>"``), computed once at
  startup from the database file's SHA-256 and a fingerprint of what renders it: our
  plugins and the ``ciso`` package, templates and static files (ours and those installed
  plugins carry), metadata, settings and the versions of Datasette, its plugins, SQLite
  and Python.
  Every replica of the same release therefore sends the same ETag, and a rebuilt
  database or a new release changes it. It is weak because Datasette's JSON carries a
  per-request ``query_ms``: answers are equivalent, not byte-identical (HTML pages are
  byte-identical);
* text answers (HTML, JSON, CSV, CSS, JavaScript, SVG…) of 500 bytes or more are gzipped
  for clients that send ``Accept-Encoding: gzip`` (asgi-gzip, Starlette's middleware, writing
  through ISA-L at ``COMPRESSION_LEVEL``: a 160 KB table page shrinks to 18 KB for 0.2 ms), streamed CSV
  included; every such answer, compressed or not, says ``Vary: Accept-Encoding``, and a
  compressed one carries its own validator, the ETag with ``-gz`` (``W/"<data>-<code>-gz"``),
  as Apache does, so no cache mistakes one encoding for the other;
* a request whose ``If-None-Match`` holds that ETag (with or without ``-gz``: the client
  keeps the copy it has) gets a ``304`` with the ETag of that copy, the same Cache-Control
  and no body, before any page is computed;
* redirects are cached like pages; 404, 405 and 410 for ``ERROR_TTL`` seconds only;
  any other error (a 400 may be a query that ran out of time under load, a 503 a
  database refused by staff_guard) is ``no-store``, as is any answer that sets a cookie
  or that its view marks ``no-store`` (the health check, /-/sante);
* incoming ``Cookie`` headers are dropped before Datasette sees them, and ``Cookie`` and
  ``Authorization`` are removed from Datasette's ``Vary``: no answer depends on them, so
  a shared cache keeps one copy instead of one per visitor.
* data answers (database, JSON, CSV, downloads, feeds, catalogue) say that other sites may read
  them (CORS headers of ``ciso.cors``, on their 304s too).

Staff site (``ciso serve --interne``): every answer, static files and errors included, is
``Cache-Control: private, no-store`` with no ETag, no CORS header, and none is compressed: its
pages hold a CSRF token and echo the visitor's input, which gzip over TLS would expose (BREACH).

A mutable database (``datasette serve`` without ``-i``) has no hash: no ETag then.
"""

import hashlib
import json
import platform
import re
import sqlite3
from pathlib import Path

import ciso
from asgi_gzip import GZipMiddleware, GZipResponder, IdentityResponder
from asgi_gzip.headers import Headers
from ciso import cors
from ciso.site import DOWNLOADS, SETTINGS
from ciso.web import is_staff_site, metadata
from datasette import __version__ as datasette_version
from datasette import hookimpl
from datasette.inspect import inspect_hash
from datasette.plugins import pm  # get_plugins is defined after the entry points are loaded
from isal import isal_zlib

PAGE = f"public, max-age={SETTINGS['default_cache_ttl']}"
ONE_YEAR = "public, max-age=31536000, immutable"  # versioned URLs: ?v=hash, or hashed file names
ONE_DAY = "public, max-age=86400"
ERROR_TTL = 10
SHORT_ERROR = f"public, max-age={ERROR_TTL}"
NO_STORE = "no-store"
PRIVATE = "private, no-store"
CACHEABLE_METHODS = ("GET", "HEAD")
CACHEABLE_ERRORS = (404, 405, 410)  # the same for every visitor until the next release or database
STATIC_PREFIXES = ("/static/", "/-/static/", "/-/static-plugins/")
HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")  # datasette-vega's main.1a2b3c4d.js
REPLACED = {b"cache-control", b"etag", b"expires", b"last-modified"}
PERSONAL = {b"cookie", b"authorization"}
# ISA-L's levels are 0-3; its level 1 compresses as well as zlib's 1-3 (150 KB → 18 KB), ten times faster:
# 0.06 ms instead of 0.6 ms on a 100 KB page, a tenth of what Datasette takes to render it.
COMPRESSION_LEVEL = 1
COMPRESSED_MIN_BYTES = 500
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/geo+json", "application/xml")
COMPRESSIBLE += ("image/svg+xml",)
GZ = b"-gz"  # the compressed answer's validator: the ETag with this before its closing quote


# --------------------------------------------------------------------------- the validator


def files_digest(digest, root: Path, pattern: str = "**/*") -> None:
    """Names (relative to root) and contents of the files under root: the same on every host."""
    for path in sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")


def code_fingerprint(datasette) -> str:
    """What turns the database into pages: code, templates, static files, metadata, settings, versions."""
    from datasette.plugins import get_plugins

    digest = hashlib.sha256()
    versions = {
        "datasette": datasette_version,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "plugins": sorted((p["name"], p.get("version") or "") for p in get_plugins()),
    }
    digest.update(json.dumps(versions, sort_keys=True).encode())
    for name, module in sorted((pm.get_name(p) or "", p) for p in pm.get_plugins()):
        source = getattr(module, "__file__", None)
        if source and Path(source).is_file():
            digest.update(name.encode() + b"\0" + Path(source).read_bytes() + b"\0")
    # Templates and static files that installed plugins carry (ours too: the ciso_site package).
    for plugin in sorted(get_plugins(), key=lambda p: p["name"]):
        for folder in (plugin.get("templates_path"), plugin.get("static_path")):
            if folder:
                digest.update(plugin["name"].encode() + b"\0")
                files_digest(digest, Path(folder))
    files_digest(digest, Path(ciso.__file__).parent, "*.py")
    if datasette.template_dir:
        files_digest(digest, Path(datasette.template_dir))
    # The downloads are written by the same build as the database, whose hash is in the ETag.
    for mount, directory in sorted(datasette.static_mounts):
        if mount != DOWNLOADS:
            digest.update(mount.encode() + b"\0")
            files_digest(digest, Path(directory))
    settings = {"metadata": metadata(datasette), "settings": datasette.settings_dict()}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def data_fingerprint(datasette) -> str | None:
    """SHA-256 of the served databases (None if one is mutable: its content may change under us).

    Hashed from the files themselves, as Datasette does for an immutable database without an
    inspect file: a stale ``--inspect-file`` (built before the last rebuild) must not keep the
    old ETag on new data. About a second per gigabyte, once per process."""
    served = [db for db in datasette.databases.values() if not db.is_memory]
    if not served or any(db.is_mutable for db in served):
        return None
    listed = "".join(f"{db.name}={inspect_hash(Path(db.path))};" for db in sorted(served, key=lambda db: db.name))
    return hashlib.sha256(listed.encode()).hexdigest()


def etag_of(datasette) -> bytes | None:
    """The weak ETag of every 200 of this public site, computed once per Datasette instance."""
    if not hasattr(datasette, "_ciso_etag"):
        data = data_fingerprint(datasette)
        datasette._ciso_etag = None if data is None else f'W/"{data[:16]}-{code_fingerprint(datasette)[:16]}"'.encode()
    return datasette._ciso_etag


def gzipped(etag: bytes) -> bytes:
    """The validator of the compressed answer: ``W/"x-y"`` → ``W/"x-y-gz"``."""
    return etag[:-1] + GZ + b'"'


def opaque(tag: bytes) -> bytes:
    """The tag without its weak mark nor its encoding: the resource's version."""
    tag = tag.strip()
    tag = tag[2:] if tag.startswith(b"W/") else tag
    return tag[: -len(GZ) - 1] + b'"' if tag.endswith(GZ + b'"') else tag


def matching(if_none_match: bytes, etag: bytes) -> bytes | None:
    """Our ETag, in the encoding of the copy the client holds, if If-None-Match names this version
    (weak comparison, either encoding); else None. ``*`` is left to the page: we do not know it exists."""
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag != b"*" and opaque(tag) == opaque(etag):
            return gzipped(etag) if tag.endswith(GZ + b'"') else etag
    return None


# --------------------------------------------------------------------------- the rules


def fresh_for(path: str, query_string: bytes) -> str:
    """Cache-Control of a 200 (and of its 304) on the public site."""
    if path.startswith(STATIC_PREFIXES):
        versioned = bool(query_string) or bool(HASHED_NAME.search(path))
        return ONE_YEAR if versioned else ONE_DAY
    return PAGE


def public_policy(method: str, path: str, query_string: bytes, status: int, sets_cookie: bool) -> str:
    """Cache-Control of any answer of the public site."""
    if sets_cookie:
        return PRIVATE
    if method not in CACHEABLE_METHODS:
        return NO_STORE
    if status in (200, 304):
        return fresh_for(path, query_string)
    if 300 <= status < 400:
        return PAGE
    if status in CACHEABLE_ERRORS:
        return SHORT_ERROR
    return NO_STORE


def without_personal_vary(headers: list) -> list:
    """Datasette's ``Vary: Cookie, Authorization`` without those two (neither reaches it here)."""
    kept, parts = [], []
    for name, value in headers:
        if name.lower() == b"vary":
            parts += [p.strip() for p in value.split(b",") if p.strip() and p.strip().lower() not in PERSONAL]
        else:
            kept.append((name, value))
    return kept + ([(b"vary", b", ".join(parts))] if parts else [])


def public_send(send, method: str, path: str, query_string: bytes, etag: bytes | None):
    async def send_public(message):
        if message["type"] == "http.response.start":
            status = message.get("status", 200)
            original = message.get("headers") or []
            headers = [(k, v) for k, v in original if k.lower() not in REPLACED]
            sets_cookie = any(k.lower() == b"set-cookie" for k, _ in headers)
            policy = public_policy(method, path, query_string, status, sets_cookie)
            if any(k.lower() == b"cache-control" and b"no-store" in v for k, v in original):
                policy = NO_STORE  # a view that must never be cached says so (health.py's /-/sante)
            headers = without_personal_vary(headers) + [(b"cache-control", policy.encode())]
            headers = cors.public_headers(method, path, headers)  # what other sites may read (ciso/cors.py)
            if etag and status in (200, 304) and policy not in (PRIVATE, NO_STORE):
                encoded = any(k.lower() == b"content-encoding" and v == b"gzip" for k, v in headers)
                headers.append((b"etag", gzipped(etag) if encoded else etag))
            message = {**message, "headers": headers}
        await send(message)

    return send_public


def staff_send(send):
    async def send_private(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() not in REPLACED]
            headers = cors.without_cors(headers)  # no other site reads the staff site
            message = {**message, "headers": headers + [(b"cache-control", PRIVATE.encode())]}
        await send(message)

    return send_private


async def not_modified(send, etag: bytes, cache_control: str, extra: list) -> None:
    headers = [(b"etag", etag), (b"cache-control", cache_control.encode()), (b"vary", b"Accept-Encoding")] + extra
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


# --------------------------------------------------------------------------- compression


class TextGZipResponder(GZipResponder):
    """asgi-gzip's responder, for text only: images, the SQLite file and zip bundles are sent as
    they are. It compresses with ISA-L (``isal.isal_zlib``, ten times faster than zlib for the same
    size) rather than through ``gzip.GzipFile``, whose setup alone costs more than compressing a page.

    ISA-L compresses tiny writes poorly (a CSV that Datasette streams a few rows at a time came out
    14 KB instead of 5 KB), so a streamed answer is compressed in batches of ``BATCH`` bytes."""

    BATCH = 32 * 1024
    GZIP_WBITS = 31  # 16 + 15: a gzip header and trailer around the deflate stream

    def __init__(self, app, minimum_size: int, compresslevel: int) -> None:
        IdentityResponder.__init__(self, app, minimum_size)  # not GzipResponder's: it opens a GzipFile
        self.compresslevel = compresslevel
        self.compressor = None
        self.pending: list[bytes] = []
        self.pending_size = 0

    async def __call__(self, scope, receive, send) -> None:
        await IdentityResponder.__call__(self, scope, receive, send)

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if self.compressor is None and not more_body:  # the whole answer at once: one call
            return isal_zlib.compress(body, self.compresslevel, self.GZIP_WBITS)
        if self.compressor is None:
            self.compressor = isal_zlib.compressobj(self.compresslevel, isal_zlib.DEFLATED, self.GZIP_WBITS)
        self.pending.append(body)
        self.pending_size += len(body)
        if more_body and self.pending_size < self.BATCH:
            return b""
        data, self.pending, self.pending_size = b"".join(self.pending), [], 0
        out = self.compressor.compress(data)
        return out + self.compressor.flush() if not more_body else out

    async def send_with_compression(self, message) -> None:
        if message["type"] == "http.response.start":
            content_type = Headers(raw=message.get("headers") or []).get("content-type", "")
            await super().send_with_compression(message)
            self.content_type_is_excluded = not content_type.startswith(COMPRESSIBLE)
            return
        await super().send_with_compression(message)


class TextGZipMiddleware(GZipMiddleware):
    """asgi-gzip's middleware with the responder above."""

    async def __call__(self, scope, receive, send) -> None:
        if "gzip" in Headers(scope=scope).get("accept-encoding", ""):
            responder = TextGZipResponder(self.app, self.minimum_size, compresslevel=self.compresslevel)
        else:
            responder = IdentityResponder(self.app, self.minimum_size)
        await responder(scope, receive, send)


def wrap(datasette, app):
    compressed = TextGZipMiddleware(app, minimum_size=COMPRESSED_MIN_BYTES, compresslevel=COMPRESSION_LEVEL)

    async def cached(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if is_staff_site(datasette):
            return await app(scope, receive, staff_send(send))
        method, path = scope.get("method") or "GET", scope.get("path") or "/"
        query_string = scope.get("query_string") or b""
        headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"cookie"]
        etag = etag_of(datasette)
        if etag and method in CACHEABLE_METHODS:
            asked = b",".join(v for k, v in headers if k.lower() == b"if-none-match")
            kept = matching(asked, etag) if asked else None
            if kept:
                return await not_modified(send, kept, fresh_for(path, query_string), cors.cors_headers(method, path))
        scope = {**scope, "headers": headers}
        await compressed(scope, receive, public_send(send, method, path, query_string, etag))

    return cached


@hookimpl
def startup(datasette):
    if not is_staff_site(datasette):
        etag_of(datasette)  # hash the database and the code now, not during the first request


# Called last (with staff_login), so its wrapper is outside security.py's: its answers (405, 400,
# hidden pages) get their Cache-Control too, and a 304 costs no other layer.
@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    return lambda app: wrap(datasette, app)
