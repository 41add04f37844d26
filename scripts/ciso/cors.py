"""Which answers other sites may read from a browser (CORS), so that Datasette Lite, Observable or
a notebook in the browser can fetch the data: the public database, JSON, CSV, the downloads,
the feeds and the catalogue. Never the staff site, and never HTML pages.

plugins/caching.py, the outermost layer of the public site, adds these headers (to its 304s
too); plugins/security.py still answers ``OPTIONS`` (204, with ``Allow``) and refuses any other
method than GET and HEAD with a 405, so a preflight allows nothing more than a plain request.
Everything here is read-only and anonymous: ``*`` is safe, with no credentials and no
``Vary: Origin``.
"""

from __future__ import annotations

from .site import DOWNLOADS

SHARED_SUFFIXES = (".json", ".csv", ".db", ".jsonld", ".ttl", ".rdf", ".atom", ".xml", ".txt")
SHARED_PREFIXES = (f"/{DOWNLOADS}/",)
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
PREFLIGHT_MAX_AGE = "86400"


def without_cors(headers: list) -> list:
    """The headers minus any CORS header an inner layer set (``datasette serve --cors``): ours alone
    decide, and a repeated ``Access-Control-Allow-Origin`` would make browsers refuse the answer."""
    return [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]


def is_shared(path: str) -> bool:
    return path.endswith(SHARED_SUFFIXES) or path.startswith(SHARED_PREFIXES)


def cors_headers(method: str, path: str) -> list[tuple[bytes, bytes]]:
    """CORS headers of a public answer to ``method path`` (none for pages that are not data)."""
    if not is_shared(path):
        return []
    found = [(b"access-control-allow-origin", b"*")]
    if method == "OPTIONS":
        found += [
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            # Any request header but credentials (``*`` does not cover Authorization, which the gate drops).
            (b"access-control-allow-headers", b"*"),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        ]
    else:
        found.append((b"access-control-expose-headers", b"ETag, Link"))
    return found


def public_headers(method: str, path: str, headers: list) -> list:
    """An answer's headers on the public site, with our CORS headers in place of any other."""
    return without_cors(headers) + cors_headers(method, path)
