"""How catalogues and search engines describe the data: one description, three vocabularies.

* ``package_fields``: what ``datapackage.json`` says beyond its tables (keywords, contributors
  by role, homepage), read by ``export.py``;
* ``schema_org``: a schema.org ``Dataset`` (JSON-LD), the one Google's Dataset Search reads, put
  on the home and downloads pages by plugins/findability.py;
* ``dcat``: a DCAT-AP catalogue (JSON-LD with its context inline, so no parser fetches anything),
  served at /-/catalogue.jsonld (and as Turtle and RDF/XML) for data.gouv.fr, Données Québec or
  any CKAN with ckanext-dcat to harvest.

Nothing about CISO is written here: the organisation's name comes from the ``organisations``
table, the periods from ``periodes``, the countries where CISO works from ``pays`` (``relation``
« partenaires » or « siege »; not those the plan only mentions), the plans' files and SHA-256
from ``sources``, the keywords from ``metadata.yml`` (``catalogue``) and the ``themes`` table,
the distributions from the files the build wrote (``export/``, its ``datapackage.json``).

Addresses: every function takes ``url``, which turns a path of the site (``/-/telechargements``)
into the address to print; plugins/findability.py decides it (the configured public address,
else the request's own, see there).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from html import unescape
from pathlib import Path

from .iati import PLACEHOLDER_SITE, settings_of
from .site import DOWNLOADS, ROLLUP_DOWNLOADS, SPREADSHEETS

PUBLISHER = "ciso"  # id of CISO in the organisations table (also IATI's reporting organisation)
WORK_RELATIONS = ("partenaires", "siege")  # pays.relation: where CISO works or has partners, and its own country
PACKAGE = "datapackage.json"
BUNDLE = "ciso-donnees.zip"
IATI = "iati-activities.xml"
DATASET_ID = "ciso-donnees"  # the data package's name

# Media types (IANA) and the EU's file-type vocabulary, which DCAT-AP recommends for dct:format.
IANA = "http://www.iana.org/assignments/media-types/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_FRENCH = "http://publications.europa.eu/resource/authority/language/FRA"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
FORMATS = {  # file suffix: (media type, EU file type or None)
    ".db": ("application/vnd.sqlite3", None),
    ".zip": ("application/zip", "ZIP"),
    ".json": ("application/json", "JSON"),
    ".xml": ("application/xml", "XML"),
    ".csv": ("text/csv", "CSV"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", "ODS"),
}
SPREADSHEET_TEXTS = {
    ".xlsx": ("Toutes les tables dans un classeur Excel", "Excel"),
    ".ods": ("Toutes les tables dans un classeur LibreOffice (OpenDocument)", "LibreOffice Calc"),
}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "@language": "fr",
}


# --------------------------------------------------------------------------- what the database says


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def site_address(conn: sqlite3.Connection) -> str | None:
    """The public address of the site (``adresse_site`` of data/reference/iati.yml, or the variable
    CISO_IATI_ADRESSE_SITE at build time), without a trailing slash; None while it is unknown."""
    settings = settings_of(conn)
    return None if settings["adresse_provisoire"] else settings["adresse_site"]


def facts(conn: sqlite3.Connection) -> dict:
    """What the catalogue says that the database knows."""
    publisher = _rows(conn, "select nom, sigle from organisations where id = ?", (PUBLISHER,))
    marks = ",".join("?" * len(WORK_RELATIONS))
    return {
        "organisation": publisher[0] if publisher else None,
        "periodes": _rows(
            conn,
            "select p.id as plan_id, pe.debut, pe.fin, pe.nature from plans p "
            "left join periodes pe on pe.plan_id = p.id order by p.id",
        ),
        "pays": _rows(conn, f"select id, nom from pays where relation in ({marks}) order by nom", WORK_RELATIONS),
        "plans": _rows(conn, "select plan_id, fichier, sha256 from sources where type = 'plan' order by plan_id"),
        "themes": [r["nom"] for r in _rows(conn, "select nom from themes order by nom")],
        "roles_suivi": [
            r["par"]
            for r in _rows(
                conn,
                "select distinct par from suivi where source = 'mise_a_jour' and coalesce(par, '') != '' order by par",
            )
        ],
        "construction": dict(conn.execute("select cle, valeur from construction").fetchall()),
        "adresse": site_address(conn),
    }


def keywords(metadata: dict, themes: list[str]) -> list[str]:
    """The editorial keywords of metadata.yml (``catalogue.mots_cles``), then the plans' themes."""
    words = list((metadata.get("catalogue") or {}).get("mots_cles") or [])
    return words + [t for t in themes if t not in words]


