"""Datasette's own pages in French: index, database, table, facets, row, query and error pages.

The French copies of Datasette's templates live in templates/. Each test reads a real page
and checks both sides: the French wording is there, the English wording is gone.
"""

from __future__ import annotations

import html
import re
import sqlite3

import pytest
from ciso.fr import nombre_fr, octets_fr
from ciso.site import SETTINGS

# Phrases from Datasette's English templates; none may remain in the HTML once scripts and
# comments are removed (attributes included: titles, button values…).
ENGLISH_IN_HTML = [
    "Advanced export",
    "This data as",
    "Query took",
    "Links from other tables",
    "Custom SQL query",
    "View and edit SQL",
    "Next page",
    "Suggested facets",
    "Powered by",
    "Apply",
    " rows",
    " row ",
    "Data license",
    "Data source",
    "About:",
    "Search:",
    "Sort by",
    "Sort...",
    "remove filter",
    "- column -",
    "descending",
    "sorted by",
    "JSON shape",
    "CSV options",
    "download file",
    "expand labels",
    "stream all rows",
    "Export CSV",
    "Run SQL",
    "Format SQL",
    "Edit SQL",
    "Query parameters",
    "Download SQLite DB",
    "Table actions",
    "hidden table",
    "0 records",
    "0 results",
    "Table not found",
    "Error 404",
    ">home</a>",
    "newline-delimited",
    "These facets timed out",
]
# Single English words that also occur in markup (type="hidden", class="…"): checked on the
# text a visitor reads only.
ENGLISH_WORDS_IN_TEXT = ["hidden", "Download", "Save", "Queries", "Views", "rows", "row", "views", "home", "advanced"]


def without_scripts(page: str) -> str:
    page = re.sub(r"(?is)<script\b.*?</script>", " ", page)
    return re.sub(r"(?s)<!--.*?-->", " ", page)


