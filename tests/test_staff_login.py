"""Staff login worth the name (plugins/staff_login.py): cookie flags and expiry, a server-side logout,
sessions that survive a restart, a limit on failed logins, no cross-site posts, the password tool closed
to visitors, and a staff site that will not start without its secret."""

from __future__ import annotations

import base64
import re
import secrets
import sqlite3
import stat
import time
from http.cookies import SimpleCookie

import httpx
import pytest
import pytest_asyncio
from ciso.build import build
from ciso.cli import cli
from ciso.site import PASSWORD_ENV, SECRET_ENV, datasette_kwargs
from click.testing import CliRunner
from conftest import DATA, free_port, site_args, site_serving
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import baseconv

PASSWORD = "mot-de-passe-de-test"
HERE = "http://localhost"
EVIL = "http://evil.example"
TWELVE_HOURS = 12 * 3600


@pytest.fixture(scope="module")
def staff_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("staff-login") / "interne" / "ciso.db"
    build(DATA, db, private=True)
    return db


@pytest.fixture(scope="module")
def environment():
    """The staff site's two variables; the hash uses few iterations to keep the tests fast."""
    from datasette_auth_passwords.utils import hash_password

    mp = pytest.MonkeyPatch()
    mp.setenv(PASSWORD_ENV, hash_password(PASSWORD, iterations=1000))
    mp.setenv(SECRET_ENV, secrets.token_hex(32))
    yield
    mp.undo()


async def new_site(staff_db, **settings) -> Datasette:
    """A staff site on staff_db, as ``ciso serve --interne`` starts it (a new one is a restart)."""
    kwargs = datasette_kwargs(staff=True)
    kwargs["settings"].update(settings)
    ds = Datasette(immutables=[str(staff_db)], **kwargs)
    await ds.invoke_startup()
    return ds


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def site(staff_db, environment):
    return await new_site(staff_db)


@pytest.fixture
def hashing(monkeypatch):
    """Counts the password checks of datasette-auth-passwords (each one a PBKDF2)."""
    import datasette_auth_passwords

    calls = []
    real = datasette_auth_passwords.verify_password

    def counted(password, password_hash):
        calls.append(password)
        return real(password, password_hash)

    monkeypatch.setattr(datasette_auth_passwords, "verify_password", counted)
    return calls


def client(ds, address="192.0.2.1", scheme="http") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=ds.app(), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://localhost")


async def form_token(c, path="/-/login", cookie="") -> tuple[str, str]:
    """The csrftoken of a form, and the Cookie header that goes with it."""
    form = await c.get(path, headers={"cookie": cookie} if cookie else {})
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
    return token, "; ".join(p for p in (cookie, f"ds_csrftoken={form.cookies['ds_csrftoken']}") if p)


async def login(ds, password=PASSWORD, address="192.0.2.1", scheme="http", headers=None) -> httpx.Response:
    """A login through the form; ``headers`` override the browser's own Origin (None removes one)."""
    async with client(ds, address, scheme) as c:
        token, cookie = await form_token(c)
        sent = {"cookie": cookie, "Origin": f"{scheme}://localhost", **(headers or {})}
        return await c.post(
            "/-/login",
            data={"username": "equipe", "password": password, "csrftoken": token},
            headers={k: v for k, v in sent.items() if v is not None},
        )


def actor_set_cookie(response) -> str | None:
    """The ``Set-Cookie: ds_actor=…`` header of a response, if any."""
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith("ds_actor=")]
    assert len(found) <= 1, found
    return found[0] if found else None


def actor_cookie(response) -> str:
    header = actor_set_cookie(response)
    assert header, response.headers
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie["ds_actor"].value


async def logged_in(ds, cookie: str) -> bool:
    """Whether a ds_actor cookie opens the staff site (checked on the page, not only the status)."""
    async with client(ds) as c:
        response = await c.get("/ciso/notes_internes", headers={"cookie": f"ds_actor={cookie}"})
    if response.status_code == 200:
        assert "Notes internes" in response.text and "<strong>equipe</strong>" in response.text
        return True
    assert response.status_code == 403 and "Connectez-vous" in response.text, response.text
    return False


