"""The API guide /-/api: in French, and every example is a real address that answers with data."""

from __future__ import annotations

import csv
import html
import io
import re

import feedparser
import pytest
from lxml import etree
from rdflib import Graph
from test_french_pages import assert_no_english

pytestmark = pytest.mark.asyncio


async def guide(ds) -> str:
    response = await ds.client.get("/-/api")
    assert response.status_code == 200
    return response.text


def examples(page: str) -> list[tuple[str, str]]:
    """(format, path) of every example link of the guide."""
    found = re.findall(r'<a class="ciso-exemple-api" data-format="(\w+)" href="([^"]+)">', page)
    return [(fmt, html.unescape(path)) for fmt, path in found]


def json_has_data(payload) -> bool:
    if isinstance(payload, list):
        return len(payload) > 0
    if payload.get("facet_results"):
        return any(f["results"] for f in payload["facet_results"].values())
    for key in ("rows", "groupes", "plans", "tables", "element", "pays", "region", "organisation", "organisations"):
        if key in payload:
            return len(payload[key]) > 0
    return len(payload) > 0 and all(isinstance(v, dict) for v in payload.values())  # _shape=object


async def test_guide_is_french(ds):
    page = await guide(ds)
    # JSON keys and parameters (rows, next_url…) are code, not prose.
    assert_no_english(re.sub(r"(?s)<(code|pre)>.*?</\1>", " ", page))
    assert "<h1>Guide de l'API</h1>" in page
    for shown in ("_shape=array", "_shape=objects", "_stream=on", "_size", "_next", "exact", "_search"):
        assert f"<code>{shown}" in page, shown
    assert '<li><a href="/-/api">Guide de l&#39;API</a></li>' in page  # menu


async def test_examples_cover_the_issue(ds):
    paths = [p for _, p in examples(await guide(ds))]
    assert len(paths) >= 30
    for needed in ("_shape=array", "_shape=objects", ".csv?_stream=on", "_next=", "pays_id__exact=MX", "_search="):
        assert any(needed in p for p in paths), needed
    # Every canned query whose tables exist is shown in JSON and in CSV.
    for name in ("activites_par_pays", "activites_conditionnelles", "recherche", "texte_du_plan"):
        assert any(p.startswith(f"/ciso/{name}.json") for p in paths), name
        assert any(p.startswith(f"/ciso/{name}.csv") for p in paths), name


async def test_every_example_answers_with_data(ds):
    page = await guide(ds)
    # Shown as full addresses of this site.
    assert "<code>http://localhost/ciso/activites.json?_shape=array</code>" in page
    for fmt, path in examples(page):
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        if fmt == "json":
            assert json_has_data(response.json()), path
        elif fmt == "csv":
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            assert len(rows) >= 2 and len(rows[1]) == len(rows[0]), path
        elif fmt == "atom":
            assert feedparser.parse(response.content).version == "atom10", path
        elif fmt == "jsonld":
            assert len(Graph().parse(data=response.text, format="json-ld")) > 0, path
        elif fmt == "ttl":
            assert len(Graph().parse(data=response.text, format="turtle")) > 0, path
        elif fmt == "xml":
            assert len(etree.fromstring(response.content)) > 0, path
        else:
            assert fmt == "db" and response.content[:16] == b"SQLite format 3\x00", path


async def test_next_page_example_gives_the_following_rows(ds):
    page = await guide(ds)
    first = next(p for _, p in examples(page) if p.endswith("?_size=20"))
    following = next(p for _, p in examples(page) if "_next=" in p)
    a, b = (await ds.client.get(first)).json(), (await ds.client.get(following)).json()
    assert len(a["rows"]) == 20 and b["rows"] and b["rows"][0] not in a["rows"]
    assert "http://localhost" + following == a["next_url"].replace("&_sort=ordre", "")
