"""The gate in front of the site: methods, parameters, hidden pages and security headers.

Stock Datasette 0.65.5 answers odd methods and malformed parameters with a 500 and a
traceback in the log, sends no security headers, exposes its introspection pages and
still has an open redirect (``/\\example.com/``). This ASGI wrapper, on every request:

* drops any ``Authorization`` header (no page takes HTTP credentials);
* answers only ``GET``, ``HEAD`` and ``OPTIONS`` (and ``POST`` where the staff site's login
  needs it): anything else is a French 405 with ``Allow``;
* refuses, with a French 400, parameters that Datasette would turn into a 500: control
  characters, a ``_through`` or JSON ``_facet`` that is not the object Datasette expects, a
  ``_timelimit`` that is not a number (an unknown ``_sort`` column is mapped to 400 by
  errors.py);
* answers 404 for Datasette's introspection pages (and for the staff login on the public
  site), except to a logged-in staff member on the staff site;
* adds a Content-Security-Policy with no inline script or style at all (so no per-request
  nonce: a cached page stays valid for every visitor); ``'unsafe-eval'`` only on the HTML
  table and query pages, where datasette-vega's bundle draws charts (our own charts use
  Vega's expression interpreter and need no eval);
* adds ``X-Content-Type-Options``, ``Referrer-Policy``, ``Permissions-Policy`` and
  ``X-Frame-Options`` (``Cache-Control`` and ``ETag`` are plugins/caching.py's);
* rewrites any redirect whose ``Location`` starts with ``//`` or ``/\\``.
"""

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib.resources import files
from urllib.parse import parse_qsl

from ciso.web import error_response, is_staff_site
from datasette import hookimpl
from datasette.utils.asgi import Request, Response

INTROSPECTION = re.compile(
    r"^/-/(threads|databases|plugins|settings|versions|patterns|allow-debug|messages|actor|permissions|metadata|config)"
    r"(\.json)?$"
)
STAFF_ONLY = re.compile(r"^/-/(login|password-tool)$")
STAFF_POSTS = re.compile(r"^/-/(login|logout|password-tool)$")
# HTML pages where datasette-vega may draw: a table or canned query (/db/name), or /db?sql=.
DATASETTE_CHART_PAGE = re.compile(r"^/[^/-][^/]*/[^/.]+$")
DATABASE_PAGE = re.compile(r"^/[^/-][^/.]*$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FACETS = ("_facet", "_facet_array", "_facet_date")
OURS = {
    b"content-security-policy",
    b"x-content-type-options",
    b"referrer-policy",
    b"permissions-policy",
    b"x-frame-options",
}


def injected_style_hashes() -> str:
    """CSP hashes of the one <style> element a script of Datasette's injects: cm-resize, the SQL
    editor's resize handle, appends an empty <style> then fills it with a fixed rule."""
    source = files("datasette") / "static" / "cm-resize-1.0.1.min.js"
    found = (
        re.search(r'textContent=("(?:[^"\\]|\\.)*")', source.read_text(encoding="utf-8")) if source.is_file() else None
    )
    texts = [""] + ([json.loads(found.group(1))] if found else [])
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()}'" for t in texts)


STYLE_HASHES = injected_style_hashes()


@lru_cache(maxsize=2)
def content_security_policy(eval_allowed: bool) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'" + (" 'unsafe-eval'" if eval_allowed else ""),
            f"style-src 'self' {STYLE_HASHES}",
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


def allowed_methods(datasette, path: str) -> tuple[str, ...]:
    if is_staff_site(datasette) and STAFF_POSTS.match(path):
        return ("GET", "HEAD", "OPTIONS", "POST")
    return ("GET", "HEAD", "OPTIONS")


def parameter_problem(query_string: bytes) -> str | None:
    """Why Datasette would fail on these parameters (None: nothing wrong that we know of)."""
    try:
        text = query_string.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return "L'adresse contient des octets qui ne sont pas de l'UTF-8."
    for key, value in pairs:
        if CONTROL.search(key) or CONTROL.search(value):
            return f"Le paramètre « {CONTROL.sub('', key)} » contient un caractère de contrôle."
        if key == "_through" and not _through_ok(value):
            return '_through doit être un objet JSON {"table": …, "column": …, "value": …}.'
        if key in FACETS and value.startswith("{") and not _facet_ok(value):
            return f'{key} doit être un nom de colonne ou un objet JSON {{"simple": "colonne"}}.'
        if key == "_timelimit" and not (value.isascii() and value.isdigit()):
            return "_timelimit doit être un nombre entier de millisecondes."
    return None


def _through_ok(value: str) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and set(data) == {"table", "column", "value"}
        and all(isinstance(data[k], str) for k in ("table", "column"))
        and isinstance(data["value"], str | int | float)
    )


def _facet_ok(value: str) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), str)


def has_staff_actor(datasette, request) -> bool:
    if not is_staff_site(datasette):
        return False
    cookie = request.cookies.get("ds_actor")
    if not cookie:
        return False
    try:
        return bool(datasette.unsign(cookie, "actor").get("a"))
    except Exception:
        return False


def eval_allowed(path: str, query_string: bytes, status: int, content_type: bytes) -> bool:
    """Only HTML table and query pages, where datasette-vega may draw a chart, may eval."""
    if status != 200 or not content_type.startswith(b"text/html"):
        return False
    return bool(DATASETTE_CHART_PAGE.match(path)) or (bool(DATABASE_PAGE.match(path)) and b"sql=" in query_string)


def wrap(datasette, app):
    async def secured(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        path = scope.get("path") or "/"
        query_string = scope.get("query_string") or b""
        send = _with_headers(send, path, query_string)
        # No page takes HTTP credentials (the staff site logs in with a form), and a malformed
        # "Authorization: Basic" header makes datasette-auth-passwords fail with a 500.
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"authorization"]}
        # Our answers are rendered before Datasette's own middleware (CSRF) has run.
        request = Request({**scope, "csrftoken": lambda: ""}, receive)
        methods = allowed_methods(datasette, path)
        allow = {"allow": ", ".join(methods)}
        if scope["method"] == "OPTIONS":
            return await Response("", status=204, headers=allow).asgi_send(send)
        if scope["method"] not in methods:
            message = f"La méthode {scope['method'][:20]} n'est pas permise ici ; méthodes permises : {allow['allow']}."
            return await (await error_response(datasette, request, 405, message, headers=allow)).asgi_send(send)
        problem = parameter_problem(query_string)
        if problem:
            return await (await error_response(datasette, request, 400, problem)).asgi_send(send)
        hidden = INTROSPECTION.match(path) or (STAFF_ONLY.match(path) and not is_staff_site(datasette))
        if hidden and not has_staff_actor(datasette, request):
            return await (await error_response(datasette, request, 404, "404")).asgi_send(send)
        await app(scope, receive, send)

    return secured


def _with_headers(send, path: str, query_string: bytes):
    async def send_with_headers(message):
        if message["type"] == "http.response.start":
            status = message.get("status", 200)
            headers, content_type = [], b""
            for name, value in message.get("headers") or []:
                lower = name.lower()
                if lower == b"location":
                    value = safe_location(value)
                if lower == b"content-type":
                    content_type = value
                if lower in OURS:
                    continue
                headers.append((name, value))
            policy = content_security_policy(eval_allowed(path, query_string, status, content_type))
            headers += [
                (b"content-security-policy", policy.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"strict-origin-when-cross-origin"),
                (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
                (b"x-frame-options", b"DENY"),
            ]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: wrap(datasette, app)
