"""One data model (ciso/model.py): the schema, the shape checks, the downloads, the dictionary,
Datasette's labels and the links between rows all come from the same declaration."""

from __future__ import annotations

import json
import sqlite3

import pytest
from ciso import model
from ciso.cli import cli
from ciso.model import ALL_TABLES, BY_NAME, KEYS, SOURCED, TABLES
from ciso.rollups import ROLLUPS
from ciso.shapes import table_schema
from ciso.site import ROOT, label_columns, load_metadata, staff_metadata
from click.testing import CliRunner
from conftest import DATA, spy_queries


def query(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


SQL_TYPES = {str: "TEXT", int: "INTEGER"}


def test_the_database_is_the_declaration(built):
    for table in TABLES:
        info = query(built, "select * from pragma_table_info(?)", [table.name])
        assert [(c["name"], c["type"]) for c in info] == [(c.name, SQL_TYPES[c.type]) for c in table.columns]
        pk = [c["name"] for c in sorted(info, key=lambda c: c["pk"]) if c["pk"]]
        assert pk == ([table.pk] if isinstance(table.pk, str) else list(table.pk)), table.name
        keys = {
            (k["from"], k["table"], k["to"])
            for k in query(built, "select * from pragma_foreign_key_list(?)", [table.name])
        }
        assert keys == set(table.foreign_keys), table.name
    # Label columns are computed from the row's other columns.
    assert query(built, "select libelle from actions where numero = '5.5'")[0]["libelle"] == "5.5 Sécurité"


def test_every_rollup_declares_its_keys(built):
    """A rollup column named like a key of the model (or declared in rollups.KEYS) is a foreign key."""
    for name in ROLLUPS:
        columns = [c["name"] for c in query(built, "select * from pragma_table_info(?)", [name])]
        keys = {k["from"]: k["table"] for k in query(built, "select * from pragma_foreign_key_list(?)", [name])}
        for column in columns:
            if column in KEYS:
                assert keys.get(column) == KEYS[column], (name, column)
    keys = {k["from"]: k["table"] for k in query(built, "select * from pragma_foreign_key_list('statut_activites')")}
    assert keys["statut"] == keys["statut_declare"] == "statuts" and keys["action_id"] == "actions"
    assert query(built, "pragma foreign_key_check") == []


def test_metadata_describes_exactly_the_declared_columns(built):
    """metadata.yml is the one place for French descriptions and labels: of the declared columns, and no other."""
    tables = load_metadata()["databases"]["ciso"]["tables"]
    staff = staff_metadata()["databases"]["ciso"]["tables"]
    for table in ALL_TABLES:
        described = (staff if table.private else tables)[table.name]
        assert set(described["columns"]) == set(table.types), table.name
    # Each label column exists; the ones the build computes (``libelle``) are the labels of their table.
    for name, column in label_columns(load_metadata()).items():
        assert column in BY_NAME[name].types, name
    computed = {t.name for t in ALL_TABLES for c in t.columns if c.sql}
    assert computed <= {name for name, column in label_columns(load_metadata()).items() if column == "libelle"}


def test_the_downloads_are_the_declaration(built):
    package = json.loads((built.parent / "export" / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == {t.name for t in TABLES} - {"construction"}
    for name, resource in resources.items():
        table = BY_NAME[name]
        fields = [f["name"] for f in resource["schema"]["fields"]]
        labels = [f for f in fields if f not in table.types]  # the French label of each code
        assert [f for f in fields if f in table.types] == list(table.types), name
        assert all(f.endswith(("_libelle", "_libelles")) for f in labels), name
        for f in resource["schema"]["fields"]:
            if f["name"] in table.types:
                column = table.column(f["name"])
                assert (f["type"] == "array") == column.is_list and (f["type"] == "integer") == (column.type is int)
        keys = {(k["fields"][0], k["reference"]["resource"]) for k in resource["schema"].get("foreignKeys", [])}
        assert keys == {(c, other) for c, other, _ in table.foreign_keys if other in resources}, name
    organisations = [f["name"] for f in resources["organisations"]["schema"]["fields"]]
    assert organisations.index("type_libelle") == organisations.index("type") + 1
    # The codes of every reference list with a label column get their label (labels: metadata.yml).
    labels = label_columns(load_metadata())
    for name, resource in resources.items():
        for c in BY_NAME[name].columns:
            target = c.ref or c.items
            wanted = target in labels and BY_NAME[target].source is not None and "id" in BY_NAME[target].types
            fields = [f["name"] for f in resource["schema"]["fields"]]
            assert any(f in fields for f in (c.name.removesuffix("_id") + "_libelle", c.name + "_libelles")) == wanted


def test_the_shape_of_each_reference_file_is_the_declaration():
    for table in SOURCED:
        schema = table_schema(table)
        keys = {c.yaml_key for c in table.input_columns}
        keys |= {"plan", "citation", "source", "note"} if table.source.cited else set()
        keys |= {"alias"} if table.source.aliases else set()
        assert set(schema["properties"]) == keys, table.name
        assert set(schema["required"]) == {c.yaml_key for c in table.input_columns if c.required} | (
            {"citation"} if table.source.citation_required else set()
        )
    assert table_schema(BY_NAME["organisations"])["properties"]["pays"] == {"type": ["string", "null"]}


def test_one_name_per_module():
    """No module of the build has the name of a plugin (ciso/progress.py beside plugins/progress.py…)."""
    build = {p.stem for p in (ROOT / "scripts" / "ciso").glob("*.py")}
    plugins = {p.stem for p in (ROOT / "plugins").glob("*.py")}
    assert build & plugins == {"__init__"}
    assert "views" not in build and "rollups" in build  # tables computed at build are rollups, not views


@pytest.mark.asyncio
async def test_datasette_labels_rollups_itself(ds):
    # A rollup's key is labelled by Datasette itself, in facets and cells: the model's label column.
    page = (await ds.client.get("/ciso/statut_activites?_facet=action_id")).text
    assert 'data-facet-value="2020-2021-5-5">5.5 Sécurité</a>' in page
    page = (await ds.client.get("/ciso/statut_activites?action_id=2020-2021-5-5")).text
    assert '<a href="/ciso/actions/2020-2021-5-5">5.5 Sécurité</a>&nbsp;<em>2020-2021-5-5</em>' in page


@pytest.mark.parametrize(
    "file,old,new,message",
    [
        (
            "organisations.yml",
            "  nom: Fondation Louise-Grenier\n",
            "  nom: [Fondation]\n",
            "« nom » doit être un texte",
        ),
        (
            "organisations.yml",
            "  type: fondation\n",
            "  type: fondation\n  couleur: rouge\n",
            "champ « couleur » inconnu",
        ),
        ("instruments.yml", "  annee: 2011\n", "  annee: deux mille onze\n", "« annee » doit être un nombre entier"),
        ("pays.yml", "- id: MX\n", "- id: MEX\n", "« id » invalide : « MEX » (forme attendue ^[A-Z]{2}$)"),
        ("pays.yml", "  relation: partenaires\n", "  relation: amis\n", "« relation » inconnu : « amis »"),
        ("themes.yml", "  nom: Sécurité\n", "", "champ « nom » obligatoire manquant"),
    ],
    ids=["type", "unknown-key", "integer", "pattern", "enum", "required"],
)
def test_shape_errors_name_the_file_and_line(data_copy, file, old, new, message):
    path = data_copy / "reference" / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    found = [p for p in result.output.splitlines() if message in p]
    assert found and found[0].startswith(f"{path}:"), result.output
    assert line - 8 <= int(found[0].split(":")[1]) <= line + 1, found[0]  # the key's line, or its entry's
    assert "Traceback" not in result.output


def test_dates_stay_text_and_are_checked_by_their_form(data_copy):
    path = data_copy / "reference" / "periodes.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('  fin: "2021-03-31"', "  fin: 2021-03-31"), encoding="utf-8")  # unquoted
    assert CliRunner().invoke(cli, ["check", "--data", str(data_copy)]).exit_code == 0
    path.write_text(text.replace('  fin: "2021-03-31"', "  fin: 31/03/2021"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1 and "« fin » invalide : « 31/03/2021 »" in result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("path,queries", [("/-/transparence", 1), ("/-/transparence/partenaires", 2)])
async def test_transparency_reads_precomputed_tables(ds, monkeypatch, path, queries):
    """The overview reads the stored figures, a section page the figures and its lists, computed at build
    (rollups.py): one or two queries, no GROUP BY."""
    await ds.client.get(path)  # warm: Datasette's own first-request work
    executed = spy_queries(monkeypatch)
    baseline = (await ds.client.get("/-/api"), list(executed))[1]  # what every page runs (layout, footer)
    executed.clear()
    response = await ds.client.get(path)
    assert response.status_code == 200
    own = [sql for sql in executed if sql not in baseline]
    assert len(own) == queries and all("transparence_" in sql for sql in own), own
    assert not any("group by" in sql.lower() for sql in own)


def test_model_names_are_unique():
    names = [t.name for t in ALL_TABLES]
    assert len(names) == len(set(names))
    for table in ALL_TABLES:
        columns = [c.name for c in table.columns]
        assert len(columns) == len(set(columns)), table.name
        for c in table.columns:
            assert c.ref is None or c.ref in BY_NAME, (table.name, c.name)
    assert model.ACTIVITY_LINKS[1] == ("activites_pays", "pays_id", "pays", "pays")


def test_real_data_passes_the_shape_checks():
    assert CliRunner().invoke(cli, ["check", "--data", str(DATA)]).exit_code == 0
