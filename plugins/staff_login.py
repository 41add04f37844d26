"""Staff login worth the name: expiring, revocable sessions, a limit on failed logins, no cross-site posts.

datasette-auth-passwords still checks the password and draws the form
(``templates/password_login.html``). On the staff site only (``ciso serve
--interne``), this ASGI wrapper, placed outside every other one, adds what it
lacks:

* the ``ds_actor`` cookie it sets at login is replaced by one that carries a
  random session id and Datasette's own signed expiry (``"e"``), sent with
  ``HttpOnly``, ``SameSite=Lax``, ``Max-Age`` and, over HTTPS, ``Secure``;
* sessions are recorded in ``sessions.db`` beside the staff database and
  checked on every request: a cookie whose session is unknown, expired or ended
  by ``/-/logout`` is removed before Datasette sees it (the visitor is then
  anonymous); sessions survive a restart as long as ``DATASETTE_SECRET`` does;
* login attempts are counted per address (IPv6 per /64): after
  ``FREE_FAILURES`` failures, each further attempt waits twice as long as the
  previous one, up to ``MAX_WAIT``; a refused attempt gets a French 429 page
  with ``Retry-After`` and never reaches the password hash;
* a POST (or any unsafe method) whose ``Origin`` (or, without one, ``Referer``)
  is not this site, or whose ``Sec-Fetch-Site`` is not ``same-origin``, is
  refused with a French 403; Datasette's csrftoken check still applies after;
* ``/-/password-tool`` is refused to anyone not logged in (plugins/security.py
  hides it on the public site);
* HTTP Basic credentials are dropped: datasette-auth-passwords would accept
  them on any request, bypassing sessions and the limit on failures.
"""

import ipaddress
import math
import os
import secrets
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils
from ciso.web import is_staff_site
from datasette import hookimpl
from datasette.utils import baseconv
from datasette.utils.asgi import NotFound, Response
from itsdangerous import BadData

COOKIE = "ds_actor"
SESSION_SECONDS = 12 * 3600  # one working day; then log in again
KEEP_ENDED_SECONDS = 30 * 24 * 3600  # ended sessions stay in sessions.db for a month, then are deleted
SESSIONS_FILE = "sessions.db"  # beside the staff database (interne/ciso.db)
FREE_FAILURES = 5  # failed logins allowed before the first wait
FIRST_WAIT = 30  # seconds of the first wait, doubled at each further failure
MAX_WAIT = 15 * 60
FORGET_AFTER = 15 * 60  # an address's failures are forgotten after this long without one (once its wait is over)
MAX_ADDRESSES = 10_000  # bound on the memory the failure counts may use
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
REFUSAL_PATH = "/-/connexion-refusee"  # internal route that renders our refusals like every error page
REFUSAL = "ciso_staff_login_refusal"  # scope key, set only by this wrapper
CROSS_SITE = (
    "Cette requête vient d'un autre site (ou ne dit pas d'où elle vient) : par sécurité, le site de "
    "l'équipe n'accepte les formulaires envoyés que depuis ses propres pages. Rechargez la page et réessayez."
)
LOGIN_REQUIRED = "Connexion requise : l'outil d'empreinte de mot de passe est réservé à l'équipe connectée."


# --- sessions ----------------------------------------------------------------------------------


class Sessions:
    """Sessions of the staff site in a small SQLite file (id, actor, created, expires, revoked).

    Written with sqlite-utils; opened at first use, in the event loop's thread."""

    def __init__(self, path: Path | None):
        self.path = path
        self._db: sqlite_utils.Database | None = None

    @property
    def table(self) -> sqlite_utils.db.Table:
        if self._db is None:
            if self.path is None:
                db = sqlite_utils.Database(memory=True)
            else:
                new = not self.path.exists()
                db = sqlite_utils.Database(sqlite3.connect(self.path, timeout=5, check_same_thread=False))
                if new:
                    os.chmod(self.path, 0o600)
            db["sessions"].create(
                {"id": str, "acteur": str, "creee": int, "expire": int, "revoquee": int},
                pk="id",
                not_null={"id", "acteur", "creee", "expire"},
                if_not_exists=True,
            )
            self._db = db
        return self._db["sessions"]

    def open(self, actor_id: str, now: float) -> tuple[str, int]:
        """A new session: its random id and its expiry (Unix time)."""
        table = self.table
        table.delete_where("expire < ?", [int(now) - KEEP_ENDED_SECONDS])
        session_id = secrets.token_urlsafe(32)
        expires = int(now) + SESSION_SECONDS
        table.insert({"id": session_id, "acteur": actor_id, "creee": int(now), "expire": expires, "revoquee": None})
        return session_id, expires

    def active(self, session_id: str, now: float) -> bool:
        row = self.table.db.execute("select expire, revoquee from sessions where id = ?", [session_id]).fetchone()
        return bool(row) and row[1] is None and row[0] > now

    def revoke(self, session_id: str, now: float) -> None:
        self.table.update(session_id, {"revoquee": int(now)})