def visible_text(page: str) -> str:
    """Text nodes plus the attributes a visitor sees (title, alt, placeholder, aria-label, button values)."""
    page = without_scripts(page)
    page = re.sub(r"(?is)<style\b.*?</style>", " ", page)
    shown = re.findall(r'\b(?:title|alt|placeholder|aria-label)="([^"]*)"', page)
    shown += re.findall(r'<(?:input|button)\b[^>]*\btype="(?:submit|button)"[^>]*\bvalue="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *shown]))


def assert_no_english(page: str):
    cleaned = without_scripts(page)
    assert [p for p in ENGLISH_IN_HTML if p in cleaned] == []
    words = set(re.findall(r"[^\W\d_]+", visible_text(page)))
    assert [w for w in ENGLISH_WORDS_IN_TEXT if w in words] == []


def count(db, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select count(*) from [{table}]").fetchone()[0]


def lignes(n: int) -> str:
    """French count of rows: 0 and 1 are singular."""
    return f"{nombre_fr(n)} ligne{'s' if n > 1 else ''}"


async def get(ds, path: str, status: int = 200) -> str:
    response = await ds.client.get(path)
    assert response.status_code == status, path
    assert_no_english(response.text)
    return response.text


def test_lignes_helper_is_french():
    assert [lignes(n) for n in (0, 1, 2, 1234)] == ["0 ligne", "1 ligne", "2 lignes", "1\u202f234 lignes"]


def test_file_sizes_in_french_units():
    """One formatter (ciso.fr.octets_fr) for every size shown: Datasette's steps of 1024, French units."""
    sizes = [None, 0, 1, 2, 1023, 1024, 413_696, 1_048_576, 5 * 1024**3 // 2, 3 * 1024**4]
    assert [octets_fr(n) for n in sizes] == [
        "", "0 octet", "1 octet", "2 octets", "1\u202f023 octets", "1,0 ko", "404,0 ko", "1,0 Mo", "2,5 Go", "3,0 To",
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_index_page(ds, built):
    page = await get(ds, "/")
    assert "<title>CISO — données ouvertes : ciso</title>" in page
    assert re.search(r"\d+ lignes dans \d+ tables, \d+ lignes dans \d+ tables masquées", page)
    shown = re.findall(r'<a href="/ciso/(\w+)" title="([^"]+)">\1</a>', page)
    assert len(shown) >= 3  # the largest tables, each with its count of rows in French
    for table, title in shown:
        assert title == lignes(count(built, table)), table
    assert "Licence des données :" in page and "Source des données :" in page and "À propos :" in page
    assert ">accueil</a>" in page


@pytest.mark.asyncio
async def test_database_page(ds, built):
    page = await get(ds, "/ciso")
    assert "<h3>Requête SQL personnalisée</h3>" in page
    assert 'value="Exécuter le SQL"' in page and "Mettre en forme le SQL" in page
    for table in ("activites", "plans", "objectifs"):
        assert f"<p>{lignes(count(built, table))}</p>" in page, table
    assert re.search(r"\.\.\. et <a [^>]*>\d+ tables? masquées?</a>", page)
    assert re.search(r"Télécharger la base SQLite : <a [^>]*>ciso\.db</a> <em>\d+,\d [KM]o</em>", page)


@pytest.mark.asyncio
async def test_table_page(ds, built):
    page = await get(ds, "/ciso/activites")
    n = count(built, "activites")
    heading = f"{nombre_fr(n)} activités, dans l'ordre du plan"  # the noun and order: metadata.yml (unite, ordre_fr)
    assert f"<title>Activités : {heading} — CISO</title>" in html.unescape(page)
    assert f"<h3>{heading}</h3>" in html.unescape(page)
    for french in (
        "Exporter ces données :",
        '(<a href="#export">options avancées</a>)',
        "<h3>Exportation avancée</h3>",
        "Forme du JSON :",
        "Options CSV :",
        'value="Exporter en CSV"',
        "ajouter les libellés",
        'value="Appliquer"',
        "Rechercher :",
        "- colonne -",
        "Trier…",
        "Trier par Numéro",
        "> décroissant</label>",
        "Voir et modifier le SQL",
        ">commence par</option>",
    ):
        assert french in page, french
    if n > SETTINGS["default_page_size"]:
        assert ">Page suivante</a>" in page


@pytest.mark.asyncio
async def test_table_page_with_facet(ds, built):
    page = await get(ds, "/ciso/activites?_facet=objectif_id")
    assert 'id="facet-objectif_id"' in page
    assert (
        'Thèmes <code class="ciso-nom-colonne">themes</code> (tableau)' in page
    )  # array facets configured in metadata.yml
    with sqlite3.connect(built) as conn:
        biggest = conn.execute("select count(*) n from activites group by objectif_id order by n desc").fetchone()[0]
    assert re.search(rf"</a> {nombre_fr(biggest)}</li>", page)


@pytest.mark.asyncio
async def test_table_description_is_french(ds, built):
    with sqlite3.connect(built) as conn:
        n = conn.execute("select count(*) from activites where objectif_id = '2020-2021-1' and rang >= 2").fetchone()[0]
    page = await get(ds, "/ciso/activites?objectif_id=2020-2021-1&rang__gte=2&_sort_desc=numero")
    expected = (
        f"{nombre_fr(n)} activités où objectif_id = « 2020-2021-1 » et rang ≥ 2, par numéro, en ordre décroissant"
    )
    assert f"<title>Activités : {expected} — CISO</title>" in html.unescape(page)
    assert "- retirer le filtre -" in page


@pytest.mark.asyncio
async def test_table_page_without_rows(ds):
    page = await get(ds, "/ciso/activites?id=inexistant")
    assert "<title>Activités : 0 activité où id = « inexistant », dans l'ordre du plan — CISO</title>" in html.unescape(
        page
    )
    assert '<p class="zero-results">Aucune ligne</p>' in page


@pytest.mark.asyncio
async def test_row_page(ds, built):
    page = await get(ds, "/ciso/activites/2020-2021-1-4-2")
    assert "<title>activites : 2020-2021-1-4-2 — ciso</title>" in page
    assert "<h2>Liens depuis d'autres tables</h2>" in page
    assert "Exporter ces données :" in page
    with sqlite3.connect(built) as conn:
        sql = "select count(*) from activites_instruments where activite_id = ?"
        n = conn.execute(sql, ["2020-2021-1-4-2"]).fetchone()[0]
    assert re.search(rf"{lignes(n)}</a>\s+dans activites_instruments \(colonne activite_id\)", page)


@pytest.mark.asyncio
async def test_query_page(ds):
    page = await get(ds, "/ciso?sql=select+1")
    assert "<title>Requête SQL : select 1 — CISO</title>" in page
    assert re.search(r"Requête SQL personnalisée renvoyant 1 ligne\s", page)
    assert ">masquer le SQL</a>" in page
    assert 'value="Exécuter le SQL"' in page and "Exporter ces données :" in page


@pytest.mark.asyncio
async def test_query_page_without_results_and_with_errors(ds):
    assert '<p class="zero-results">Aucun résultat</p>' in await get(ds, "/ciso?sql=select+*+from+plans+where+0")
    assert "Table inexistante : nope" in await get(ds, "/ciso?sql=select+*+from+nope", status=400)
    assert "Erreur de syntaxe près de « from »" in await get(ds, "/ciso?sql=select+from+plans", status=400)
    page = await get(ds, "/ciso?sql=update+plans+set+id=1", status=400)
    assert "<title>SQL invalide</title>" in page and "La requête doit être un SELECT." in page


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path,message",
    [
        ("/ciso/nonexistent-table", "Cette table n'existe pas."),
        ("/ciso/activites/inexistant", "Cette ligne n'existe pas."),
        ("/inexistant", "Aucune page à l'adresse /inexistant."),
    ],
)
async def test_error_page(ds, path, message):
    page = await get(ds, path, status=404)
    assert "<title>Page introuvable</title>" in page and "<h1>Page introuvable</h1>" in page
    assert message in html.unescape(page)


@pytest.mark.browser
@pytest.mark.asyncio
async def test_table_column_menu_in_chromium(server, page):
    """table.js writes its column menu in English; table.html translates it once the page has loaded."""
    await page.goto(server + "/ciso/activites?rang__gte=2")
    await page.locator("th.col-numero svg.dropdown-menu-icon").click()
    menu = await page.locator("body > .dropdown-menu").inner_text()
    assert "Trier en ordre croissant" in menu and "Masquer cette colonne" in menu and "Type : TEXT" in menu
    assert not re.search(r"Sort ascending|Sort descending|Facet by|Hide this column|Type:", menu)
    labels = await page.locator(".filter-row a[aria-label]").evaluate_all("els => els.map(e => e.ariaLabel)")
    assert labels and set(labels) == {"Retirer ce filtre"}
    assert page.console_errors == []


@pytest.mark.browser
@pytest.mark.asyncio
async def test_chart_controls_in_chromium(server, page):
    """datasette-vega writes its chart controls in English; static/vega-fr.js relabels them."""
    await page.goto(server + "/ciso/activites?_facet=objectif_id")
    button = page.locator("button", has_text="Afficher les options de graphique")
    await button.wait_for(timeout=10000)
    await button.click()
    form = page.locator("form.datasette-vega")
    await form.wait_for(timeout=10000)
    text = await form.inner_text()
    assert "Options de graphique" in text and "Colonne X" in text and "Nuage de points" in text
    assert not re.search(r"Charting options|X column|Y column|Scatter|Show charting", text)
    assert page.console_errors == []
