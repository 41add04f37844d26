"""Safe to put online: headers, redirects, read-only SQL, escaping, 404s, and the private staff site."""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import sqlite3
import time
import zipfile
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from ciso.build import build
from ciso.site import PASSWORD_ENV, datasette_kwargs, merge
from ciso.web import has_permission_rules
from conftest import DATA, FIXTURES
from datasette.app import Datasette

HOSTILE = FIXTURES / "hostile"
SECRETS = ("SECRET-INTERNE-7f3a", "SECRET-NOTE-91c2")
PASSWORD = "mot-de-passe-de-test"
PUBLIC_LOG_LINE = (
    '2020-12-01,2020-2021,1.4.3,en_cours,,"""><script>alert(7)</script> {{7*7}}",'
    '"https://example.org/x""onmouseover=""alert(8)",coordination\n'
)


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """A data directory with hostile strings and staff-only secrets; its public and staff databases."""
    root = tmp_path_factory.mktemp("security")
    data = root / "data"
    shutil.copytree(DATA, data)
    shutil.copy(HOSTILE / "plan-action-2021-2022.txt", data / "plans")
    with (data / "suivi" / "mises-a-jour.csv").open("a", encoding="utf-8") as log:
        log.write(PUBLIC_LOG_LINE)
    (data / "interne").mkdir(exist_ok=True)
    shutil.copy(HOSTILE / "mises-a-jour-interne.csv", data / "interne" / "mises-a-jour.csv")
    shutil.copy(HOSTILE / "notes.yml", data / "interne" / "notes.yml")
    public = root / "public" / "ciso.db"
    build(data, public, export_dir=public.parent / "export")
    staff = root / "interne" / "ciso.db"
    build(data, staff, private=True)
    return {"data": data, "public": public, "staff": staff}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def public(sites):
    ds = Datasette(immutables=[str(sites["public"])], **datasette_kwargs(export_dir=sites["public"].parent / "export"))
    await ds.invoke_startup()
    return ds


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(sites):
    from datasette_auth_passwords.utils import hash_password

    mp = pytest.MonkeyPatch()
    mp.setenv(PASSWORD_ENV, hash_password(PASSWORD))
    ds = Datasette(immutables=[str(sites["staff"])], **datasette_kwargs(staff=True))
    await ds.invoke_startup()
    yield ds
    mp.undo()


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- headers -------------------------------------------------------------------------------

KINDS = [
    ("/", "text/html"),
    ("/ciso/activites", "text/html"),
    ("/ciso/activites.json", "application/json"),
    ("/ciso/activites.csv", "text/plain"),
    ("/-/progres", "text/html"),
    ("/-/progres.json", "application/json"),
    ("/nulle-part", "text/html"),
    ("/ciso/nulle-part.json", "application/json"),
    ("/-/static-plugins/ciso-donnees/ciso.css", "text/css"),
    ("/telechargements/csv/activites.csv", "text/csv"),
]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path,kind", KINDS)
async def test_every_kind_of_response_carries_the_security_headers(public, path, kind):
    response = await public.client.get(path)
    assert response.headers["content-type"].startswith(kind)
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert len(response.headers.get_list("content-security-policy")) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_forbidden_responses_carry_the_headers_too(staff):
    response = await staff.client.get("/ciso/activites")
    assert response.status_code == 403
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def directive(csp: str, name: str) -> str:
    return next(part.strip() for part in csp.split(";") if part.strip().startswith(name + " "))


@pytest.mark.asyncio(loop_scope="session")
async def test_unsafe_eval_only_on_datasette_chart_pages(public):
    """datasette-vega (table and query pages) needs eval; our own charts use Vega's interpreter."""

    async def script_src(path):
        response = await public.client.get(path)
        return directive(response.headers["content-security-policy"], "script-src")

    for path in ("/ciso/activites", "/ciso?sql=select+1", "/ciso/activites_conditionnelles"):
        assert "'unsafe-eval'" in await script_src(path), path
    for path in (
        "/",
        "/-/progres",
        "/-/progres/2020-2021/1",
        "/-/transparence",
        "/-/source/2020-2021",
        "/-/telechargements",
        "/ciso/activites/2020-2021-1-1-1",
        "/-/nulle-part",
        "/ciso/nulle-part",
        "/ciso/activites.json",
        "/ciso/activites.csv",
        "/ciso.json?sql=select+1",
        "/-/static-plugins/ciso-donnees/ciso.css",
        "/telechargements/csv/activites.csv",
    ):
        assert "'unsafe-eval'" not in await script_src(path), path


