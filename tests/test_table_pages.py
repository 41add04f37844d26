"""Datasette's table pages for people: the facets come before the column descriptions, which fold
into « Colonnes »; the heading says what the rows are, in words; each column header shows its French
label (metadata.yml, libelles_colonnes) over its code name; facet values break between words only."""

from __future__ import annotations

import html
import re

import pytest
from ciso.fr import nombre_fr
from ciso.model import ALL_TABLES
from ciso.site import load_metadata, staff_metadata
from conftest import rows

METADATA = load_metadata()
TABLES = METADATA["databases"]["ciso"]["tables"]


def test_every_column_has_a_french_label_and_every_table_a_noun():
    labels = staff_metadata()["libelles_colonnes"]
    public = set(METADATA["libelles_colonnes"])
    for table in ALL_TABLES:
        missing = [c for c in table.types if c not in (labels if table.private else public)]
        assert missing == [], table.name
    for name, described in staff_metadata()["databases"]["ciso"]["tables"].items():
        one, many = described["unite"]
        assert one and many, name
    assert "sensibilite" not in public  # a staff-only column is labelled in metadata-interne.yml only


@pytest.mark.asyncio
@pytest.mark.parametrize("table", ["activites", "statut_activites", "organisations", "avancement_objectifs"])
async def test_heading_in_words(ds, built, table):
    page = html.unescape((await ds.client.get(f"/ciso/{table}")).text)
    n = rows(built, f"select count(*) n from [{table}]")[0]["n"]  # noqa: S608 - a table name of ours
    one, many = TABLES[table]["unite"]
    order = TABLES[table].get("ordre_fr")
    sort_label = METADATA["libelles_colonnes"].get(TABLES[table].get("sort"), "").lower()
    words = f"{nombre_fr(n)} {many if n > 1 else one}, " + (order or f"par {sort_label}")
    assert f"<h3>{words}</h3>" in page, words
    assert f"<title>{TABLES[table]['title']} : {words} — CISO</title>" in page
    assert not re.search(r"\d+ lignes? triées? par", page)


@pytest.mark.asyncio
async def test_the_plan_order_and_a_chosen_order_in_words(ds, built):
    page = html.unescape((await ds.client.get("/ciso/activites")).text)
    n = rows(built, "select count(*) n from activites")[0]["n"]
    assert f"<h3>{n} activités, dans l'ordre du plan</h3>" in page
    page = html.unescape((await ds.client.get("/ciso/activites?_sort=texte&rang=1")).text)
    n = rows(built, "select count(*) n from activites where rang = 1")[0]["n"]
    assert f"<h3>{n} activités où rang = 1, par texte</h3>" in page


@pytest.mark.asyncio
async def test_facets_come_before_the_folded_column_descriptions(ds):
    page = (await ds.client.get("/ciso/statut_activites?_facet=statut")).text
    facets = page.index('class="facet-results"')
    columns = page.index('<details class="ciso-colonnes-table">')
    table = page.index('<table class="rows-and-columns">')
    assert facets < columns < table
    described = TABLES["statut_activites"]["columns"]
    assert f"<summary>Colonnes ({len(described)})</summary>" in page
    folded = html.unescape(page[columns : page.index("</details>", columns)])
    for name, description in described.items():
        assert f"<code>{name}</code>" in folded and description in folded, name
    assert '<dl class="column-descriptions">' not in page[:facets]
    # Each facet's title is its column's French label, the code name beside it.
    titles = re.findall(r'<p class="facet-info-name">\s*<strong>(.*?)<span', page, re.S)
    assert titles and all("<code" in t for t in titles), titles
    statut = next(t for t in titles if ">statut<" in t)
    assert html.escape(METADATA["libelles_colonnes"]["statut"], quote=True) in statut


