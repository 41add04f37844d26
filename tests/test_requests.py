"""Hostile requests get a French 400, 404 or 405, never a 500, a traceback, a path or a server name."""

from __future__ import annotations

import html
import itertools
import re

import httpx
import pytest
from ciso.site import ROOT
from conftest import own_site

PAGES = [
    "/",
    "/ciso",
    "/ciso.json",
    "/ciso/activites",
    "/ciso/activites.json",
    "/ciso/activites.csv",
    "/ciso/activites/2020-2021-1-1-1",
    "/ciso/activites/2020-2021-1-1-1.json",
    "/ciso/recherche",
    "/ciso/lignes.json",
    "/-/progres",
    "/-/recherche",
]
# Datasette's own parameters, a few column filters, and ours.
PARAMETERS = [
    "_sort", "_sort_desc", "_through", "_size", "_next", "_facet", "_facet_array", "_facet_date",
    "_facet_size", "_search", "_search_texte", "_searchmode", "_where", "_col", "_nocol", "_labels",
    "_shape", "_json", "_timelimit", "_ttl", "_nofacet", "_nocount", "_fts_table", "_stream", "_dl",
    "_extra", "_trace", "_context", "ligne__gt", "ligne__in", "texte__arraycontains", "id__date",
    "texte__notlike", "ordre", "sql", "q",
]  # fmt: skip
VALUES = [
    "nope",
    "{}",
    "[1]",
    "-1",
    "99999999999999999999",
    "1e999",
    "\x00",
    "\x1b[31m",
    '"',
    "'; drop table x; --",
    '{"simple": "nope"}',
    '{"table": "nope", "column": "x", "value": 1}',
    '{"table": "activites_pays", "column": "nope", "value": "MX"}',
    "é" * 3000,
]


@pytest.fixture(scope="module")
def site(built, tmp_path_factory):
    with own_site(built, tmp_path_factory.mktemp("requests")) as process:
        with httpx.Client(base_url=process.url, timeout=30) as client:
            client.process = process
            yield client


def french_error(response) -> str:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["error"]
    assert 'lang="fr"' in response.text
    return html.unescape(re.search(r'<div class="ciso-erreur">(.*?)</div>', response.text, re.S)[1])


def requests_to_try():
    """Every parameter with every value on the table's JSON; on every other page, every parameter
    once, with the values taken in turn (the whole product would take minutes)."""
    yield from itertools.product(["/ciso/activites.json"], PARAMETERS, VALUES)
    values = itertools.cycle(VALUES)
    for page, parameter in itertools.product(PAGES, PARAMETERS):
        yield page, parameter, next(values)


def test_no_parameter_makes_a_500(site):
    seen = set()
    for page, parameter, value in requests_to_try():
        # A page of two rows where the parameter is not the page size: the same code paths, less to render.
        small = {"_size": "2"} if parameter != "_size" and page.startswith("/ciso/") else {}
        response = site.get(page, params={**small, parameter: value})
        assert response.status_code in (200, 302, 400, 404), (page, parameter, value, response.status_code)
        seen.add(response.status_code)
        if response.status_code == 400:
            assert french_error(response), (page, parameter, value)
    assert {200, 400} <= seen
    assert "Traceback" not in site.process.log.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize(
    "path,message",
    [
        ("/ciso/activites?_sort=nope", "Impossible de trier la table par « nope »"),
        ("/ciso/activites?_sort_desc=nope", "Impossible de trier la table par « nope »"),
        ("/ciso/activites?_through={}", "_through doit être un objet JSON"),
        ("/ciso/activites.json?_through=nope", "_through doit être un objet JSON"),
        ("/ciso/activites.json?_facet={}", "_facet doit être un nom de colonne"),
        ("/ciso/activites.json?_timelimit=nope", "_timelimit doit être un nombre entier"),
        ("/ciso/activites.json?ligne__gt=99999999999999999999", "Nombre trop grand"),
        ("/ciso/activites?_where=%00", "caractère de contrôle"),
        ('/ciso/activites.json?_through={"table":"activites_pays","column":"x","value":1}', "Colonne inexistante"),
        ('/ciso/activites.json?_through={"table":"plans","column":"id","value":1}', "_through invalide"),
    ],
)
def test_bad_parameters_get_a_french_400(site, path, message):
    response = site.get(path)
    assert response.status_code == 400
    assert message in french_error(response)


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "CONNECT", "PROPFIND", "POST", "BREW"])
@pytest.mark.parametrize(
    "path", ["/", "/ciso", "/ciso/activites", "/-/progres", "/-/static-plugins/ciso-donnees/ciso.css", "/-/login"]
)
def test_other_methods_get_a_french_405(site, method, path):
    response = site.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert f"La méthode {method} n'est pas permise" in french_error(response)


def test_options_and_head_answer(site):
    options = site.options("/ciso/activites")
    assert options.status_code == 204 and options.headers["allow"] == "GET, HEAD, OPTIONS"
    head = site.head("/-/progres")
    assert head.status_code == 200 and head.content == b""


def test_malformed_credentials_are_ignored(site):
    for value in ("Basic YQ", "Basic /w==", "Basic " + "A" * 5000, "Bearer x"):
        response = site.get("/ciso", headers={"Authorization": value})
        assert response.status_code == 200 and "activites" in response.text


def test_no_server_name_and_no_path_in_any_answer(site, built):
    paths = [
        *PAGES,
        "/ciso.json?sql=select+*+from+pragma_database_list",
        "/ciso.json?sql=select+*+from+nope",
        "/ciso?sql=select+*+from+pragma_database_list",
        "/ciso/nope",
        "/nope",
        "/-/nope",
        "/-/databases.json",
        "/-/versions.json",
        "/-/settings.json",
        "/-/plugins.json",
        "/-/threads.json",
        "/-/static-plugins/ciso-donnees/nope.css",
        "/telechargements/nope.csv",
        "/telechargements/datapackage.json",
    ]
    secrets = {str(ROOT), str(built.parent), str(built)}
    for path in paths:
        response = site.get(path)
        assert "server" not in response.headers, path
        assert response.status_code < 500, path
        assert not [s for s in secrets if s in response.text], path
    rows = site.get("/ciso.json?sql=select+file+from+pragma_database_list&_shape=array").json()
    assert rows == [{"file": None}]
