"""Downloads for allies: every table as CSV (plain and Excel), a Data Package v2, one zip.

``export(db_path, out_dir)`` writes, atomically (temporary directory, then rename):

* ``csv/{table}.csv``: UTF-8, comma-separated, with the French label of each
  coded column right after the code (``statut`` then ``statut_libelle``);
* ``excel/{table}.csv``: the same rows for spreadsheet software: UTF-8 with a
  byte-order mark (so Excel keeps the accents), semicolon-separated (the list
  separator of French-language Excel), CRLF line endings; a text cell that starts
  like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading ``'`` (see
  ``spreadsheet.py``), while ``csv/`` keeps the exact value;
* ``datapackage.json``: a Frictionless Data Package v2 describing ``csv/``
  (types, French descriptions, primary and foreign keys, ``enum`` constraints
  for codelists), validated with frictionless before anything is written;
* ``ciso-donnees.zip``: ``datapackage.json`` and ``csv/`` in one file;
* the useful rollups (``site.ROLLUP_DOWNLOADS``: ``activites_detaillees``, ``statut_activites``…) as
  CSV too, plain and for Excel, beside the tables' (not in the data package: their SQL is in ``calculs``);
* ``ciso-donnees.xlsx`` and ``ciso-donnees.ods``: every table as a sheet, with « Lisez-moi » and
  « Activités détaillées » first (``workbook.py``);
* ``iati-activities.xml``: the plans in the IATI Standard 2.03 (see ``iati.py``), checked
  against the standard's XSD and codelists; an invalid file stops the export.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

from . import __version__
from .catalogue import package_fields
from .clock import build_time
from .iati import FILE_NAME as IATI_FILE
from .iati import IatiError, export_xml
from .model import ARRAYS, BY_NAME, CODELISTS, INT, TABLES
from .site import DETAILED_ACTIVITIES, ROLLUP_DOWNLOADS, SPREADSHEETS, label_columns
from .spreadsheet import spreadsheet_row
from .staging import checkpoint, remove_stale, staging_path
from .workbook import DETAILED, Sheet, finish_ods, readme, start_ods, stop_ods, write_xlsx

BUNDLE = "ciso-donnees.zip"
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
TABLE_SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"

EXCLUDED = {"construction"}  # the build's own record, not data: no download (nor on /-/telechargements)


class ExportError(Exception):
    pass


def _label_name(column: str) -> str:
    return (column[:-3] if column.endswith("_id") else column) + "_libelle"


def labelled(labels: dict[str, str]) -> dict[str, str]:
    """{table: label column} of the reference lists (tables read from data/reference/, keyed by ``id``)
    that have a label column: the codes pointing at them get their label beside them in the CSV."""
    return {t: c for t, c in labels.items() if BY_NAME[t].source is not None and "id" in BY_NAME[t].types}


def table_columns(table, labels: dict[str, str]) -> list[dict]:
    """Columns of a table's export, label columns included, in order (``labels``: ``labelled``)."""
    columns = []
    for c in table.columns:
        columns.append({"name": c.name, "source": c.name, "kind": c.type})
        if c.ref in labels:
            columns.append({"name": _label_name(c.name), "label_of": c.name, "target": c.ref})
        if ARRAYS.get((table.name, c.name)) in labels:
            columns.append({"name": f"{c.name}_libelles", "labels_of": c.name, "target": c.items})
    return columns


def _labels(conn, labels: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        t: dict(conn.execute(f"select id, [{col}] from [{t}]").fetchall())  # noqa: S608 - names from our model
        for t, col in labels.items()
    }