@pytest.mark.asyncio(loop_scope="session")
async def test_no_inline_script_or_style_and_no_nonce(public):
    """Nothing inline to allow, so the policy is the same for every visitor and a page can be cached."""
    paths = ("/", "/ciso", "/ciso/activites", "/ciso?sql=select+1", "/-/progres", "/-/transparence", "/nulle-part")
    policies = set()
    for path in paths:
        response = await public.client.get(path)
        csp = response.headers["content-security-policy"]
        policies.add(csp.replace(" 'unsafe-eval'", ""))
        assert "nonce" not in csp and "'unsafe-inline'" not in csp, path
        assert directive(csp, "style-src").startswith("style-src 'self'"), path
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)([^>]*)>", response.text)
        assert inline == [], (path, inline)
        assert re.findall(r"<style\b", response.text) == [], path
        assert re.findall(r"\sstyle=", response.text) == [], path
        assert "nonce=" not in response.text, path
    assert len(policies) == 1
    second = await public.client.get("/-/progres")
    assert second.text == (await public.client.get("/-/progres")).text  # no per-request value


@pytest.mark.asyncio(loop_scope="session")
async def test_static_files_are_cached_for_long(public):
    html = (await public.client.get("/-/progres")).text
    versioned = re.search(r'src="(/-/static-plugins/ciso-donnees/vendor/vega\.min\.js\?v=[0-9a-f]+)"', html)[1]
    response = await public.client.get(versioned)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await public.client.get("/-/static/app.css")).headers["cache-control"].startswith("public, max-age=")


@pytest.mark.asyncio(loop_scope="session")
async def test_heavy_javascript_only_where_used(public):
    home = (await public.client.get("/")).text
    assert "datasette_vega" not in home and "vega.min.js" not in home
    assert "datasette_vega" in (await public.client.get("/ciso/activites")).text
    progress = (await public.client.get("/-/progres")).text
    assert "vega.min.js" in progress and "datasette_vega" not in progress


# --- redirects and introspection -------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "path", ["//example.com/", "/\\example.com/", "/%5Cexample.com/", "//example.com/ciso", "/\\/example.com"]
)
async def test_no_open_redirect(public, path):
    response = await public.client.get(path)
    location = response.headers.get("location", "")
    assert response.status_code in (301, 302, 404), path
    assert (response.status_code == 404) == (location == ""), path  # every redirect says where
    assert not location.startswith(("//", "/\\")), location
    assert urlsplit(location).netloc in ("", "localhost"), location  # never another site


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "path",
    [
        "/-/threads", "/-/databases", "/-/databases.json", "/-/plugins", "/-/plugins.json", "/-/settings",
        "/-/settings.json", "/-/versions", "/-/versions.json", "/-/patterns", "/-/allow-debug", "/-/messages",
        "/-/actor.json", "/-/permissions", "/-/login", "/-/password-tool",
    ],
)  # fmt: skip
async def test_introspection_pages_are_404_for_visitors(public, path):
    response = await public.client.get(path)
    assert response.status_code == 404
    if path.endswith(".json"):  # our French JSON error, not Datasette's data
        assert response.json() == {
            "ok": False,
            "error": f"Aucune page à l'adresse {path}.",  # a 404 names the address
            "status": 404,
            "title": "Page introuvable",
        }
    else:
        assert "<h1>Page introuvable</h1>" in response.text
        assert "Datasette" not in response.text.split("<footer")[0]


@pytest.mark.asyncio(loop_scope="session")
async def test_public_site_has_no_login_link(public):
    html = (await public.client.get("/ciso")).text
    assert '<li><a href="/-/progres">Avancement du plan</a></li>' in html  # the menu is there, without it
    assert "/-/login" not in html and "Log in" not in html and "Se connecter" not in html