def sessions_db(staff_db):
    return sqlite3.connect(staff_db.parent / "sessions.db")


def plugin():
    return pm.get_plugin("ciso_staff_login")  # its entry point's name (pyproject.toml)


# --- the cookie ------------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_login_cookie_is_httponly_lax_expiring_and_not_secure_over_http(site):
    before = time.time()
    response = await login(site)
    assert response.status_code == 302
    attributes = [a.strip().lower() for a in actor_set_cookie(response).split(";")[1:]]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    assert f"max-age={TWELVE_HOURS}" in attributes
    assert "secure" not in attributes
    signed = site.unsign(actor_cookie(response), "actor")
    assert signed["a"] == {"id": "equipe"}
    assert before + TWELVE_HOURS - 5 <= baseconv.base62.decode(signed["e"]) <= time.time() + TWELVE_HOURS
    assert len(signed["s"]) >= 32
    assert await logged_in(site, actor_cookie(response))


@pytest.mark.asyncio(loop_scope="session")
async def test_cookie_is_secure_over_https(site):
    response = await login(site, scheme="https")
    assert response.status_code == 302
    assert "secure" in [a.strip().lower() for a in actor_set_cookie(response).split(";")]


@pytest.mark.asyncio(loop_scope="session")
async def test_cookie_is_secure_when_datasette_forces_https_urls(staff_db, environment):
    forced = await new_site(staff_db, force_https_urls=True)
    async with client(forced) as c:  # plain http to the process, https for the browser (a proxy in between)
        token, cookie = await form_token(c)
        response = await c.post(
            "/-/login",
            data={"username": "equipe", "password": PASSWORD, "csrftoken": token},
            headers={"cookie": cookie, "Origin": "https://localhost"},
        )
    assert response.status_code == 302
    assert "secure" in [a.strip().lower() for a in actor_set_cookie(response).split(";")]


@pytest.mark.asyncio(loop_scope="session")
async def test_every_login_gets_its_own_cookie(site):
    first, second = actor_cookie(await login(site)), actor_cookie(await login(site))
    assert first != second
    assert site.unsign(first, "actor")["s"] != site.unsign(second, "actor")["s"]
    assert await logged_in(site, first) and await logged_in(site, second)


def expired_in_cookie(ds, session_id, db):
    return ds.sign({"a": {"id": "equipe"}, "e": baseconv.base62.encode(int(time.time()) - 1), "s": session_id}, "actor")


def expired_in_store(ds, session_id, db):
    with sessions_db(db) as conn:
        conn.execute("update sessions set expire = ? where id = ?", [int(time.time()) - 1, session_id])
    return ds.sign(
        {"a": {"id": "equipe"}, "e": baseconv.base62.encode(int(time.time()) + 3600), "s": session_id}, "actor"
    )


def without_session(ds, session_id, db):
    # What datasette-auth-passwords alone sets: the same cookie at every login, valid forever.
    return ds.sign({"a": {"id": "equipe"}}, "actor")


def unknown_session(ds, session_id, db):
    return ds.sign(
        {"a": {"id": "equipe"}, "e": baseconv.base62.encode(int(time.time()) + 3600), "s": "x" * 43}, "actor"
    )


def other_secret(ds, session_id, db):
    from itsdangerous import URLSafeSerializer

    value = {"a": {"id": "equipe"}, "e": baseconv.base62.encode(int(time.time()) + 3600), "s": session_id}
    return URLSafeSerializer("un-autre-secret", "actor").dumps(value)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("forge", [expired_in_cookie, expired_in_store, without_session, unknown_session, other_secret])
async def test_expired_or_unknown_sessions_are_anonymous(site, staff_db, forge):
    session_id = site.unsign(actor_cookie(await login(site)), "actor")["s"]
    cookie = forge(site, session_id, staff_db)
    assert not await logged_in(site, cookie)
    async with client(site) as c:
        response = await c.get("/ciso", headers={"cookie": f"ds_actor={cookie}"})
    assert response.status_code == 403 and "<strong>equipe</strong>" not in response.text
    assert (
        actor_set_cookie(response).lower().startswith("ds_actor=;")
        and "max-age=0" in actor_set_cookie(response).lower()
    )