def organisation_name(facts: dict) -> str | None:
    org = facts["organisation"]
    if not org:
        return None
    return f"{org['nom']} ({org['sigle']})" if org.get("sigle") else org["nom"]


def description(metadata: dict) -> str:
    """The site's description (metadata.yml ``description_html``), as plain text."""
    text = unescape(re.sub(r"<[^>]+>", "", metadata.get("description_html") or metadata.get("description") or ""))
    return " ".join(text.split())


# --------------------------------------------------------------------------- the data package


def package_fields(conn: sqlite3.Connection, metadata: dict) -> dict:
    """``keywords``, ``contributors`` (roles, never a person's name) and ``homepage`` of the data package.

    The homepage is the configured public address, or the same reserved placeholder as the IATI
    file (``.invalid`` never resolves) while the address is unknown."""
    f = facts(conn)
    contributors = []
    if organisation_name(f):
        contributors.append({"title": organisation_name(f), "roles": ["creator", "publisher"]})
    # Who recorded the progress updates: roles such as « équipe du CISO » (ciso suivi ajouter --par).
    contributors += [{"title": role, "roles": ["dataCollector"]} for role in f["roles_suivi"]]
    return {
        "keywords": keywords(metadata, f["themes"]),
        "contributors": contributors,
        "homepage": (f["adresse"] or PLACEHOLDER_SITE) + "/",
    }


# --------------------------------------------------------------------------- the files


def distributions(database_path: str, database_url_path: str, folder: Path | None) -> list[dict]:
    """Every file a reader can download: the SQLite database, then (when the build wrote them)
    the spreadsheet files, the zip, the IATI file, the data package, each table's CSV and each
    rollup's (``site.ROLLUP_DOWNLOADS``; title and description from the database's
    ``dictionnaire_tables``), with size and SHA-256 when known.
    Paths are the site's (``/telechargements/csv/actions.csv``)."""

    def entry(name, title, text, path, size, sha256=None):
        media, eu = FORMATS[Path(path).suffix]
        return {"nom": name, "titre": title, "description": text, "chemin": path, "media": media,
                "format_ue": eu, "octets": size, "sha256": sha256}  # fmt: skip

    db = Path(database_path)
    found = [
        entry(
            "base",
            "La base SQLite entière",
            "Toutes les tables, vues et index de recherche plein texte, à ouvrir avec sqlite3, Datasette ou "
            "DB Browser for SQLite.",
            database_url_path,
            db.stat().st_size if db.is_file() else None,
        )
    ]
    if folder is None:
        return found
    base = f"/{DOWNLOADS}"

    def size(name):
        return (folder / name).stat().st_size if (folder / name).is_file() else None

    def sha256(name):
        return hashlib.sha256((folder / name).read_bytes()).hexdigest()

    for name in SPREADSHEETS:
        if size(name) is not None:
            title, software = SPREADSHEET_TEXTS[Path(name).suffix]
            text = (
                f"Une feuille par table, à ouvrir avec {software}, précédée de « Lisez-moi » (licence, sources, "
                "contenu de chaque feuille) et de « Activités détaillées » (chaque activité avec son objectif, son "
                "action, son statut, ses pays, partenaires et thèmes)."
            )
            found.append(entry(f"tableur-{Path(name).suffix[1:]}", title, text, f"{base}/{name}", size(name),
                               sha256(name)))  # fmt: skip
    if size(BUNDLE) is not None:
        found.append(
            entry(
                "zip",
                "Toutes les tables en CSV, avec leur description (paquet de données)",
                "Le paquet de données Frictionless (datapackage.json) et le CSV de chaque table, en un fichier.",
                f"{base}/{BUNDLE}",
                size(BUNDLE),
            )
        )
    if size(IATI) is not None:
        found.append(
            entry(
                "iati",
                "Les actions des plans selon la norme IATI 2.03",
                "Fichier XML de la norme de transparence de l'aide (IATI), vérifié contre son schéma.",
                f"{base}/{IATI}",
                size(IATI),
            )
        )
    if size(PACKAGE) is None:
        return found
    package = json.loads((folder / PACKAGE).read_text(encoding="utf-8"))
    found.append(
        entry(
            "paquet",
            "Description des tables (Frictionless Data Package)",
            "Types, descriptions, clés primaires et étrangères et valeurs permises de chaque table.",
            f"{base}/{PACKAGE}",
            size(PACKAGE),
        )
    )
    for resource in package.get("resources", []):
        if size(resource["path"]) is None:
            continue
        digest = resource.get("hash", "")
        found.append(
            entry(
                f"csv-{resource['name']}",
                f"{resource.get('title') or resource['name']} (CSV)",
                resource.get("description") or "",
                f"{base}/{resource['path']}",
                size(resource["path"]),
                digest.removeprefix("sha256:") if digest.startswith("sha256:") else None,
            )
        )
    rollups = [name for name in ROLLUP_DOWNLOADS if size(f"csv/{name}.csv") is not None]
    described = _rollup_titles(database_path, rollups) if rollups else {}
    for name in rollups:
        title, text = described.get(name, (name, ""))
        path = f"csv/{name}.csv"
        found.append(entry(f"csv-{name}", f"{title} (CSV)", text, f"{base}/{path}", size(path), sha256(path)))
    return found