# --- read-only SQL ---------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "sql",
    [
        "drop table activites",
        "insert into pays (id, nom) values ('ZZ', 'Nulle part')",
        "update activites set texte = 'x'",
        "delete from activites",
        "attach database '/tmp/autre.db' as autre",
        "pragma writable_schema = 1",
        "pragma journal_mode = wal",
        "vacuum into '/tmp/copie-ciso.db'",
        "create table t (x)",
        "select 1; drop table activites",
    ],
)
async def test_writes_through_sql_are_refused(public, sites, sql):
    before = digest(sites["public"])
    response = await public.client.get("/ciso.json", params={"sql": sql})
    assert response.status_code in (400, 403)
    assert response.json()["ok"] is False
    assert digest(sites["public"]) == before
    assert sqlite3.connect(sites["public"]).execute("select count(*) from activites").fetchone()[0] == 61


@pytest.mark.asyncio(loop_scope="session")
async def test_runaway_query_is_stopped_by_the_time_limit(public):
    sql = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    start = time.monotonic()
    response = await public.client.get("/ciso", params={"sql": sql})
    elapsed = time.monotonic() - start
    assert response.status_code == 400
    assert "trop de temps" in response.text or "interrompue" in response.text
    assert elapsed < 5  # the limit is 250 ms; 5 s leaves room for a loaded machine


# --- escaping --------------------------------------------------------------------------------

HOSTILE_PAGES = [
    "/-/progres",
    "/-/progres/2021-2022/1",
    "/-/progres/2020-2021/1",
    "/-/progres.json",
    "/-/source/2021-2022",
    "/-/transparence",
    "/ciso/activites?_search=atelier",
    "/ciso/activites/2021-2022-1-1-1",
    "/ciso/actions?plan_id=2021-2022",
    "/ciso/objectifs/2021-2022-1",
    "/ciso/passages?plan_id=2021-2022",
    "/ciso/suivi",
    "/ciso/lignes?plan_id=2021-2022",
    "/ciso?sql=select+texte+from+activites+where+plan_id+%3D+%272021-2022%27",
]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", HOSTILE_PAGES)
async def test_hostile_strings_are_escaped(public, path):
    response = await public.client.get(path)
    assert response.status_code == 200
    body = response.text
    if path.endswith(".json"):  # JSON carries the text as data, and is never sniffed as HTML
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["x-content-type-options"] == "nosniff"
        return
    for raw in (
        "<script>alert(",
        "<img src=x",
        "<svg onload",
        "<b>gras</b>",
        "<i>x</i>",
        'href="javascript:',
        'onmouseover="alert',
    ):
        assert raw not in body, raw


@pytest.mark.asyncio(loop_scope="session")
async def test_template_syntax_in_sources_stays_literal(public):
    body = (await public.client.get("/-/progres/2021-2022/1")).text
    assert "{{7*7}}" in body and "{{ config }}" in body
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in body
    source = (await public.client.get("/-/source/2021-2022")).text
    assert "{% raw %}{{7*7}}{% endraw %}" in source


# --- 404s ------------------------------------------------------------------------------------


def random_ids():
    return [
        pytest.param(secrets.token_hex(8), id="hasard"),  # a new one each run, under a stable test id
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%E2%80%AE",
        "x" * 3000,
        "1.2.3",
        "-1",
        "9999999999999999999999",
        "%3Cscript%3E",
        "'%20or%201=1--",
    ]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("value", random_ids())
async def test_random_ids_on_custom_routes_are_404_never_500(public, value):
    for path in (
        f"/-/progres/{value}",
        f"/-/progres/{value}/1",
        f"/-/progres/2020-2021/{value}",
        f"/-/progres/{value}/{value}.json",
        f"/-/source/{value}",
        f"/ciso/activites/{value}",
        f"/ciso/{value}",
        f"/{value}",
    ):
        response = await public.client.get(path, follow_redirects=True)  # Datasette may tilde-encode first
        assert response.status_code == 404, (path, response.status_code)
        assert "introuvable" in response.text and "Erreur interne" not in response.text, path