# --- logout and restarts -----------------------------------------------------------------------


async def logout(ds, cookie: str) -> httpx.Response:
    async with client(ds) as c:
        page = await c.get("/-/logout", headers={"cookie": f"ds_actor={cookie}"})
        assert "Déconnexion" in page.text and "Se déconnecter" in page.text
        token, cookies = await form_token(c, "/-/logout", f"ds_actor={cookie}")
        return await c.post("/-/logout", data={"csrftoken": token}, headers={"cookie": cookies, "Origin": HERE})


@pytest.mark.asyncio(loop_scope="session")
async def test_logout_ends_the_session_on_the_server(site, staff_db):
    cookie = actor_cookie(await login(site))
    session_id = site.unsign(cookie, "actor")["s"]
    assert await logged_in(site, cookie)
    async with client(site) as c:
        assert (await c.get("/-/versions.json", headers={"cookie": f"ds_actor={cookie}"})).status_code == 200
    response = await logout(site, cookie)
    assert response.status_code == 302
    assert not await logged_in(site, cookie)  # the same cookie, replayed: refused
    async with client(site) as c:  # by every plugin: the cookie is gone before they see the request
        assert (await c.get("/-/versions.json", headers={"cookie": f"ds_actor={cookie}"})).status_code == 404
    with sessions_db(staff_db) as conn:
        assert conn.execute("select revoquee from sessions where id = ?", [session_id]).fetchone()[0] is not None
    async with client(site) as c:
        home = await c.get("/", headers={"cookie": f"ds_messages={response.cookies['ds_messages']}"})
    assert "Vous êtes déconnecté" in home.text


@pytest.mark.asyncio(loop_scope="session")
async def test_sessions_survive_a_restart(site, staff_db, environment):
    cookie = actor_cookie(await login(site))
    restarted = await new_site(staff_db)
    assert await logged_in(restarted, cookie)
    assert (await logout(restarted, cookie)).status_code == 302
    assert not await logged_in(site, cookie) and not await logged_in(restarted, cookie)
    mode = (staff_db.parent / "sessions.db").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


# --- failed logins -----------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_failed_logins_are_limited_per_address(site, hashing):
    attacker, colleague = "198.51.100.7", "198.51.100.8"
    for _ in range(5):
        wrong = await login(site, "mauvais", address=attacker)
        assert wrong.status_code == 200 and "Identifiant ou mot de passe incorrect." in wrong.text
        assert actor_set_cookie(wrong) is None
    assert len(hashing) == 5
    refused = await login(site, PASSWORD, address=attacker)  # the right password, during the wait
    assert refused.status_code == 429
    assert 25 <= int(refused.headers["retry-after"]) <= 30
    assert '<html lang="fr">' in refused.text and "Trop de tentatives de connexion" in refused.text
    assert "attendez 30 secondes" in refused.text
    assert "content-security-policy" in refused.headers  # rendered like every other page
    assert actor_set_cookie(refused) is None
    assert len(hashing) == 5  # no PBKDF2 while refused
    assert (await login(site, PASSWORD, address=colleague)).status_code == 302


@pytest.mark.asyncio(loop_scope="session")
async def test_a_success_clears_the_count(site):
    address = "198.51.100.9"
    for _ in range(2):
        for _ in range(4):
            refused = await login(site, "mauvais", address=address)
            assert refused.status_code == 200 and "Identifiant ou mot de passe incorrect." in refused.text
        accepted = await login(site, PASSWORD, address=address)
        assert accepted.status_code == 302 and await logged_in(site, actor_cookie(accepted))