def sessions_file(datasette) -> Path | None:
    """sessions.db in the staff database's folder (in memory if the site serves no file)."""
    for db in datasette.databases.values():
        if db.path:
            return Path(db.path).resolve().parent / SESSIONS_FILE
    return None


def session_of(datasette, sessions: Sessions, cookie: str, now: float) -> str | None:
    """The session id of a ``ds_actor`` cookie, if it is signed, unexpired and its session still open."""
    try:
        decoded = datasette.unsign(cookie, "actor")
        expires = int(baseconv.base62.decode(decoded["e"]))
        session_id = decoded["s"]
    except (BadData, IndexError, KeyError, TypeError, ValueError):
        return None
    if "a" not in decoded or not isinstance(session_id, str) or expires <= now:
        return None
    return session_id if sessions.active(session_id, now) else None


def cookies_of(scope) -> list[tuple[str, str]]:
    pairs = []
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, sep, cookie = part.strip().partition("=")
                if sep:
                    pairs.append((key, cookie))
    return pairs


def without_credentials(scope, drop_cookie: bool) -> dict:
    """The scope without HTTP Basic credentials and, if asked, without the ``ds_actor`` cookie."""
    headers = []
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            continue
        if name == b"cookie" and drop_cookie:
            kept = [p for p in value.decode("latin-1").split(";") if p.strip().partition("=")[0] != COOKIE]
            if not any(p.strip() for p in kept):
                continue
            value = ";".join(kept).strip().encode("latin-1")
        headers.append((name, value))
    return {**scope, "headers": headers}


def is_https(datasette, scope) -> bool:
    return scope.get("scheme") == "https" or bool(datasette.setting("force_https_urls"))


def session_cookie(value: str, max_age: int, secure: bool) -> bytes:
    cookie = SimpleCookie()
    cookie[COOKIE] = value
    morsel = cookie[COOKIE]
    morsel["path"] = "/"
    morsel["max-age"] = max_age
    morsel["samesite"] = "Lax"
    morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    return cookie.output(header="").strip().encode("latin-1")


def expired_cookie() -> bytes:
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax".encode()


def actor_in(set_cookie: bytes, datasette):
    """The actor in a ``Set-Cookie: ds_actor=…`` header written by datasette-auth-passwords, else None."""
    cookie = SimpleCookie()
    try:
        cookie.load(set_cookie.decode("latin-1"))
        signed = cookie[COOKIE].value
    except (CookieError, KeyError):
        return None
    try:
        actor = datasette.unsign(signed, "actor").get("a") if signed else None
    except (BadData, AttributeError):
        return None
    return actor if isinstance(actor, dict) and actor.get("id") else None


# --- failed logins -----------------------------------------------------------------------------