# --- the private staff site ------------------------------------------------------------------


# Each public address, what it answers, and what public text it must show: the secrets' absence only
# means something on a page that holds the rows they would be in (a 404 or a 500 would hold none).
PUBLIC_PATHS = {
    "/": (200, "Plan d'action"),
    "/ciso": (200, "suivi"),
    "/ciso/suivi": (200, ">1.4.3<"),  # the public log line (PUBLIC_LOG_LINE), where the staff log's would be
    "/ciso/suivi.json": (200, '"1.4.3"'),
    "/ciso/suivi.csv?_stream=on": (200, ",1.4.3,"),
    "/ciso/statut_activites.json?_shape=array&_size=max": (200, '"numero": "2.1.2"'),  # cancelled on the staff site
    "/ciso/notes_internes": (404, None),
    "/ciso/notes_internes.json": (404, None),
    "/ciso.json?sql=select+*+from+suivi": (200, '"1.4.3"'),
    "/ciso.json?sql=select+name+from+sqlite_master": (200, '"suivi"'),
    "/ciso/activites?_search=SECRET": (200, '<p class="zero-results">Aucune ligne</p>'),
    "/ciso/suivi?_search=SECRET": (200, ">1.4.3<"),  # no full-text index: the whole table
    "/-/recherche?q=SECRET": (200, "Aucun résultat pour « SECRET »"),
    "/-/recherche.json?q=note+de+travail": (200, '"total": 0'),
    "/-/recherche.json?q=partenaire+expos%C3%A9": (200, '"total": 0'),
    "/-/dictionnaire": (200, "suivi"),
    "/ciso/dictionnaire.csv?_stream=on": (200, "suivi"),
    "/_memory": (404, None),
    "/_memory.json?sql=select+1": (404, None),
    "/interne": (404, None),
    "/-/databases.json": (404, None),
    "/-/progres": (200, "Avancement"),
    "/-/progres.json": (200, '"plan_id": "2020-2021"'),
    "/-/progres/2020-2021/2": (200, 'id="activite-2.1.2"'),
    "/-/progres/2020-2021/2.json": (200, '"2.1.2"'),
    "/-/transparence": (200, "Transparence"),
    "/-/telechargements": (200, "suivi.csv"),
    "/telechargements/csv/suivi.csv": (200, ",1.4.3,"),
    "/telechargements/excel/suivi.csv": (200, ";1.4.3;"),
    "/telechargements/datapackage.json": (200, '"suivi"'),
}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", PUBLIC_PATHS)
async def test_private_data_is_unreachable_from_the_public_site(public, path):
    status, shown = PUBLIC_PATHS[path]
    response = await public.client.get(path)
    assert response.status_code == status, path
    if shown:
        assert shown in response.text, path
    for secret in SECRETS:
        assert secret.encode() not in response.content, path


@pytest.mark.asyncio(loop_scope="session")
async def test_public_downloads_and_files_hold_no_private_data(public, sites):
    database = (await public.client.get("/ciso.db")).content
    assert database[:15] == b"SQLite format 3"
    bundle = zipfile.ZipFile(BytesIO((await public.client.get("/telechargements/ciso-donnees.zip")).content))
    contents = b"".join(bundle.read(name) for name in bundle.namelist())
    for secret in SECRETS:
        assert secret.encode() not in database and secret.encode() not in contents
        assert secret.encode() not in sites["public"].read_bytes()
    assert [db.path for db in public.databases.values() if db.path] == [str(sites["public"])]
    assert "notes_internes" not in await public.get_database("ciso").table_names()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_table_rule_in_the_metadata_is_still_datasette_s_to_enforce(public, sites):
    """plugins/permissions.py skips Datasette's search of rules only when the metadata has none."""
    assert has_permission_rules(public) is False
    assert (await public.client.get("/ciso/suivi")).status_code == 200
    kwargs = datasette_kwargs(export_dir=sites["public"].parent / "export")
    rule = {"databases": {"ciso": {"tables": {"suivi": {"allow": {"id": "equipe"}}}}}}
    ruled = Datasette(immutables=[str(sites["public"])], **{**kwargs, "metadata": merge(kwargs["metadata"], rule)})
    await ruled.invoke_startup()
    assert has_permission_rules(ruled) is True
    assert (await ruled.client.get("/ciso/suivi")).status_code == 403
    assert (await ruled.client.get("/ciso/suivi.json")).status_code == 403
    assert (await ruled.client.get("/ciso/activites")).status_code == 200
    listing = (await ruled.client.get("/ciso")).text
    assert 'href="/ciso/activites"' in listing and 'href="/ciso/suivi"' not in listing