def _rows(conn, table, columns, labels):
    names = list(table.types)
    select = ", ".join(f"[{n}]" for n in names)
    order = ", ".join(f"[{c}]" for c in (table.pk if isinstance(table.pk, tuple) else (table.pk,)))
    for record in conn.execute(f"select {select} from [{table.name}] order by {order}"):  # noqa: S608
        values = dict(zip(names, record, strict=True))
        out = []
        for c in columns:
            if "label_of" in c:
                code = values[c["label_of"]]
                out.append(labels[c["target"]].get(code) if code is not None else None)
            elif "labels_of" in c:
                ids = json.loads(values[c["labels_of"]] or "[]")
                out.append(" ; ".join(labels[c["target"]].get(i, i) for i in ids))
            else:
                out.append(values[c["source"]])
        yield out


def _field(table, column: dict, meta_columns: dict, enums: dict) -> dict:
    name = column["name"]
    if "label_of" in column:
        return {
            "name": name,
            "type": "string",
            "description": f"Libellé en français du code de la colonne {column['label_of']}.",
        }
    if "labels_of" in column:
        return {
            "name": name,
            "type": "string",
            "description": f"Libellés en français des identifiants de la colonne {column['labels_of']}, séparés par « ; ».",
        }
    declared = table.column(name)
    field = {"name": name, "description": meta_columns.get(name) or ""}
    if declared.date:
        field["type"] = "date"
    elif declared.is_list:
        field["type"] = "array"
    elif declared.type is INT:
        field["type"] = "integer"
    else:
        field["type"] = "string"
    if declared.ref in CODELISTS:
        field["constraints"] = {"enum": enums[declared.ref]}
    return field


def descriptor(conn, metadata: dict, hashes: dict[str, tuple[str, int]], tables) -> dict:
    meta_tables = metadata.get("databases", {}).get("ciso", {}).get("tables", {})
    enums = {t: [r[0] for r in conn.execute(f"select id from [{t}] order by id")] for t in CODELISTS}  # noqa: S608
    built = dict(conn.execute("select cle, valeur from construction").fetchall())
    plans = conn.execute("select id, fichier, sha256 from plans order by id").fetchall()
    resources = []
    exported = {t.name for t in tables}
    for table in tables:
        meta = meta_tables.get(table.name, {})
        columns = table_columns(table, labelled(label_columns(metadata)))
        pk = list(table.pk) if isinstance(table.pk, tuple) else [table.pk]
        schema = {
            "$schema": TABLE_SCHEMA_PROFILE,
            "fields": [_field(table, c, meta.get("columns") or {}, enums) for c in columns],
            "primaryKey": pk,
        }
        foreign_keys = [
            {"fields": [c], "reference": {"resource": other, "fields": [other_column]}}
            for c, other, other_column in table.foreign_keys
            if other in exported
        ]
        if foreign_keys:
            schema["foreignKeys"] = foreign_keys
        sha, size = hashes[table.name]
        resources.append(
            {
                "$schema": RESOURCE_PROFILE,
                "name": table.name,
                "type": "table",
                "path": f"csv/{table.name}.csv",
                "scheme": "file",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": meta.get("title") or table.name,
                "description": meta.get("description") or "",
                "hash": f"sha256:{sha}",
                "bytes": size,
                "schema": schema,
            }
        )
    return {
        "$schema": PROFILE,
        "name": "ciso-donnees",
        "title": metadata.get("title", "CISO — données ouvertes"),
        "description": (
            "Plans d'action du Centre international de solidarité ouvrière (CISO) : objectifs, actions, activités, "
            "partenaires, pays, financements, positions de plaidoyer, gouvernance et suivi de l'avancement. "
            "Chaque ligne cite le fichier source et la ligne du plan d'où elle vient."
        ),
        "version": __version__,
        **package_fields(conn, metadata),  # keywords, contributors (roles), homepage: catalogue.py
        "created": built.get("date") or build_time().isoformat(timespec="seconds"),
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "Creative Commons Attribution 4.0 International (licence proposée, à confirmer par le CISO)",
            }
        ],
        "sources": [
            {"title": f"Plan d'action {p[0]} du CISO (data/{p[1]}, sha256 {p[2]})", "path": f"data/{p[1]}"}
            for p in plans
        ],
        "resources": resources,
    }