def _rollup_titles(database_path: str, names: list[str]) -> dict[str, tuple[str, str]]:
    """{rollup: (title, description)} from the data dictionary the build wrote (metadata.yml's words)."""
    marks = ",".join("?" * len(names))
    with closing(sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)) as conn:
        found = conn.execute(
            f'select "table", titre, description from dictionnaire_tables where "table" in ({marks})',  # noqa: S608
            names,
        ).fetchall()
    return {name: (title or name, text or "") for name, title, text in found}


# --------------------------------------------------------------------------- schema.org (Google)


def period_bounds(periods: list[dict]) -> tuple[str, str] | None:
    """From the first day of the first plan to the last day of the last (table periodes)."""
    starts = [p["debut"] for p in periods if p.get("debut")]
    ends = [p["fin"] for p in periods if p.get("fin")]
    return (min(starts), max(ends)) if starts and ends else None


def temporal_coverage(periods: list[dict]) -> str | None:
    """``2020-04-01/2021-03-31`` (ISO 8601 interval, as schema.org's temporalCoverage wants it)."""
    bounds = period_bounds(periods)
    return "/".join(bounds) if bounds else None


def schema_org(facts: dict, metadata: dict, files: list[dict], url: Callable[[str], str]) -> dict:
    """A schema.org ``Dataset`` with what Google's Dataset rules require (name, description) and
    recommend (creator, licence, keywords, temporal and spatial coverage, distributions…)."""
    organisation = {"@type": "Organization", "name": organisation_name(facts)} if facts["organisation"] else None
    dataset = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": metadata.get("title"),
        "description": description(metadata),
        "url": url("/"),
        "identifier": DATASET_ID,
        "inLanguage": "fr",
        "keywords": keywords(metadata, facts["themes"]),
        "license": metadata.get("license_url"),
        "isAccessibleForFree": True,
        "creator": organisation,
        "publisher": organisation,
        "temporalCoverage": temporal_coverage(facts["periodes"]),
        "spatialCoverage": [{"@type": "Country", "name": p["nom"], "identifier": p["id"]} for p in facts["pays"]],
        "version": facts["construction"].get("version"),
        "dateModified": facts["construction"].get("date"),
        "isBasedOn": [
            {
                "@type": "CreativeWork",
                "name": f"Plan d'action {p['plan_id']} du CISO",
                "url": url(f"/-/source/{p['plan_id']}"),
                "identifier": {"@type": "PropertyValue", "propertyID": "SHA-256", "value": p["sha256"]},
            }
            for p in facts["plans"]
        ],
        "distribution": [
            {
                "@type": "DataDownload",
                "name": f["titre"],
                "description": f["description"],
                "encodingFormat": f["media"],
                "contentUrl": url(f["chemin"]),
                **({"contentSize": f"{f['octets']} o"} if f["octets"] is not None else {}),
            }
            for f in files
        ],
    }
    return _without_empty(dataset)