@pytest.mark.asyncio(loop_scope="session")
async def test_sql_and_instance_rules_in_the_metadata_are_still_enforced(public, sites):
    """Without any rule the public site answers at once; an allow_sql or allow block is Datasette's to enforce."""
    assert (await public.client.get("/ciso?sql=select+1")).status_code == 200
    assert (await public.client.get("/_internal")).status_code in (403, 404)
    kwargs = datasette_kwargs(export_dir=sites["public"].parent / "export")
    for rule, path in (
        ({"databases": {"ciso": {"allow_sql": {"id": "equipe"}}}}, "/ciso?sql=select+1"),
        ({"allow_sql": False}, "/ciso?sql=select+1"),
        ({"databases": {"ciso": {"allow": {"id": "equipe"}}}}, "/ciso/activites"),
        ({"allow": {"id": "equipe"}}, "/ciso"),
    ):
        ruled = Datasette(immutables=[str(sites["public"])], **{**kwargs, "metadata": merge(kwargs["metadata"], rule)})
        await ruled.invoke_startup()
        assert has_permission_rules(ruled) is True, rule
        assert (await ruled.client.get(path)).status_code == 403, (rule, path)


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_site_requires_login(staff):
    for path in (
        "/", "/ciso", "/ciso/notes_internes", "/-/progres", "/ciso.db", "/-/recherche?q=secret",
        "/-/dictionnaire", "/-/dictionnaire.csv", "/-/api", "/-/transparence", "/-/source/2020-2021",
        "/-/telechargements", "/-/progres/2020-2021/2.json",
    ):  # fmt: skip
        response = await staff.client.get(path)
        assert response.status_code == 403, path
        assert all(s not in response.text for s in SECRETS)
    assert "Connectez-vous" in (await staff.client.get("/ciso")).text


async def login(staff, password):
    form = await staff.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
    cookies = {"ds_csrftoken": form.cookies["ds_csrftoken"]}
    response = await staff.client.post(
        "/-/login",
        data={"username": "equipe", "password": password, "csrftoken": token},
        cookies=cookies,
        headers={"Origin": "http://localhost"},  # the staff site refuses cross-site posts (see test_staff_login.py)
    )
    return response


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_member_sees_public_and_private_rows(staff):
    wrong = await login(staff, "mauvais")
    assert "Identifiant ou mot de passe incorrect." in wrong.text and "ds_actor" not in wrong.cookies
    response = await login(staff, PASSWORD)
    assert response.status_code == 302
    cookies = {"ds_actor": response.cookies["ds_actor"]}
    notes = (await staff.client.get("/ciso/notes_internes", cookies=cookies)).text
    assert "SECRET-NOTE-91c2" in notes
    page = (await staff.client.get("/-/progres/2020-2021/2", cookies=cookies)).text
    assert "SECRET-INTERNE-7f3a" in page
    status = (await staff.client.get("/ciso/statut_activites.json?numero=2.1.2&_shape=array", cookies=cookies)).json()
    assert status[0]["statut"] == "annule" and status[0]["source"] == "interne"
    facets = (await staff.client.get("/ciso/activites.json?_facet_array=pays&_size=0", cookies=cookies)).json()
    assert any(r["value"] == "MX" for r in facets["facet_results"]["pays"]["results"])
    assert (await staff.client.get("/-/versions.json", cookies=cookies)).status_code == 200