@pytest.mark.asyncio
async def test_column_headers_show_the_french_label_and_the_code_name(ds):
    page = (await ds.client.get("/ciso/statut_activites")).text
    head = page[page.index("<thead>") : page.index("</thead>")]
    labels = METADATA["libelles_colonnes"]
    for column in ("objectif_id", "statut_de", "statut_declare", "echeance"):
        th = re.search(rf'<th [^>]*data-column="{column}"[^>]*>(.*?)</th>', head, re.S)
        assert th, column
        assert f'data-libelle="{html.escape(labels[column], quote=True)}"' in th[0]
        assert (
            html.escape(labels[column], quote=True) in th[1]
            and f'<code class="ciso-nom-colonne">{column}</code>' in th[1]
        )
    # Datasette's link column of a table without a primary key: « Lien », never « Link »
    link = re.search(r'<th [^>]*data-column="Link"[^>]*>(.*?)</th>', head, re.S)
    assert link and 'data-libelle="Lien"' in link[0] and link[1].strip() == "Lien"
    assert ">Link<" not in page and "Link\n" not in re.sub(r'data-column="Link"|col-Link', "", head)


@pytest.mark.browser
@pytest.mark.asyncio
async def test_facet_values_break_between_words_and_phone_labels_are_french(server, browser):
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-CA")
    page = await context.new_page()
    try:
        await page.goto(server + "/ciso/statut_activites?_facet=statut&_facet=action_id")
        style = await page.locator(".facet-info li").first.evaluate(
            "el => { const s = getComputedStyle(el); return [s.wordBreak, s.overflowWrap, s.hyphens]; }"
        )
        assert style[0] != "break-all" and style[2] != "auto", style
        # every facet value: no word of it is split over two lines
        split = await page.evaluate("""() => {
          const found = [];
          for (const a of document.querySelectorAll(".facet-info li a")) {
            const range = document.createRange(), text = a.firstChild;
            if (!text || text.nodeType !== 3) continue;
            let start = 0;
            for (const word of text.nodeValue.split(" ")) {
              if (word.length > 1) {
                range.setStart(text, start); range.setEnd(text, start + word.length);
                if (range.getClientRects().length > 1) found.push(word);
              }
              start += word.length + 1;
            }
          }
          return found;
        }""")
        assert split == []
        # on a phone each cell is labelled with its column's French label (ciso-colonnes.js)
        label = await page.locator("td.col-Link").first.evaluate("el => getComputedStyle(el, ':before').content")
        assert label == '"Lien"'
        label = await page.locator("td.col-objectif_id").first.evaluate("el => getComputedStyle(el, ':before').content")
        assert label == f'"{METADATA["libelles_colonnes"]["objectif_id"]}"'
        assert await page.locator("details.ciso-colonnes-table").get_attribute("open") is None  # folded
    finally:
        await context.close()


@pytest.mark.asyncio
async def test_cells_are_rendered_column_by_column_without_a_render_cell_hook(ds, built):
    """plugins/cells.py renders the columns that hold HTML; no plugin of ours implements render_cell,
    which Datasette would call for every cell of every page (make bench: the SQL page's cost)."""
    from datasette.plugins import pm

    ours = [pm.get_name(i.plugin) for i in pm.hook.render_cell.get_hookimpls()]
    assert [name for name in ours if name.startswith("ciso")] == []
    first = rows(built, "select * from activites where ligne is not null order by ordre limit 1")[0]
    arrays = rows(built, "select id, pays from activites where pays != '[]' order by ordre limit 1")[0]
    country = rows(built, "select id, nom from pays where id = json_extract(:p, '$[0]')", {"p": arrays["pays"]})[0]
    line_link = f'<a href="/-/source/{first["plan_id"]}#L{first["ligne"]}" title="Ligne {first["ligne"]}'
    table = (await ds.client.get("/ciso/activites?_size=max")).text
    assert line_link in table  # a plan line, on the table page (its row's plan_id read from the row)
    assert f'<a href="/ciso/pays/{country["id"]}">{html.escape(country["nom"])}</a>' in table  # an array of ids
    row_page = (await ds.client.get(f"/ciso/activites/{first['id']}")).text
    assert line_link in row_page
    objective = rows(built, "select id, libelle from objectifs where id = :o", {"o": first["objectif_id"]})[0]
    assert f'<a href="/ciso/objectifs/{objective["id"]}">{objective["libelle"]}</a>' in html.unescape(row_page)
    # Ad hoc SQL: the key as asked, a link to its row; a canned query's page labels it.
    sql = (
        await ds.client.get("/ciso", params={"sql": f"select objectif_id from activites where id = '{first['id']}'"})
    ).text
    assert f'<a href="/ciso/objectifs/{objective["id"]}">{objective["id"]}</a>' in sql
    markup = rows(built, "select texte_markup from activites where texte_markup like '%*%' limit 1")
    if markup:  # the plan's italics, where the plan has some
        shown = (
            await ds.client.get(
                "/ciso", params={"sql": "select texte_markup from activites where texte_markup like '%*%'"}
            )
        ).text
        assert "<em>" in shown