def validate_package(path: Path, previous: Path | None = None, foreign_keys: bool = True) -> list[str]:
    """Frictionless validation of a datapackage.json (descriptor, data, keys); returns error messages.

    ``previous``: the datapackage.json of the export in place, validated when it was written. A
    resource whose entry there is the same (path, schema and the SHA-256 of its data), and whose
    referenced resources' entries are the same too, is as valid as it was: its data are not read
    again. A recorded progress update changes a table or two: the rebuild then validates those,
    and the running site shows the update sooner (ciso serve).

    ``foreign_keys=False``: the data are checked without their foreign keys (the descriptor still
    declares them, and is validated whole). The build does so: its CSV files are the database's
    tables as they are, key columns unchanged, and SQLite has checked every one of those keys
    (``PRAGMA foreign_key_check``, load.py), while frictionless reads the referenced tables again
    for each key of each table: two thirds of its time. tests/test_transparency.py validates the
    published zip with its keys (``frictionless validate``)."""
    from frictionless import FrictionlessException, Package

    package = Package(str(path))
    try:
        package.to_descriptor(validate=True)
    except FrictionlessException as exception:
        return [e.message for e in exception.to_errors()]
    unchanged = unchanged_resources(path, previous)
    messages = []
    for resource in package.resources:
        if resource.name in unchanged:
            continue
        if not foreign_keys and resource.schema:
            resource.schema.foreign_keys = []
        report = resource.validate()
        messages.extend(e.message for e in report.errors)
        for task in report.tasks:
            messages.extend(f"{task.name}: {e.message}" for e in task.errors)
    return messages


def unchanged_resources(path: Path, previous: Path | None) -> set[str]:
    """Names of the resources of ``path`` that need no new validation (see validate_package)."""
    if previous is None or not previous.is_file():
        return set()
    try:
        before = {r.get("name"): r for r in json.loads(previous.read_text(encoding="utf-8"))["resources"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()
    now = {r["name"]: r for r in json.loads(path.read_text(encoding="utf-8"))["resources"]}
    same = {name for name, entry in now.items() if before.get(name) == entry and entry.get("hash")}

    def referenced(entry: dict) -> set[str]:
        keys = (entry.get("schema") or {}).get("foreignKeys") or []
        return {k.get("reference", {}).get("resource") or entry["name"] for k in keys}

    return {name for name in same if referenced(now[name]) <= same}


def zip_time(built: str) -> tuple[int, ...]:
    """The zip entries' date: the build's (not the files' times), so the same build gives the same bytes."""
    when = dt.datetime.fromisoformat(built).astimezone(dt.UTC)
    return max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))  # the earliest date a zip can hold