# --------------------------------------------------------------------------- DCAT-AP (catalogues)


def _iri(value: str) -> dict:
    return {"@id": value}


def _typed(value, datatype: str) -> dict:
    return {"@value": str(value), "@type": datatype}


def dcat(facts: dict, metadata: dict, files: list[dict], url: Callable[[str], str]) -> dict:
    """A DCAT-AP catalogue of one dataset, each file a distribution (download URL, media type,
    format, licence, size, SHA-256), as JSON-LD whose context is inline."""
    catalogue = url("/-/catalogue")
    built = facts["construction"].get("date")
    licence = _iri(metadata["license_url"]) if metadata.get("license_url") else None
    agent = (
        {"@id": f"{catalogue}#editeur", "@type": "foaf:Agent", "foaf:name": organisation_name(facts)}
        if facts["organisation"]
        else None
    )
    bounds = period_bounds(facts["periodes"])
    provenance = "Plans d'action du CISO, publiés tels que reçus : " + " ; ".join(
        f"{p['fichier']} (SHA-256 {p['sha256']})" for p in facts["plans"]
    )
    dataset = {
        "@id": f"{catalogue}#{DATASET_ID}",
        "@type": "dcat:Dataset",
        "dct:identifier": DATASET_ID,
        "dct:title": metadata.get("title"),
        "dct:description": description(metadata),
        "dcat:keyword": keywords(metadata, facts["themes"]),
        "dct:publisher": agent,
        "dct:creator": agent,
        "dct:language": _iri(EU_FRENCH),
        "dcat:landingPage": _iri(url("/")),
        "dct:modified": _typed(built, "xsd:dateTime") if built else None,
        "owl:versionInfo": facts["construction"].get("version"),
        "dct:temporal": (
            {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": _typed(bounds[0], "xsd:date"),
                "dcat:endDate": _typed(bounds[1], "xsd:date"),
            }
            if bounds
            else None
        ),
        "dct:spatial": [
            {"@type": "dct:Location", "skos:prefLabel": p["nom"], "dct:identifier": p["id"]} for p in facts["pays"]
        ],
        "dct:provenance": {"@type": "dct:ProvenanceStatement", "rdfs:label": provenance} if facts["plans"] else None,
        "dcat:distribution": [_distribution(f, catalogue, licence, url) for f in files],
    }
    return _without_empty(
        {
            "@context": CONTEXT,
            "@id": catalogue,
            "@type": "dcat:Catalog",
            "dct:title": metadata.get("title"),
            "dct:description": description(metadata),
            "dct:publisher": agent,
            "dct:language": _iri(EU_FRENCH),
            "dct:license": licence,
            "foaf:homepage": _iri(url("/")),
            "dct:modified": _typed(built, "xsd:dateTime") if built else None,
            "dcat:dataset": _without_empty(dataset),
        }
    )


def _distribution(f: dict, catalogue: str, licence: dict | None, url: Callable[[str], str]) -> dict:
    address = _iri(url(f["chemin"]))
    return _without_empty(
        {
            "@id": f"{catalogue}#distribution-{f['nom']}",
            "@type": "dcat:Distribution",
            "dct:title": f["titre"],
            "dct:description": f["description"],
            "dcat:accessURL": address,
            "dcat:downloadURL": address,
            "dcat:mediaType": _iri(IANA + f["media"]),
            "dct:format": _iri(EU_FILE_TYPE + f["format_ue"]) if f["format_ue"] else None,
            "dct:license": licence,
            "dcat:byteSize": _typed(f["octets"], "xsd:nonNegativeInteger") if f["octets"] is not None else None,
            "spdx:checksum": (
                {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": _iri(SHA256),
                    "spdx:checksumValue": _typed(f["sha256"], "xsd:hexBinary"),
                }
                if f["sha256"]
                else None
            ),
        }
    )


def _without_empty(node: dict) -> dict:
    return {k: v for k, v in node.items() if v not in (None, [], "")}
