"""HTTP caching and compression (plugins/caching.py): what a browser, nginx or a CDN may keep, how it
travels, and the staff site kept out.

The deployed proxy is tested for real in test_nginx.py; these tests drive Datasette in the process.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest
import pytest_asyncio
from ciso.build import build
from ciso.site import PASSWORD_ENV, ROOT, SETTINGS, datasette_kwargs
from conftest import DATA, on_the_wire, spy_queries
from datasette.app import Datasette

PAGE = f"public, max-age={SETTINGS['default_cache_ttl']}"
ONE_YEAR = "public, max-age=31536000, immutable"
WEAK_ETAG = re.compile(r'^W/"[0-9a-f]{16}-[0-9a-f]{16}"$')
PASSWORD = "mot-de-passe-de-test"

# Every kind of public answer: our pages, Datasette's pages, JSON, CSV, downloads, the database.
PAGES = [
    "/",
    "/ciso",
    "/ciso/activites",
    "/ciso/activites?_facet=objectif_id&_facet_array=pays",
    "/ciso/activites/2020-2021-1-1-1",
    "/ciso?sql=select+numero,+texte+from+activites+limit+5",
    "/ciso/recherche?q=securite",
    "/ciso/activites.json",
    "/ciso/activites.json?_shape=array",
    "/ciso/activites.csv",
    "/ciso/activites.csv?_stream=on&_dl=1",
    "/-/progres",
    "/-/progres.json",
    "/-/progres/2020-2021",
    "/-/progres/2020-2021/1",
    "/-/transparence",
    "/-/telechargements",
    "/-/dictionnaire",
    "/ciso/dictionnaire.csv",
    "/-/api",
    "/-/recherche?q=haiti",
    "/-/source/2020-2021",
    "/-/statuts.css",
    "/telechargements/csv/activites.csv",
    "/ciso.db",
    "/favicon.ico",
]
HTML_PAGES = [p for p in PAGES if not re.search(r"\.(json|csv|css|db|ico)\b", p)]


IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


async def etag(ds: Datasette) -> str:
    """The site's ETag (of uncompressed answers)."""
    return (await ds.client.get("/-/progres", headers=IDENTITY)).headers["etag"]


def gz(tag: str) -> str:
    return tag[:-1] + '-gz"'


def has_vary(response, name: str) -> bool:
    return any(name.lower() == part.strip().lower() for part in response.headers.get("vary", "").split(","))


# --- public answers ------------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", PAGES)
async def test_every_public_answer_is_cacheable_by_anyone_with_one_etag(ds, path):
    expected = await etag(ds)
    for method in ("GET", "HEAD"):
        for encoding in (IDENTITY, GZIP):
            response = await ds.client.request(method, path, cookies={"ds_actor": "x", "suivi": "y"}, headers=encoding)
            assert response.status_code == 200, (method, path)
            assert response.headers["cache-control"] == PAGE, (method, path)
            compressed = response.headers.get("content-encoding") == "gzip"
            assert response.headers["etag"] == (gz(expected) if compressed else expected), (method, path)
            assert not has_vary(response, "Cookie") and not has_vary(response, "Authorization"), path
            assert "set-cookie" not in response.headers, path
    assert WEAK_ETAG.match(expected)


@pytest.mark.asyncio(loop_scope="session")
async def test_static_files_versioned_for_a_year_others_for_a_day(ds):
    html = (await ds.client.get("/-/progres")).text
    versioned = [
        re.search(r'src="(/-/static-plugins/ciso-donnees/vendor/vega\.min\.js\?v=[0-9a-f]+)"', html)[1],
        re.search(r'href="(/-/static/app\.css\?[0-9a-f]+)"', html)[1],
    ]
    table = (await ds.client.get("/ciso/activites")).text
    versioned.append(re.search(r'data-js="(/-/static-plugins/datasette_vega/main\.[0-9a-f]+\.js)"', table)[1])
    for path in versioned:
        response = await ds.client.get(path, headers=IDENTITY)
        assert (response.status_code, response.headers["cache-control"]) == (200, ONE_YEAR), path
        assert response.headers["etag"] == await etag(ds)
    for path in ("/-/static-plugins/ciso-donnees/ciso.css", "/-/static/app.css"):  # unversioned: a day
        response = await ds.client.get(path)
        assert response.headers["cache-control"] == "public, max-age=86400", path


