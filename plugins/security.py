"""Security for a public site: headers on every response, safe redirects, hidden introspection.

Stock Datasette 0.65.5 sends no security headers, exposes its introspection
pages and still has an open redirect (``/\\example.com/``). This ASGI wrapper:

* adds a Content-Security-Policy on every response (a per-request nonce lets
  our templates' few inline scripts run; ``'unsafe-eval'`` only on pages that
  draw Vega charts, which need it), ``X-Content-Type-Options``,
  ``Referrer-Policy``, ``Permissions-Policy`` and ``X-Frame-Options``;
* gives versioned static files a long-lived ``Cache-Control``;
* rewrites any redirect whose ``Location`` starts with ``//`` or ``/\\``;
* answers 404 for Datasette's introspection pages (and for the staff login on
  the public site), except to a logged-in staff member on the staff site.
"""

import re
import secrets

from ciso.web import is_staff_site
from datasette import hookimpl

INTROSPECTION = re.compile(
    r"^/-/(threads|databases|plugins|settings|versions|patterns|allow-debug|messages|actor|permissions|metadata|config)"
    r"(\.json)?$"
)
STAFF_ONLY = re.compile(r"^/-/(login|password-tool)$")
NOT_FOUND_PATH = "/-/page-introuvable"
# Pages that draw Vega charts: our chart pages, and Datasette's table and query pages (datasette-vega).
CHART_PAGES = re.compile(r"^/-/(progres|transparence)(/|$)|^/[^/-][^/]*(/[^/]+)?$")
ROW_PAGE = re.compile(r"^/[^/]+/[^/]+/[^/]+$")
STATIC = re.compile(r"^/(static|-/static|-/static-plugins)/")
ONE_YEAR = "public, max-age=31536000, immutable"  # versioned URLs: ?v=hash, or hashed file names
ONE_DAY = "public, max-age=86400"
OURS = {
    b"content-security-policy",
    b"x-content-type-options",
    b"referrer-policy",
    b"permissions-policy",
    b"x-frame-options",
}


def content_security_policy(nonce: str, charts: bool) -> str:
    scripts = f"'self' 'nonce-{nonce}'" + (" 'unsafe-eval'" if charts else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def safe_location(value: bytes) -> bytes:
    """``//evil.example/`` and ``/\\evil.example/`` become ``/evil.example/`` (same site)."""
    if value.startswith((b"//", b"/\\")):
        return b"/" + value.lstrip(b"/\\")
    return value


def has_staff_actor(datasette, scope) -> bool:
    if not is_staff_site(datasette):
        return False
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie = part.strip().partition("=")
                if key == "ds_actor":
                    try:
                        return bool(datasette.unsign(cookie, "actor").get("a"))
                    except Exception:
                        return False
    return False


def wrap(datasette, app):
    async def secured(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        path = scope.get("path") or "/"
        hidden = INTROSPECTION.match(path) or (STAFF_ONLY.match(path) and not is_staff_site(datasette))
        if hidden and not has_staff_actor(datasette, scope):
            scope = {**scope, "path": NOT_FOUND_PATH, "raw_path": NOT_FOUND_PATH.encode(), "query_string": b""}
        nonce = secrets.token_urlsafe(16)
        scope = {**scope, "ciso_csp_nonce": nonce}
        charts = bool(CHART_PAGES.match(path)) and not ROW_PAGE.match(path)
        static = bool(STATIC.match(path))
        versioned = bool(scope.get("query_string")) or path.startswith("/-/static-plugins/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers") or []:
                    lower = name.lower()
                    if lower == b"location":
                        value = safe_location(value)
                    if lower in OURS or (static and lower == b"cache-control"):
                        continue
                    headers.append((name, value))
                headers += [
                    (b"content-security-policy", content_security_policy(nonce, charts).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
                    (b"x-frame-options", b"DENY"),
                ]
                if static and message.get("status") == 200:
                    headers.append((b"cache-control", (ONE_YEAR if versioned else ONE_DAY).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return secured


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: wrap(datasette, app)


@hookimpl
def extra_template_vars(request):
    return {"csp_nonce": (request.scope.get("ciso_csp_nonce") if request else None) or ""}
