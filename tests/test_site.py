"""The published site: metadata, French pages, full-text search."""

from __future__ import annotations

import re
import sqlite3

import pytest
from ciso.site import load_metadata

FTS = re.compile(r"_fts($|_)")


def described_tables(db, types=("table", "view")):
    with sqlite3.connect(db) as conn:
        names = [
            r[0]
            for r in conn.execute("select name, type from sqlite_master order by name")
            if r[1] in types
            if not FTS.search(r[0]) and not r[0].startswith("sqlite_")
        ]
        return {n: [c[1] for c in conn.execute("select * from pragma_table_info(?)", [n])] for n in names}


def test_every_table_and_column_is_described(built):
    tables = load_metadata()["databases"]["ciso"]["tables"]
    missing = []
    for table, columns in described_tables(built).items():
        meta = tables.get(table) or {}
        if not meta.get("description"):
            missing.append(f"table {table}")
        if not meta.get("title"):
            missing.append(f"title of {table}")
        for column in columns:
            if not (meta.get("columns") or {}).get(column):
                missing.append(f"{table}.{column}")
    assert missing == []


def test_metadata_describes_nothing_that_does_not_exist(built):
    """Catches typos in column names (computed tables share column descriptions, so they are not checked)."""
    from ciso.rollups import ROLLUPS as VIEWS

    tables = load_metadata()["databases"]["ciso"]["tables"]
    actual = {t: c for t, c in described_tables(built, types=("table",)).items() if t not in VIEWS}
    tables = {t: meta for t, meta in tables.items() if t in actual}
    extra = [
        f"{t}.{c}" for t, meta in tables.items() for c in (meta.get("columns") or {}) if c not in actual.get(t, [])
    ]
    assert extra == []


@pytest.mark.asyncio
async def test_every_page_names_each_plan_and_its_hash_from_the_database(ds, built):
    """Adding a plan needs no edit of metadata.yml: the footer lists the plans of the `sources` table."""
    meta = load_metadata()
    assert "table sources" in meta["source"] and meta["source_url"] == "/-/transparence/sources"
    assert meta["license_url"].startswith("https://creativecommons.org/licenses/by/4.0")
    with sqlite3.connect(built) as conn:
        plans = conn.execute(
            "select p.id, s.fichier, s.sha256 from plans p join sources s on s.plan_id = p.id"
        ).fetchall()
    assert plans
    for path in ("/", "/ciso/activites", "/-/progres"):
        page = (await ds.client.get(path)).text
        for plan_id, fichier, sha in plans:
            assert f"Plan d'action {plan_id}</a>" in page and f"fichier {fichier}" in page and sha[:12] in page


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/ciso", "/ciso/activites", "/ciso/activites/2020-2021-1-4-2", "/ciso/plans"])
async def test_pages_are_french(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Licence :" in response.text and "Base construite le" in response.text
    assert "Plan d'action 2020-2021</a> du CISO" in response.text


@pytest.mark.asyncio
async def test_footer_build_date_is_french(ds):
    response = await ds.client.get("/ciso")
    match = re.search(r"Base construite le (\S+ \S+ \d{4})", response.text)
    assert match and re.match(
        r"(1er|\d{1,2}) (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) 20\d\d",
        match[1],
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "table,query,expected",
    [
        ("actions", "securite", "5.5"),
        ("activites", "haiti", "2.1.2"),
        ("passages", "equipe", "ÉQUIPE"),
        ("objectifs", "elargir", "Élargir la portée"),
    ],
)
async def test_full_text_search_ignores_accents(ds, table, query, expected):
    response = await ds.client.get(f"/ciso/{table}.json?_search={query}&_shape=array")
    assert response.status_code == 200
    assert any(expected in str(row.values()) for row in response.json()), response.json()


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ciso/activites/2020-2021-2-1-2", "/ciso/activites?numero=2.1.2"])
async def test_related_rows_are_linked_with_labels(ds, path):
    html = (await ds.client.get(path)).text
    # The action's title, not only its id, links to the action's row (row pages too).
    assert '<a href="/ciso/actions/2020-2021-2-1">2.1 Gestion de projets</a>' in html
    # JSON id arrays link every id to its row, with its name.
    assert '<a href="/ciso/pays/HT">Haïti</a>' in html and '<a href="/ciso/pays/MX">Mexique</a>' in html
    assert '<a href="/ciso/organisations/ickl">Institut culturel Karl-Lévêque (ICKL)</a>' in html


@pytest.mark.asyncio
async def test_sqlite_download_is_allowed(ds):
    response = await ds.client.get("/ciso.db")
    assert response.status_code == 200
    assert response.content[:16] == b"SQLite format 3\x00"
