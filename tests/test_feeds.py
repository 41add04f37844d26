"""Atom feeds of the progress updates (plugins/feeds.py): valid Atom 1.0 (RFC 4287) for the whole site
and for each plan, linked from the progress pages, empty but valid with no update, and one entry
more once an update is recorded with ``ciso suivi ajouter`` and the site rebuilt."""

from __future__ import annotations

import re

import feedparser
import pytest
from ciso.build import build
from ciso.cli import cli
from ciso.site import datasette_kwargs
from click.testing import CliRunner
from conftest import plans_own_words, rows
from datasette.app import Datasette
from lxml import etree

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "http://localhost"
ATOM = "{http://www.w3.org/2005/Atom}"
UPDATES = "select * from suivi where source = 'mise_a_jour'"


async def read_feed(ds, path: str):
    """The feed at ``path``, checked against RFC 4287's structure; returns feedparser's reading."""
    response = await ds.client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    # atom:feed and each atom:entry: exactly one id, title and updated; an author for every entry.
    for element in [root, *root.findall(f"{ATOM}entry")]:
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, (path, name)
        assert element.findall(f"{ATOM}author") or root.findall(f"{ATOM}author"), path
        assert element.find(f"{ATOM}link[@rel='alternate']") is not None, path
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == BASE + path
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id.startswith("urn:uuid:") and parsed.feed.title and parsed.feed.updated_parsed
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)) and all(i.startswith("urn:uuid:") for i in ids)
    for entry in parsed.entries:
        assert entry.title and entry.updated_parsed and entry.link.startswith(BASE + "/-/progres/")
    dates = [e.updated_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)  # newest first
    return parsed


async def test_the_site_feed_is_valid_atom_with_every_update(ds, built):
    parsed = await read_feed(ds, "/-/suivi.atom")
    assert len(parsed.entries) == min(len(rows(built, UPDATES)), 100)
    assert {link.rel: link.href for link in parsed.feed.links}["alternate"] == BASE + "/-/progres"
    statuses = {r["id"]: r["libelle"] for r in rows(built, "select id, libelle from statuts")}
    for entry in parsed.entries:
        assert entry.tags[0].label == statuses[entry.tags[0].term]
        assert entry.title.endswith(" : " + entry.tags[0].label)


async def test_each_plan_has_its_feed(ds, built):
    for plan in rows(built, "select id from plans"):
        parsed = await read_feed(ds, f"/-/suivi/{plan['id']}.atom")
        assert len(parsed.entries) == min(len(rows(built, UPDATES + " and plan_id = ?", (plan["id"],))), 100)
        assert all(f"(plan {plan['id']})" in e.title for e in parsed.entries)
        assert {link.rel: link.href for link in parsed.feed.links}["alternate"] == f"{BASE}/-/progres/{plan['id']}"
    unknown = await ds.client.get("/-/suivi/1999-2000.atom")
    assert unknown.status_code == 404 and "Plan « 1999-2000 » introuvable" in unknown.text


async def test_progress_pages_link_their_feeds(ds, built):
    plan = rows(built, "select max(id) as id from plans")[0]["id"]

    def feeds(page: str) -> list[str]:
        return re.findall(r'<link rel="alternate" type="application/atom\+xml" href="([^"]+)"', page)

    overview = (await ds.client.get("/-/progres")).text
    assert feeds(overview) == ["/-/suivi.atom"]
    assert 'href="/-/suivi.atom" type="application/atom+xml">' in overview  # a visible link too
    for path in (f"/-/progres/{plan}", f"/-/progres/{plan}/1"):
        assert feeds((await ds.client.get(path)).text) == ["/-/suivi.atom", f"/-/suivi/{plan}.atom"], path


@pytest.mark.data_agnostic
async def test_recording_an_update_adds_an_entry(tmp_path):
    """An empty journal gives a valid, empty feed; ``ciso suivi ajouter`` then a rebuild, one entry."""
    data = plans_own_words(tmp_path / "data")

    async def site(name: str) -> Datasette:
        db = tmp_path / name / "ciso.db"
        build(data, db, export_dir=db.parent / "export")
        ds = Datasette(immutables=[str(db)], **datasette_kwargs(export_dir=db.parent / "export"))
        await ds.invoke_startup()
        return ds

    before = await read_feed(await site("avant"), "/-/suivi.atom")
    assert before.entries == []
    note, proof = "Lettre envoyée au ministère", "https://exemple.org/lettre"
    arguments = ["2020-2021", "1.4.2", "en_cours", "--date", "2020-11-15", "--avancement", "40"]
    result = CliRunner().invoke(
        cli, ["suivi", "ajouter", *arguments, "--note", note, "--preuve", proof, "--data", str(data)]
    )
    assert result.exit_code == 0, result.output
    after_site = await site("apres")
    after = await read_feed(after_site, "/-/suivi.atom")
    assert len(after.entries) == 1
    entry = after.entries[0]
    assert entry.title == "Activité 1.4.2 (plan 2020-2021) : En cours"
    assert entry.updated == "2020-11-15T00:00:00Z" and after.feed.updated == entry.updated
    assert entry.author == "équipe du CISO"
    assert entry.link == f"{BASE}/-/progres/2020-2021/1.4.2"  # the activity's own page
    assert {link.rel: link.href for link in entry.links}["related"] == proof
    content = entry.content[0].value
    for shown in ("Statut : En cours (avancement 40 %), le 15 novembre 2020.", f"Note : {note}", f'href="{proof}"'):
        assert shown in content, shown
    page = await after_site.client.get(entry.link.removeprefix(BASE))
    assert page.status_code == 200 and "<h1>Activité 1.4.2</h1>" in page.text
    assert "40&nbsp;%" in page.text and note in page.text  # the update behind its status, and its history
    assert len((await read_feed(after_site, "/-/suivi/2020-2021.atom")).entries) == 1
    # The entry's id is its journal line's: the same in a feed read under another address.
    elsewhere = await after_site.client.get("/-/suivi.atom", headers={"Host": "ailleurs.example"})
    assert feedparser.parse(elsewhere.content).entries[0].id == entry.id