@pytest.mark.asyncio(loop_scope="session")
async def test_matching_if_none_match_gets_an_empty_304_before_the_page_is_computed(ds, monkeypatch):
    tag = await etag(ds)
    queries = spy_queries(monkeypatch)
    for path, cache_control in [
        ("/-/progres", PAGE),
        ("/ciso/activites.json", PAGE),
        ("/-/static-plugins/ciso-donnees/x.css?v=1", ONE_YEAR),
    ]:
        # weak comparison, lists of tags, either encoding: the 304 names the copy the client holds
        for asked, held in [(tag, tag), (tag.removeprefix("W/"), tag), (f'"autre", {tag}', tag), (gz(tag), gz(tag))]:
            for method in ("GET", "HEAD"):
                response = await ds.client.request(method, path, headers={"If-None-Match": asked, **GZIP})
                assert response.status_code == 304, (method, path, asked)
                assert response.content == b""
                assert response.headers["etag"] == held
                assert response.headers["cache-control"] == cache_control
                assert has_vary(response, "Accept-Encoding")
    assert queries == []
    fresh = await ds.client.get("/-/progres")
    assert queries, "the counter counts"
    assert fresh.status_code == 200


@pytest.mark.asyncio(loop_scope="session")
async def test_a_stale_or_star_validator_gets_the_full_page(ds):
    tag = await etag(ds)
    full = await ds.client.get("/-/progres", headers=IDENTITY)
    stale = tag.replace(tag[3:7], "0000" if tag[3:7] != "0000" else "1111")
    for asked in (stale, gz(stale), '"quelque-chose"', "*"):
        response = await ds.client.get("/-/progres", headers={"If-None-Match": asked, **IDENTITY})
        assert response.status_code == 200, asked
        assert response.content == full.content and response.headers["etag"] == tag


@pytest.mark.asyncio(loop_scope="session")
async def test_errors_are_cached_briefly_or_not_at_all(ds):
    for path in ("/nulle-part", "/ciso/nulle-part.json", "/-/progres/1999-2000", "/-/versions.json"):
        response = await ds.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["cache-control"] == "public, max-age=10", path
        assert "etag" not in response.headers
    for path in ("/ciso/activites?_sort=pas_une_colonne", "/ciso/activites?_timelimit=x"):
        response = await ds.client.get(path)
        assert response.status_code == 400, path
        assert response.headers["cache-control"] == "no-store", path
    refused = await ds.client.request("DELETE", "/-/progres")
    assert refused.status_code == 405 and refused.headers["cache-control"] == "no-store"


@pytest.mark.asyncio(loop_scope="session")
async def test_redirects_are_cached_like_pages(ds):
    response = await ds.client.get("/ciso/activites/")
    assert response.status_code in (301, 302)
    assert response.headers["cache-control"] == PAGE


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", HTML_PAGES)
async def test_html_pages_hold_no_per_request_value(ds, path):
    first, second = await ds.client.get(path), await ds.client.get(path)
    assert first.status_code == 200
    assert first.content == second.content, path
    assert "Requêtes :" not in first.text and " ms<" not in first.text


# --- compression ------------------------------------------------------------------------------

