"""plugins/introspection.py: an immutable database's schema is read once per process, a mutable
database's every time, and the pages show the same schema as Datasette reads it."""

from __future__ import annotations

import pytest
from ciso_site.introspection import SCHEMA_QUESTIONS
from conftest import rows
from datasette.app import Datasette

pytestmark = pytest.mark.asyncio


async def test_the_schema_of_the_served_database_is_read_once(ds, built):
    db = ds.get_database("ciso")
    hops = []
    execute_fn = db.execute_fn

    async def counted(fn):
        hops.append(fn)
        return await execute_fn(fn)

    db.execute_fn = counted
    try:
        first = await db.table_columns("activites")
        assert first == [r["name"] for r in rows(built, "select name from pragma_table_info('activites')")]
        asked = len(hops)
        first.append("modified by a caller")
        for _ in range(3):
            again = await db.table_columns("activites")
            assert again == first[:-1]  # a fresh list each time: a caller's change does not stick
            await db.primary_keys("activites")
            await db.get_all_foreign_keys()
        await db.primary_keys("activites")
        assert len(hops) <= asked + 2  # primary_keys and get_all_foreign_keys asked once each, then kept
        path = "/ciso.json"  # the database page asks about every table
        await ds.client.get(path)
        before = len(hops)
        page = await ds.client.get(path)
        kept = len(hops) - before
        wrapped = {name: getattr(db, name) for name in SCHEMA_QUESTIONS}
        for name, answer in wrapped.items():
            setattr(db, name, answer.__wrapped__)  # as stock Datasette asks
        try:
            before = len(hops)
            assert (await ds.client.get(path)).json()["tables"] == page.json()["tables"]
            asked_again = len(hops) - before
        finally:
            for name, answer in wrapped.items():
                setattr(db, name, answer)
        # What is left: Datasette 0.65 looks each table up in sqlite_master for its permission checks.
        assert len(page.json()["tables"]) > 50 and kept * 2 < asked_again, (kept, asked_again)
    finally:
        db.execute_fn = execute_fn


async def test_every_schema_question_exists_and_a_mutable_database_is_asked_every_time(tmp_path, built):
    import sqlite3
    from contextlib import closing

    mutable = tmp_path / "mutable.db"
    with closing(sqlite3.connect(mutable)) as conn:
        conn.execute("create table t (id integer primary key)")
    datasette = Datasette([str(mutable)], immutables=[str(built)])
    await datasette.invoke_startup()
    fixed, changing = datasette.get_database("ciso"), datasette.get_database("mutable")
    for name in SCHEMA_QUESTIONS:
        assert hasattr(getattr(fixed, name), "__wrapped__"), name
        assert not hasattr(getattr(changing, name), "__wrapped__"), name
    assert await changing.table_names() == ["t"]
    with closing(sqlite3.connect(mutable)) as conn:
        conn.execute("create table u (id integer primary key)")
    assert await changing.table_names() == ["t", "u"]  # read again