def write_csv(folder: Path, name: str, header: list[str], rows: list[list]) -> tuple[str, int]:
    """``csv/{name}.csv`` (plain) and ``excel/{name}.csv`` (for spreadsheets) in ``folder``; returns
    the plain file's SHA-256 and size."""
    plain = folder / "csv" / f"{name}.csv"
    with plain.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    with (folder / "excel" / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(spreadsheet_row(row) for row in rows)
    data = plain.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def rollup_rows(conn, name: str) -> tuple[list[str], list[list]]:
    cursor = conn.execute(f"select * from [{name}] order by rowid")  # noqa: S608 - names from site.py
    return [d[0] for d in cursor.description], [list(r) for r in cursor.fetchall()]


def add_to_zip(bundle: zipfile.ZipFile, path: Path, name: str, when: tuple[int, ...]) -> None:
    entry = zipfile.ZipInfo(name, date_time=when)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16  # rw-r--r--, whatever the umask of the build
    bundle.writestr(entry, path.read_bytes())


def write_spreadsheets(conn, folder: Path, metadata: dict, built: str, tables: list[Sheet], detailed):
    """ciso-donnees.xlsx and .ods: « Lisez-moi », « Activités détaillées » (``detailed``: header and
    rows of the rollup ``activites_detaillees``), then ``tables`` (a sheet per table). The .ods is
    still being written by another process on return: pass what this returns to ``finish_ods``."""
    meta = metadata.get("databases", {}).get("ciso", {}).get("tables", {})
    titles = {t.name: (meta.get(t.name, {}).get("title") or t.name, meta.get(t.name, {}).get("description") or "")
              for t in tables}  # fmt: skip
    rollup = meta.get(DETAILED_ACTIVITIES, {})
    titles[DETAILED] = (rollup.get("title") or DETAILED, rollup.get("description") or "")
    sheets = [Sheet(DETAILED, tuple(detailed[0]), detailed[1]), *tables]
    sheets.insert(0, readme(conn, metadata, sheets, titles, built))
    when = dt.datetime.fromisoformat(built)
    xlsx, ods = SPREADSHEETS
    process = start_ods(folder / ods, sheets, metadata, when, zip_time(built))
    try:
        write_xlsx(folder / xlsx, sheets, metadata, when)
    except BaseException:
        stop_ods(process)
        raise
    return process


def export(db_path: Path, out_dir: Path, metadata: dict) -> dict:
    """Write every download into ``out_dir`` (replaced atomically); return a summary."""
    db_path, out_dir = Path(db_path), Path(out_dir)
    remove_stale(out_dir)
    tmp = staging_path(out_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "csv").mkdir(parents=True)
    (tmp / "excel").mkdir()
    ods = None
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            try:
                (tmp / IATI_FILE).write_bytes(export_xml(conn))
            except IatiError as e:
                count = len(e.messages)
                more = [f"… et {count - 20} autres"] if count > 20 else []
                raise ExportError(
                    f"{IATI_FILE} refusé ; aucun téléchargement n'a été écrit "
                    f"({count} problème{'s' if count > 1 else ''}) :\n" + "\n".join(e.messages[:20] + more)
                ) from None
            tables = [t for t in TABLES if t.name not in EXCLUDED]
            labelling = labelled(label_columns(metadata))
            labels = _labels(conn, labelling)
            hashes, sheets = {}, []
            for table in tables:
                columns = table_columns(table, labelling)
                header = [c["name"] for c in columns]
                rows = list(_rows(conn, table, columns, labels))
                hashes[table.name] = write_csv(tmp, table.name, header, rows)
                sheets.append(Sheet(table.name, tuple(header), rows))
            rollups = {name: rollup_rows(conn, name) for name in ROLLUP_DOWNLOADS}
            for name, (header, rows) in rollups.items():
                write_csv(tmp, name, header, rows)
            package = descriptor(conn, metadata, hashes, tables)
            ods = write_spreadsheets(conn, tmp, metadata, package["created"], sheets, rollups[DETAILED_ACTIVITIES])
        (tmp / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
        errors = validate_package(tmp / "datapackage.json", out_dir / "datapackage.json", foreign_keys=False)
        if errors:
            raise ExportError("le paquet de données est invalide : " + " ; ".join(errors[:10]))
        when = zip_time(package["created"])
        with zipfile.ZipFile(tmp / BUNDLE, "w") as bundle:
            add_to_zip(bundle, tmp / "datapackage.json", "datapackage.json", when)
            for table in tables:
                add_to_zip(bundle, tmp / "csv" / f"{table.name}.csv", f"csv/{table.name}.csv", when)
        try:
            finish_ods(ods)
        except RuntimeError as e:
            raise ExportError(f"{SPREADSHEETS[1]} n'a pas pu être écrit ({e})") from None
        checkpoint("export")  # test-only: killed with the downloads written, not yet in place
        if out_dir.exists():
            old = staging_path(out_dir, "old")
            os.replace(out_dir, old)
            checkpoint("echange")  # test-only: killed between the two renames (no export/ for a moment)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    finally:
        if ods is not None:
            stop_ods(ods)
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "tables": len(tables),
        "dossier": str(out_dir),
        "paquet": str(out_dir / BUNDLE),
        "iati": str(out_dir / IATI_FILE),
    }
