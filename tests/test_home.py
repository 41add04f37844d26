"""The home page: CISO in its plan's own words, what the site holds, the four doors, then the databases."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest
from ciso.fr import nombre_fr
from conftest import plan_lines, rows
from test_french_pages import assert_no_english

pytestmark = pytest.mark.asyncio


async def home(ds) -> str:
    response = await ds.client.get("/")
    assert response.status_code == 200
    return response.text


async def test_home_presents_ciso_in_the_plan_s_own_words(ds, built):
    """The first paragraph of the latest plan, word for word, with its line (for 2020-2021:
    « Depuis sa création en 1975, le Centre international de solidarité ouvrière… »)."""
    page = await home(ds)
    assert_no_english(page)
    latest = rows(built, "select id from plans order by id desc limit 1")[0]["id"]
    lines = plan_lines(built)[latest]
    first = next(i for i, line in enumerate(lines, 1) if i > 1 and line.strip() and not line.strip().isupper())
    quote = re.search(r"<blockquote>(.*?)</blockquote>", page, re.S)
    assert html.unescape(quote[1]) == lines[first - 1]
    assert f'<a class="ciso-ligne" href="/-/source/{latest}#L{first}">ligne {first}</a>' in page
    if latest == "2020-2021":
        assert lines[first - 1].startswith("Depuis sa création en 1975")


async def test_home_counts_come_from_the_database(ds, built):
    page = html.unescape(await home(ds))
    with sqlite3.connect(built) as conn:
        n = {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in ("activites", "organisations", "themes")
        }
    assert f"{nombre_fr(n['activites'])} activités" in page
    assert f"les {nombre_fr(n['organisations'])} organisations" in page
    assert f"{nombre_fr(n['themes'])} thèmes" in page


@pytest.mark.parametrize(
    "path",
    ["/-/progres", "/-/transparence", "/-/recherche", "/-/telechargements", "/-/api", "/-/dictionnaire"],
)
async def test_home_leads_to_the_doors(ds, path):
    assert f'href="{path}"' in await home(ds)


async def test_home_search_box_and_shortcuts(ds):
    page = await home(ds)
    assert '<form class="ciso-recherche" action="/-/recherche" method="get" role="search">' in page
    assert '<input type="search" id="ciso-q" name="q"' in page
    assert (
        '<a href="/ciso/statut_activites?statut_declare=conditionnel#facet-pays">Activités conditionnelles au financement, par pays</a>'
        in page
    )
    assert '<a href="/ciso/activites_par_pays"' in page and '<a href="/ciso/recherche"' in page
    # Datasette's database list is still there.
    assert re.search(r"\d+ lignes dans \d+ tables", page) and 'href="/ciso/activites"' in page


@pytest.mark.parametrize("path", ["/", "/-/recherche?q=securite", "/-/dictionnaire", "/-/api"])
async def test_new_pages_have_no_inline_style_or_script(ds, path):
    """Ready for a strict Content-Security-Policy."""
    page = (await ds.client.get(path)).text
    content = page[page.index('<section class="content">') : page.index("</section>\n</div>")]
    assert "<h1" in content and "<a href=" in content  # the page itself, not an empty shell
    assert "style=" not in content and "<script" not in content