def test_the_wait_doubles_up_to_fifteen_minutes_then_is_forgotten():
    limits = plugin()
    failures, now = limits.FailedLogins(), 1_000_000.0
    for _ in range(4):
        failures.attempt("a", now)
        assert failures.wait("a", now) == 0
    failures.attempt("a", now)
    waits = [failures.wait("a", now)]
    for _ in range(6):
        now += waits[-1]
        assert failures.wait("a", now) == 0
        failures.attempt("a", now)
        waits.append(failures.wait("a", now))
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    assert failures.wait("b", now) == 0
    now += 900 + 15 * 60 + 1  # the wait is over and 15 quiet minutes have passed
    failures.attempt("a", now)
    assert failures.wait("a", now) == 0
    failures.succeeded("a")
    assert "a" not in failures.by_address


def test_addresses_are_counted_by_ipv6_network_and_bounded():
    limits = plugin()

    def address(host):
        return limits.address_of({"client": (host, 1)})

    assert address("2001:db8::1") == address("2001:db8::ffff:2") != address("2001:db8:0:1::1")
    assert address("::ffff:192.0.2.1") == address("192.0.2.1") == "192.0.2.1"
    assert address(None) == "inconnue"
    failures = limits.FailedLogins()
    for n in range(limits.MAX_ADDRESSES + 50):
        failures.attempt(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", 0.0)
    assert len(failures.by_address) == limits.MAX_ADDRESSES


@pytest.fixture
def staff_server(staff_db, tmp_path, environment):
    """The staff site started as ``ciso serve --interne`` starts it (hash and secret from the environment)."""
    port = free_port()
    return lambda: site_serving(site_args(staff_db, port, staff=True), port)


def proxied_login(url, address, password) -> httpx.Response:
    """A login through a proxy that terminates HTTPS and says so (X-Forwarded-For, X-Forwarded-Proto)."""
    proxy = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=url) as c:
        form = c.get("/-/login", headers=proxy)
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
        return c.post(
            "/-/login",
            data={"username": "equipe", "password": password, "csrftoken": token},
            headers={**proxy, "cookie": f"ds_csrftoken={form.cookies['ds_csrftoken']}", "Origin": "https://" + url[7:]},
        )


def test_real_server_behind_a_proxy_and_restarted(staff_server):
    with staff_server() as url:
        for _ in range(5):
            assert proxied_login(url, "203.0.113.50", "mauvais").status_code == 200
        refused = proxied_login(url, "203.0.113.50", PASSWORD)
        assert refused.status_code == 429 and "Trop de tentatives" in refused.text
        accepted = proxied_login(url, "203.0.113.51", PASSWORD)  # another address behind the same proxy
        assert accepted.status_code == 302
        assert "secure" in [a.strip().lower() for a in actor_set_cookie(accepted).split(";")]
        cookie = actor_cookie(accepted)
    with staff_server() as url:  # a new process: same DATASETTE_SECRET, same sessions.db
        page = httpx.get(url + "/ciso/notes_internes", headers={"cookie": f"ds_actor={cookie}"})
        assert page.status_code == 200 and "<strong>equipe</strong>" in page.text


# --- cross-site requests -----------------------------------------------------------------------

CROSS_SITE = {
    "origin-evil": {"Origin": EVIL},
    "origin-null": {"Origin": "null"},
    "origin-lookalike": {"Origin": "http://localhost.evil.example"},
    "origin-other-scheme": {"Origin": "https://localhost"},  # another scheme is another origin
    "fetch-cross-site": {"Origin": HERE, "Sec-Fetch-Site": "cross-site"},
    "fetch-same-site": {"Origin": HERE, "Sec-Fetch-Site": "same-site"},  # a sibling subdomain
    "fetch-none": {"Origin": HERE, "Sec-Fetch-Site": "none"},  # no page sent it
    "referer-evil": {"Origin": None, "Referer": EVIL + "/formulaire"},
    "no-origin-no-referer": {"Origin": None},  # says nothing of where it comes from
}


def refused_as_cross_site(response):
    assert response.status_code == 403
    assert "Requête refusée" in response.text and "vient d&#39;un autre site" in response.text
    assert actor_set_cookie(response) is None


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("headers", CROSS_SITE.values(), ids=CROSS_SITE.keys())
async def test_cross_site_login_is_refused(site, hashing, headers):
    refused_as_cross_site(await login(site, address="203.0.113.1", headers=headers))
    assert hashing == []