STOCK_CELLS = """
import asyncio, json, sys
sys._called_from_test = True  # Datasette 0.65 then loads none of the installed plugins: stock Datasette
from datasette.app import Datasette
from ciso.site import SETTINGS, load_metadata

async def main():
    ds = Datasette(immutables=[sys.argv[1]], metadata=load_metadata(), settings=SETTINGS)
    print(json.dumps([(await ds.client.get(path)).text for path in sys.argv[2:]]))

asyncio.run(main())
"""
CELL = re.compile(r"<td [^>]*>.*?</td>", re.S)


@pytest.mark.asyncio
async def test_rows_written_in_one_pass_are_the_cells_datasette_writes(ds, built):
    """plugins/cells.py writes the rows of table, row and query pages (``ciso_lignes``): every cell
    of a column we do not render is the very cell stock Datasette's templates write."""
    import json
    import subprocess
    import sys
    import urllib.parse

    first = rows(built, "select id from activites order by ordre limit 1")[0]["id"]
    sql = "select ordre, numero, texte, texte_markup, ligne, libelle from activites order by ordre limit 20"
    activity_columns = [r["name"] for r in rows(built, "select name from pragma_table_info('activites')")]
    pages = {  # path: what cells.py keys its choice by (page, table, columns)
        "/ciso/activites?_col=ordre&_col=numero&_col=texte&_col=pays&_size=20": (
            "table",
            "activites",
            {"id", "ordre", "numero", "texte", "pays"},
        ),
        "/ciso/objectifs?_col=ordre&_col=titre&_col=nb_actions": (
            "table",
            "objectifs",
            {"id", "ordre", "titre", "nb_actions"},
        ),
        "/ciso?" + urllib.parse.urlencode({"sql": sql}): (
            "query",
            None,
            {"ordre", "numero", "texte", "texte_markup", "ligne", "libelle"},
        ),
        f"/ciso/activites/{first}": ("row", "activites", set(activity_columns)),
    }
    paths = list(pages)
    done = subprocess.run(
        [sys.executable, "-c", STOCK_CELLS, str(built), *paths], capture_output=True, text=True, check=True
    )
    for path, stock in zip(paths, json.loads(done.stdout), strict=True):
        ours = (await ds.client.get(path)).text
        theirs, mine = CELL.findall(stock), CELL.findall(ours)
        assert len(theirs) == len(mine) > 0, path
        # What cells.py chose for this page: the positions of the columns it renders, and the columns.
        page, table, columns = pages[path]
        rendered, classes = next(
            v for k, v in ds._ciso_cells.items() if k[:2] == (page, table) and set(k[2]) == columns
        )
        ours_only = {i for i, _ in rendered}
        plain = [(a, b) for k, (a, b) in enumerate(zip(theirs, mine, strict=True)) if k % len(classes) not in ours_only]
        assert len(plain) >= 2, path  # these pages show plain columns too
        assert [a for a, _ in plain] == [b for _, b in plain], path
        assert ours_only or theirs == mine, path