TEXT_ANSWERS = {
    "/ciso/activites": "text/html",
    "/-/progres": "text/html",
    "/ciso/activites.json?_shape=array": "application/json",
    "/ciso/activites.csv": "text/plain",  # Datasette's CSV without _dl (text/csv with it)
    "/ciso/activites.csv?_stream=on&_dl=1": "text/csv",
    "/-/static-plugins/ciso-donnees/ciso.css": "text/css",
}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", TEXT_ANSWERS)
async def test_text_answers_are_gzipped_for_clients_that_accept_it_and_only_for_them(ds, path):
    plain = await ds.client.get(path, headers=IDENTITY)
    assert plain.status_code == 200 and plain.headers["content-type"].startswith(TEXT_ANSWERS[path])
    assert "content-encoding" not in plain.headers and has_vary(plain, "Accept-Encoding")
    response, raw = await on_the_wire(ds, path, GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip" and has_vary(response, "Accept-Encoding")
    assert raw[:2] == b"\x1f\x8b", path  # gzip's magic number
    assert len(raw) < len(plain.content) / 2, path
    body = gzip.decompress(raw)
    if path.startswith("/ciso/activites.json"):  # the same rows (Datasette's JSON varies by its timing only)
        assert json.loads(body) == plain.json()
    else:
        assert body == plain.content, path


@pytest.mark.asyncio(loop_scope="session")
async def test_images_and_the_database_file_travel_as_they_are(ds):
    for path in ("/favicon.ico", "/ciso.db", "/telechargements/csv/activites.csv"):
        response = await ds.client.get(path, headers=GZIP)
        assert response.status_code == 200, path
        expected = "gzip" if path.endswith(".csv") else None
        assert response.headers.get("content-encoding") == expected, path


# --- the validator follows the database and the code --------------------------------------------


@pytest.fixture(scope="module")
def databases(built, tmp_path_factory):
    """The real database, an exact copy elsewhere (another replica), and one with one more row."""
    root = tmp_path_factory.mktemp("caching")
    same = root / "replique" / "ciso.db"
    changed = root / "modifiee" / "ciso.db"
    for copy in (same, changed):
        copy.parent.mkdir()
        shutil.copy(built, copy)
    with sqlite3.connect(changed) as conn:
        conn.execute("insert into construction (cle, valeur) values ('essai', 'une ligne de plus')")
    conn.close()
    return {"real": built, "same": same, "changed": changed}


async def site(db, **overrides) -> Datasette:
    ds = Datasette(immutables=[str(db)], **{**datasette_kwargs(), **overrides})
    await ds.invoke_startup()
    return ds


@pytest.mark.asyncio(loop_scope="session")
async def test_etag_changes_with_the_database_and_is_the_same_on_every_replica(databases):
    real, same, changed = [await etag(await site(databases[k])) for k in ("real", "same", "changed")]
    assert real == same
    assert changed != real
    assert changed.split("-")[1] == real.split("-")[1]  # same code, other data
    # a 304 only for the database the visitor saw
    response = await (await site(databases["changed"])).client.get(
        "/-/progres", headers={"If-None-Match": real, **IDENTITY}
    )
    assert response.status_code == 200 and response.headers["etag"] == changed


@pytest.mark.asyncio(loop_scope="session")
async def test_a_stale_inspect_file_does_not_keep_the_old_etag(databases, tmp_path):
    """``--inspect-file`` written before a rebuild carries the old hash: the ETag reads the file itself."""
    stale = tmp_path / "ciso-inspect.json"
    subprocess.run(
        [sys.executable, "-m", "datasette", "inspect", str(databases["real"]), "--inspect-file", str(stale)], check=True
    )
    inspect_data = json.loads(stale.read_text(encoding="utf-8"))
    real = await etag(await site(databases["real"]))
    rebuilt = await etag(await site(databases["changed"], inspect_data=inspect_data))
    assert rebuilt == await etag(await site(databases["changed"])) != real


@pytest.mark.asyncio(loop_scope="session")
async def test_etag_changes_with_the_code(databases, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    footer = templates / "_footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + "\n<!-- nouvelle version -->\n", encoding="utf-8")
    real = await etag(await site(databases["real"]))
    other_templates = await etag(await site(databases["real"], template_dir=str(templates)))
    metadata = {**datasette_kwargs()["metadata"], "title": "Un autre titre"}
    other_metadata = await etag(await site(databases["real"], metadata=metadata))
    assert len({real, other_templates, other_metadata}) == 3
    assert other_templates.split("-")[0] == real.split("-")[0]  # same data, other code


# --- the staff site ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("caching-staff") / "interne" / "ciso.db"
    build(DATA, db, private=True)
    return db


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(staff_db):
    from datasette_auth_passwords.utils import hash_password

    mp = pytest.MonkeyPatch()
    mp.setenv(PASSWORD_ENV, hash_password(PASSWORD, iterations=1000))
    ds = Datasette(immutables=[str(staff_db)], **datasette_kwargs(staff=True))
    await ds.invoke_startup()
    yield ds
    mp.undo()


async def staff_cookies(staff) -> dict:
    form = await staff.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
    response = await staff.client.post(
        "/-/login",
        data={"username": "equipe", "password": PASSWORD, "csrftoken": token},
        cookies={"ds_csrftoken": form.cookies["ds_csrftoken"]},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302
    return {"ds_actor": response.cookies["ds_actor"]}


@pytest.mark.asyncio(loop_scope="session")
async def test_every_staff_answer_is_private_and_never_stored(staff, ds):
    public_tag = await etag(ds)
    cookies = await staff_cookies(staff)
    html = (await staff.client.get("/-/progres", cookies=cookies)).text
    vega = re.search(r'src="(/-/static-plugins/ciso-donnees/vendor/vega\.min\.js\?v=[0-9a-f]+)"', html)[1]
    answers = {
        "anonymous page (403)": await staff.client.get("/-/progres"),
        "login form": await staff.client.get("/-/login"),
        "versioned static file": await staff.client.get(vega),
        "static file": await staff.client.get("/-/static/app.css"),
        "404": await staff.client.get("/nulle-part", cookies=cookies),
        "405": await staff.client.request("DELETE", "/", cookies=cookies),
        "refused post (403)": await staff.client.post("/-/login", headers={"Origin": "http://evil.example"}),
    }
    for path in ("/", "/-/progres", "/ciso/notes_internes", "/ciso/activites.json", "/ciso.db", "/-/transparence"):
        answers[path] = await staff.client.get(path, cookies=cookies, headers={"If-None-Match": public_tag})
        assert answers[path].status_code == 200, path
    for name, response in answers.items():
        assert response.headers["cache-control"] == "private, no-store", name
        assert "etag" not in response.headers, name
    assert {answers[k].status_code for k in ("static file", "versioned static file")} == {200}