@pytest.mark.asyncio(loop_scope="session")
async def test_cross_site_posts_are_refused_everywhere(site, hashing):
    cookie = actor_cookie(await login(site))
    async with client(site) as c:
        for path in ("/-/logout", "/-/password-tool", "/ciso", "/ciso/notes_internes"):
            token, cookies = await form_token(c, "/-/logout", f"ds_actor={cookie}")
            response = await c.post(
                path, data={"csrftoken": token, "password": "x"}, headers={"cookie": cookies, "Origin": EVIL}
            )
            refused_as_cross_site(response)
    assert await logged_in(site, cookie)  # the forged logout did not end the session
    assert hashing == [PASSWORD]  # the login's, not the password tool's


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": None, "Referer": HERE + "/-/login"}]
)
async def test_posts_from_the_site_itself_are_accepted(site, headers):
    response = await login(site, headers=headers)
    assert response.status_code == 302 and await logged_in(site, actor_cookie(response))


@pytest.mark.asyncio(loop_scope="session")
async def test_csrf_token_is_still_required(site, hashing):
    async with client(site) as c:
        _, cookie = await form_token(c)
        response = await c.post(
            "/-/login",
            data={"username": "equipe", "password": PASSWORD, "csrftoken": "faux"},
            headers={"cookie": cookie, "Origin": HERE},
        )
    assert response.status_code == 403 and "did not match" in response.text
    assert actor_set_cookie(response) is None and hashing == []


# --- the password tool, HTTP Basic, the secret -------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_password_tool_is_for_logged_in_staff_only(site, ds, hashing):
    async with client(site) as c:
        anonymous = await c.get("/-/password-tool")
        token, cookie = await form_token(c)
        posted = await c.post(
            "/-/password-tool", data={"password": "x", "csrftoken": token}, headers={"cookie": cookie, "Origin": HERE}
        )
    for response in (anonymous, posted):
        assert response.status_code == 403
        assert "réservé à l&#39;équipe connectée" in response.text and "pbkdf2" not in response.text
    assert hashing == []
    public = await ds.client.get("/-/password-tool")
    assert public.status_code == 404 and "pbkdf2" not in public.text

    staff = f"ds_actor={actor_cookie(await login(site))}"
    async with client(site) as c:
        page = await c.get("/-/password-tool", headers={"cookie": staff})
        assert page.status_code == 200 and "Empreinte de mot de passe" in page.text
        token, cookies = await form_token(c, "/-/password-tool", staff)
        made = await c.post(
            "/-/password-tool",
            data={"password": "nouveau", "csrftoken": token},
            headers={"cookie": cookies, "Origin": HERE},
        )
    assert made.status_code == 200
    assert re.search(r"pbkdf2_sha256\$480000\$[0-9a-f]+\$[A-Za-z0-9+/=]+", made.text)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("credentials", [base64.b64encode(f"equipe:{PASSWORD}".encode()).decode(), "YQ", "/w=="])
async def test_http_basic_credentials_are_ignored(site, credentials):
    async with client(site) as c:
        response = await c.get("/ciso/notes_internes", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 403 and "Connectez-vous" in response.text


@pytest.mark.parametrize("secret", [None, "", "trop-court"])
def test_staff_site_will_not_start_without_its_secret(tmp_path, monkeypatch, secret):
    from datasette_auth_passwords.utils import hash_password

    env = {PASSWORD_ENV: hash_password(PASSWORD, iterations=1000), SECRET_ENV: secret}
    monkeypatch.chdir(tmp_path)  # --interne writes only under ./interne/
    result = CliRunner().invoke(cli, ["serve", "--interne", "--data", str(DATA)], env=env)
    assert result.exit_code == 1
    assert "Erreur : définissez DATASETTE_SECRET (au moins 32 caractères" in result.output
    assert "secrets.token_hex(32)" in result.output
    assert not (tmp_path / "interne").exists()  # refused before building anything