def wait_after(failures: int) -> int:
    """Seconds to wait after this many failures in a row: none, then 30 s, 1 min, 2 min… up to 15 min."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 16), MAX_WAIT)


@dataclass
class Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class FailedLogins:
    """Failed logins per address, in memory: a restart (a rebuild) forgets them, never an attacker.

    Every attempt counts as a failure from the moment it arrives, and is forgiven when it succeeds:
    simultaneous attempts cannot slip through before the first one is judged."""

    def __init__(self):
        self.by_address: OrderedDict[str, Failures] = OrderedDict()

    def current(self, address: str, now: float) -> Failures | None:
        record = self.by_address.get(address)
        if record and now - max(record.last, record.locked_until) > FORGET_AFTER:
            del self.by_address[address]
            return None
        return record

    def wait(self, address: str, now: float) -> int:
        """Seconds before this address may try again (0: now)."""
        record = self.current(address, now)
        return math.ceil(record.locked_until - now) if record and record.locked_until > now else 0

    def attempt(self, address: str, now: float) -> None:
        record = self.current(address, now) or Failures()
        record.count += 1
        record.last = now
        record.locked_until = now + wait_after(record.count)
        self.by_address[address] = record
        self.by_address.move_to_end(address)
        while len(self.by_address) > MAX_ADDRESSES:
            self.by_address.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self.by_address.pop(address, None)


def address_of(scope) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy); IPv6 by /64."""
    host = (scope.get("client") or ("",))[0] or "inconnue"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def duration_fr(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconde" + ("s" if seconds > 1 else "")
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute" + ("s" if minutes > 1 else "")


def too_many(seconds: int) -> str:
    return (
        f"Trop de tentatives de connexion depuis votre adresse. Par sécurité, attendez {duration_fr(seconds)} "
        "avant de réessayer ; le délai double à chaque nouvel échec, jusqu'à 15 minutes."
    )


# --- cross-site requests -----------------------------------------------------------------------


def origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def own_origins(datasette, scope, headers: dict) -> set:
    host = headers.get(b"host", b"").decode("latin-1")
    schemes = {scope.get("scheme") or "http"} | ({"https"} if is_https(datasette, scope) else set())
    return {origin(f"{scheme}://{host}") for scheme in schemes} - {None}


def from_this_site(datasette, scope, headers: dict) -> bool:
    """True if an unsafe request comes from this site's own pages (Sec-Fetch-Site, then Origin or Referer)."""
    fetch_site = headers.get(b"sec-fetch-site")
    if fetch_site is not None and fetch_site.decode("latin-1").lower() != "same-origin":
        return False
    source = headers.get(b"origin") or headers.get(b"referer")
    if not source:
        return False
    return origin(source.decode("latin-1")) in own_origins(datasette, scope, headers)


# --- the wrapper and the refusal page ----------------------------------------------------------


def refused(datasette, scope, status: int, title: str, message: str, retry_after: int = 0) -> dict:
    """The scope rewritten to the refusal page (a GET: nothing of the refused request is run)."""
    path = datasette.urls.path(REFUSAL_PATH)
    return {
        **scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        REFUSAL: {"status": status, "title": title, "error": message, "retry_after": retry_after},
    }


async def refusal_page(request, datasette):
    refusal = request.scope.get(REFUSAL)
    if refusal is None:
        raise NotFound("404")
    context = {"ok": False, **{k: refusal[k] for k in ("status", "title", "error")}}
    html = await datasette.render_template("error.html", context, request=request)
    headers = {"Retry-After": str(refusal["retry_after"])} if refusal["retry_after"] else {}
    return Response.html(html, status=refusal["status"], headers=headers)


class StaffLogin:
    """What the wrapper keeps per Datasette instance (one per process): sessions and failure counts."""

    def __init__(self, datasette):
        self.sessions = Sessions(sessions_file(datasette))
        self.failures = FailedLogins()


def state_of(datasette) -> StaffLogin:
    state = getattr(datasette, "_ciso_staff_login", None)
    if state is None:
        state = datasette._ciso_staff_login = StaffLogin(datasette)
    return state


def with_session(datasette, state: StaffLogin, headers: list, address: str, now: float, secure: bool, stale: bool):
    """Response headers where the ``ds_actor`` cookie set by a login becomes a new session's cookie,
    and any other ``ds_actor`` cookie (Datasette's logout), or a stale one the browser sent, is expired."""
    kept, actor, cleared = [], None, stale
    for name, value in headers:
        if name.lower() == b"set-cookie" and value.startswith(COOKIE.encode() + b"="):
            actor = actor or actor_in(value, datasette)
            cleared = True
            continue
        kept.append((name, value))
    if actor is None:
        return kept + ([(b"set-cookie", expired_cookie())] if cleared else [])
    state.failures.succeeded(address)
    session_id, expires = state.sessions.open(str(actor["id"]), now)
    signed = datasette.sign({"a": actor, "e": baseconv.base62.encode(expires), "s": session_id}, "actor")
    return kept + [(b"set-cookie", session_cookie(signed, SESSION_SECONDS, secure))]


def wrap(datasette, app):
    login, logout, password_tool = (datasette.urls.path(p) for p in ("/-/login", "/-/logout", "/-/password-tool"))

    async def staff_login(scope, receive, send):
        if scope["type"] != "http" or not is_staff_site(datasette):
            return await app(scope, receive, send)
        state = state_of(datasette)  # at the first request, once the databases are known
        sessions, failures = state.sessions, state.failures
        now = time.time()
        headers = dict(scope.get("headers") or [])
        presented = [value for key, value in cookies_of(scope) if key == COOKIE]
        session_id = session_of(datasette, sessions, presented[0], now) if len(presented) == 1 else None
        scope = without_credentials(scope, drop_cookie=session_id is None)
        stale = bool(presented) and session_id is None
        path, method = scope.get("path") or "/", scope.get("method") or "GET"
        if method not in SAFE_METHODS and not from_this_site(datasette, scope, headers):
            return await app(refused(datasette, scope, 403, "Requête refusée", CROSS_SITE), receive, send)
        if path == password_tool and session_id is None:
            return await app(refused(datasette, scope, 403, "Accès refusé", LOGIN_REQUIRED), receive, send)
        address = address_of(scope)
        logging_in = path == login and method == "POST"
        if logging_in:
            wait = failures.wait(address, now)
            if wait:
                return await app(
                    refused(datasette, scope, 429, "Trop de tentatives", too_many(wait), wait), receive, send
                )
            failures.attempt(address, now)
        if path == logout and method == "POST" and session_id is not None:
            sessions.revoke(session_id, now)

        async def send_with_session(message):
            if message["type"] == "http.response.start" and (logging_in or stale):
                secure = is_https(datasette, scope)
                rewritten = with_session(datasette, state, message.get("headers") or [], address, now, secure, stale)
                message = {**message, "headers": rewritten}
            await send(message)

        await app(scope, receive, send_with_session)

    return staff_login


@hookimpl
def register_routes():
    return [(f"^{REFUSAL_PATH}$", refusal_page)]


@hookimpl(trylast=True)  # called last, so its wrapper is the outermost: every other one sees checked cookies
def asgi_wrapper(datasette):
    return lambda app: wrap(datasette, app)


@hookimpl
def startup(datasette):
    if is_staff_site(datasette):  # fail at start, not at the first login, if the folder is read-only
        sessions = state_of(datasette).sessions
        try:
            sessions.table.exists()
        except sqlite3.Error as e:
            raise RuntimeError(f"{sessions.path} : impossible d'ouvrir le fichier des sessions ({e}).") from e
