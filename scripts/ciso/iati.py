"""IATI Standard 2.03: the activity file that ``ciso export`` writes, its settings and its checks.

* ``check_reference(data_dir)`` reads the settings of ``data/reference/iati.yml`` (with the
  environment overrides) into rows of ``parametres_iati``, and checks them, the sector
  classification of the same file and the ``code_iati`` of ``statuts.yml`` against the IATI
  codelists; problems name the file and line.
* ``export_xml(conn)`` builds ``iati-activities.xml`` from the database views ``iati_activites``,
  ``iati_participants`` and ``iati_pays`` (one ``iati-activity`` per action of each plan), checks
  it (XSD of ``iati-2.03/``, then every code against its codelist, then rules the XSD cannot
  express) and raises ``IatiError`` naming each wrong element rather than return an invalid file.

Mappings (documented in French on /-/transparence and in README.md):

* identifier: ``{organisation identifier}-{action id}``, e.g. ``…-2020-2021-2-1`` for action 2.1;
  while CISO's identifier is unknown, ``PLACEHOLDER_IDENTIFIER`` and an XML comment saying so;
* participating-org: see the ``iati_participants`` view (1 funding, 2 accountable, 4 implementing);
* activity-status: ``statuts.code_iati`` of the action's current status (``statut_actions``);
* activity-date: planned start (1) and planned end (3) = the plan's period;
* recipient-country: ``iati_pays``, without percentages (no amounts, so no split to state);
* sector: ``secteurs`` (our classification, DAC 5-digit codes, vocabulary 1), one per action;
* tag: our themes, vocabulary 99 (the reporting organisation's own), with its address;
* document-link: the action's line in the published plan, category A02, ``text/html``, French;
* no budget, transaction or result: no source gives amounts or results.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from pathlib import Path

import yaml
from lxml import etree

from .fr import date_fr
from .markup import plain
from .problems import Problem
from .shapes import check_entry, settings_schema
from .yamlsource import Entry, Loader, load_entries

VERSION = "2.03"
SCHEMA_DIR = Path(__file__).with_name("iati-2.03")
FILE_NAME = "iati-activities.xml"
SETTINGS_FILE = "iati.yml"  # under data/reference/
STATUS_FILE = "statuts.yml"
ENV_IDENTIFIER = "CISO_IATI_IDENTIFIANT"
ENV_SITE = "CISO_IATI_ADRESSE_SITE"
# Cannot be mistaken for a registration number: "XX" is no country and no IATI agency prefix.
PLACEHOLDER_IDENTIFIER = "XX-XXX-CISO-A-CONFIRMER"
# The .invalid top-level domain is reserved and never resolves (RFC 6761).
PLACEHOLDER_SITE = "https://adresse-du-site-a-confirmer.invalid"
REPORTING_ORGANISATION = "ciso"  # organisations.yml id of the publisher
LANGUAGE = "fr"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

PLANNED_START, PLANNED_END = "1", "3"  # ActivityDateType
DOCUMENT_CATEGORY = "A02"  # DocumentCategory "Objectives / Purpose of activity"
DOCUMENT_FORMAT = "text/html"  # the plan's page on this site (an IANA media type)
SECTOR_VOCABULARY = "1"  # SectorVocabulary: OECD DAC CRS purpose codes (5 digit)
TAG_VOCABULARY = "99"  # TagVocabulary: reporting organisation's own vocabulary (our themes)

SETTING_KEYS = (
    "identifiant_organisation",
    "source_identifiant",
    "type_organisation",
    "explication_type_organisation",
    "adresse_site",
)
IDENTIFIER_RE = re.compile(r"^[A-Z]{2}-[A-Za-z0-9_]+-[^\s/&|?#]+$")
SITE_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class IatiError(Exception):
    """The IATI file would be invalid; ``messages`` name each wrong element and what to fix."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


# --- the standard: schema and codelists --------------------------------------------------------


@functools.cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "iati-activities-schema.xsd"), parser))


@functools.cache
def codelist(name: str) -> dict[str, dict]:
    """Codes of an IATI codelist: ``{code: {"status", "fr", "en"}}`` (``fr`` falls back to English)."""
    tree = etree.parse(str(SCHEMA_DIR / "codelists" / f"{name}.xml"), etree.XMLParser(no_network=True))
    items = {}
    for item in tree.iter("codelist-item"):
        names = {n.get(XML_LANG) or "en": (n.text or "").strip() for n in item.findall("name/narrative")}
        items[item.findtext("code").strip()] = {
            "status": item.get("status", "active"),
            "en": names.get("en", ""),
            "fr": names.get("fr") or names.get("en", ""),
        }
    return items


def code_problem(name: str, code) -> str | None:
    """Why ``code`` is not a usable code of codelist ``name`` (None if it is)."""
    item = codelist(name).get(str(code))
    if item is None:
        return f"« {code} » n'est pas un code de la liste {name} de l'IATI {VERSION}"
    if item["status"] != "active":
        return f"« {code} » a été retiré de la liste {name} de l'IATI {VERSION}"
    return None


# --- settings and classification (data/reference/iati.yml), checked at build time ----------------


def environment_fingerprint(environ=None) -> str:
    """The environment overrides, for the build's fingerprint (a change triggers a rebuild)."""
    environ = os.environ if environ is None else environ
    return "\0".join(f"{k}={environ.get(k, '')}" for k in (ENV_IDENTIFIER, ENV_SITE))


def _entries(path: Path, key: str | None = None):
    try:
        return load_entries(path.read_bytes().decode("utf-8-sig"), str(path), key)[0]
    except (OSError, UnicodeDecodeError):
        return []  # reported by load_reference


def check_reference(data_dir: Path, environ=None) -> tuple[list[dict], list[Problem]]:
    """Rows of ``parametres_iati`` and problems (``FILE:LINE``) in the IATI settings and codes."""
    environ = os.environ if environ is None else environ
    data_dir = Path(data_dir)
    path = data_dir / "reference" / SETTINGS_FILE
    shown, relative = str(path), f"reference/{SETTINGS_FILE}"
    problems: list[Problem] = []
    for entry in _entries(data_dir / "reference" / STATUS_FILE):
        if isinstance(entry.get("code_iati"), int):
            why = code_problem("ActivityStatus", entry.get("code_iati"))
            if why:
                problems.append(Problem(entry.path, entry.line_of("code_iati"), f"code_iati {why}"))
    if not path.exists():
        return [], problems  # load_reference reports the missing file
    try:
        text = path.read_bytes().decode("utf-8-sig")
        root = yaml.compose(text, Loader=Loader)
        data = yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is PyYAML's safe loader (yamlsource.py)
    except (UnicodeDecodeError, yaml.YAMLError):
        return [], problems  # reported by load_reference
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        return [], problems  # reported by load_reference ("clé « secteurs » attendue")
    lines = {k.value: k.start_mark.line + 1 for k, _ in root.value}
    settings = Entry(shown, 1, data, lines)
    problems.extend(check_entry(settings, settings_schema(SETTING_KEYS, ("secteurs",))))

    values = {k: None if k in settings.invalid else data.get(k) for k in SETTING_KEYS}
    origins = {k: f"{relative}:{lines[k]}" for k in SETTING_KEYS if k in lines}

    def where(key):  # (path, line) of a setting, or the environment variable that set it
        if origins.get(key, "").startswith("variable"):
            return origins[key], 0
        return shown, lines.get(key, 1)

    not_text = settings.invalid
    for key, variable in (("identifiant_organisation", ENV_IDENTIFIER), ("adresse_site", ENV_SITE)):
        if environ.get(variable, "").strip():
            values[key] = environ[variable].strip()
            origins[key] = f"variable d'environnement {variable}"

    identifier = values["identifiant_organisation"]
    if identifier is not None:
        if identifier.startswith("XX-"):
            problems.append(
                Problem(
                    *where("identifiant_organisation"),
                    f"« {identifier} » est l'identifiant provisoire : laissez null tant que le CISO n'a pas "
                    "fourni son identifiant d'organisation IATI",
                )
            )
        elif not IDENTIFIER_RE.match(identifier):
            problems.append(
                Problem(
                    *where("identifiant_organisation"),
                    f"identifiant d'organisation IATI invalide : « {identifier} » (forme attendue : agence-numéro, "
                    "par exemple CA-CRA_ACR-123456789RR0001, sans espace ni / & | ? #)",
                )
            )
        elif not origins["identifiant_organisation"].startswith("variable") and not values["source_identifiant"]:
            problems.append(
                Problem(
                    shown,
                    lines.get("identifiant_organisation", 1),
                    "identifiant d'organisation sans « source_identifiant » : indiquez d'où il vient "
                    "(document du CISO, fiche du registre IATI)",
                )
            )
    if values["type_organisation"] is None:
        if "type_organisation" not in not_text:
            problems.append(
                Problem(
                    shown,
                    lines.get("type_organisation", 1),
                    "« type_organisation » manquant : un code de la liste OrganisationType de l'IATI (22 : ONG nationale)",
                )
            )
    else:
        why = code_problem("OrganisationType", values["type_organisation"])
        if why:
            problems.append(Problem(shown, lines.get("type_organisation", 1), f"type_organisation {why}"))
        if not values["explication_type_organisation"]:
            problems.append(
                Problem(shown, lines.get("type_organisation", 1), "« explication_type_organisation » manquante")
            )
    site = values["adresse_site"]
    if site is not None:
        if not SITE_RE.match(site):
            problems.append(
                Problem(
                    *where("adresse_site"),
                    f"adresse du site invalide : « {site} » (forme attendue : https://domaine[/chemin], sans ? ni #)",
                )
            )
        values["adresse_site"] = site.rstrip("/")

    classified: dict[tuple[str, str], int] = {}
    for entry in _entries(path, "secteurs"):
        code = entry.get("code")
        if isinstance(code, str) and re.match(r"^\d{5}$", code):
            why = code_problem("Sector", code)
            if why:
                problems.append(Problem(shown, entry.line_of("code"), f"code {why}"))
            elif entry.get("libelle") != codelist("Sector")[code]["fr"]:
                problems.append(
                    Problem(
                        shown,
                        entry.line_of("libelle"),
                        f"libellé « {entry.get('libelle')} » : la liste Sector nomme le code {code} "
                        f"« {codelist('Sector')[code]['fr']} » ; recopiez ce nom",
                    )
                )
        actions = entry.get("actions")
        for number in actions if isinstance(actions, list) else []:
            key = (str(entry.get("plan")), str(number))
            if key in classified:
                problems.append(
                    Problem(
                        shown,
                        entry.line_of("actions"),
                        f"action {number} déjà classée (ligne {classified[key]}) : une action n'a qu'un secteur, "
                        "faute de montants pour le répartir entre plusieurs",
                    )
                )
            classified.setdefault(key, entry.line_of("actions"))

    rows = [{"cle": k, "valeur": values[k], "origine": origins.get(k)} for k in SETTING_KEYS]
    return rows, problems


# --- the file --------------------------------------------------------------------------------


def _query(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _grouped(rows: list[dict], key: str = "action_id") -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    return groups


def _narrative(parent, text: str):
    n = etree.SubElement(parent, "narrative", {XML_LANG: LANGUAGE})
    n.text = text
    return n


def settings_of(conn: sqlite3.Connection) -> dict:
    """Identifier, site address and organisation type used by the file, placeholders included."""
    values = {r["cle"]: r["valeur"] for r in _query(conn, "select cle, valeur from parametres_iati")}
    return {
        "identifiant": values.get("identifiant_organisation") or PLACEHOLDER_IDENTIFIER,
        "identifiant_provisoire": not values.get("identifiant_organisation"),
        "adresse_site": (values.get("adresse_site") or PLACEHOLDER_SITE).rstrip("/"),
        "adresse_provisoire": not values.get("adresse_site"),
        "type_organisation": values.get("type_organisation"),
    }


def _description(action: dict, objective: dict, activities: list[dict], notes: list[str]) -> str:
    lines = [f"Plan d'action {action['plan_id']} du CISO, objectif {objective['numero']} : {objective['titre']}"]
    if action["description"]:
        lines.append(action["description"])
    if activities:
        lines.append("Activités :")
        lines.extend(f"{a['numero']} {a['texte']}" for a in activities)
    if notes:
        lines.append("Notes de publication (ciso-donnees) :")
        lines.extend(f"- {n}" for n in notes)
    return plain("\n".join(lines))


def publication_notes(a: dict, period: dict, activities: list[dict], countries: list[dict], labels: dict) -> list[str]:
    """What the file says beyond the plan's words, and why: status, dates, conditions, ties, split."""
    notes = []
    if a["statut"] == "sans_bilan":
        code = str(a["code_statut_iati"])
        notes.append(
            f"Statut au {date_fr(a['date_reference'])} : sans bilan publié. L'échéance du {date_fr(a['echeance'])} "
            f"est passée et aucune source ne dit ce qu'il est advenu de l'action ; le code de statut IATI {code} "
            f"(« {codelist('ActivityStatus').get(code, {}).get('fr', '')} ») est celui du dernier statut que donnent "
            f"nos sources : {labels.get(a['statut_declare'], a['statut_declare']).lower()}."
        )
    if period:
        assumed = period["nature"] == "hypothese"
        notes.append(
            f"Dates prévues : la période du plan, du {date_fr(period['debut'])} au {date_fr(period['fin'])} "
            f"({'hypothèse' if assumed else 'source'}) : {period['source'] or 'le plan'}"
        )
    for x in activities:
        if x["statut_declare"] == "conditionnel":
            notes.append(
                f"L'activité {x['numero']} dépend d'une condition que pose le plan (« {x['citation']} ») : les pays et "
                "partenaires qu'elle seule nomme ne sont pas déclarés dans ce fichier."
            )
        if x["depend_de"]:
            notes.append(
                f"L'activité {x['numero']} est liée à l'étape {x['depend_de']}"
                + (f" ({labels.get(x['depend_de_statut'], '').lower()})" if x["depend_de_statut"] else "")
                + f" : « {x['depend_de_citation']} »."
            )
    if len(countries) > 1:
        shares = ", ".join(f"{c['nom']} {c['pourcentage']:g} %".replace(".", ",") for c in countries)
        notes.append(
            f"Pays bénéficiaires : aucune source ne donne de montant ni de répartition ; par convention, l'action est "
            f"répartie à parts égales entre les {len(countries)} pays ({shares})."
        )
    return notes


def build(conn: sqlite3.Connection) -> bytes:
    """The ``iati-activities`` document (unchecked): one ``iati-activity`` per action."""
    settings = settings_of(conn)
    reporter = _query(conn, "select nom from organisations where id = ?", (REPORTING_ORGANISATION,))
    org_ref, site = settings["identifiant"], settings["adresse_site"]
    built = _query(conn, "select valeur from construction where cle = 'date'")
    actions = {r["id"]: r for r in _query(conn, "select id, plan_id, description from actions")}
    objectives = {r["id"]: r for r in _query(conn, "select id, numero, titre from objectifs")}
    activities = _grouped(
        _query(
            conn,
            "select action_id, numero, texte, statut_declare, citation, depend_de, depend_de_statut, "
            "depend_de_citation from statut_activites order by ordre",
        )
    )
    periods = {r["plan_id"]: r for r in _query(conn, "select * from periodes")}
    labels = dict(conn.execute("select id, libelle from statuts").fetchall())
    participants = _grouped(_query(conn, "select * from iati_participants order by ordre, code_role, nom"))
    countries = _grouped(_query(conn, "select * from iati_pays order by ordre, pays_id"))
    sectors = _grouped(
        _query(
            conn,
            "select sa.action_id, s.code, s.libelle from secteurs_actions sa "
            "join secteurs s on s.id = sa.secteur_id order by sa.action_id, s.code",
        )
    )
    themes = _grouped(
        _query(
            conn,
            "select ac.id as action_id, t.id, t.nom from actions ac, json_each(ac.themes) j "
            "join themes t on t.id = j.value order by ac.id, t.nom",
        )
    )

    root = etree.Element("iati-activities", version=VERSION)
    if built:
        root.set("generated-datetime", built[0]["valeur"])
    root.append(
        etree.Comment(
            " Plans d'action du Centre international de solidarité ouvrière (CISO) selon la norme IATI 2.03, "
            "produits par ciso-donnees à partir de data/ : une activité par action (moyen) de chaque plan. "
            "Ni budget ni transaction : aucune source ne donne de montant. "
        )
    )
    if settings["identifiant_provisoire"]:
        root.append(
            etree.Comment(
                f" ATTENTION : identifiant d'organisation PROVISOIRE {PLACEHOLDER_IDENTIFIER}. L'identifiant IATI "
                "du CISO n'est dans aucune de nos sources ; renseignez identifiant_organisation dans "
                f"data/reference/{SETTINGS_FILE} (ou la variable {ENV_IDENTIFIER}) avant toute publication "
                "au registre IATI. "
            )
        )
    if settings["adresse_provisoire"]:
        root.append(
            etree.Comment(
                f" ATTENTION : adresse du site PROVISOIRE {PLACEHOLDER_SITE} dans les liens ; renseignez "
                f"adresse_site dans data/reference/{SETTINGS_FILE} (ou la variable {ENV_SITE}). "
            )
        )

    # An action without a sector is left out (IATI rule 6.2.2); /-/transparence lists it.
    for a in _query(conn, "select * from iati_activites where dans_le_fichier = 1 order by ordre"):
        action_id = a["action_id"]
        activity = etree.SubElement(root, "iati-activity", {XML_LANG: LANGUAGE})
        if built:
            activity.set("last-updated-datetime", built[0]["valeur"])
        etree.SubElement(activity, "iati-identifier").text = f"{org_ref}-{action_id}"
        reporting = etree.SubElement(activity, "reporting-org", ref=org_ref)
        if settings["type_organisation"]:
            reporting.set("type", settings["type_organisation"])
        if reporter:
            _narrative(reporting, reporter[0]["nom"])
        _narrative(etree.SubElement(activity, "title"), plain(f"{a['numero']} {a['titre']}"))
        _narrative(
            etree.SubElement(activity, "description"),
            _description(
                actions[action_id],
                objectives[a["objectif_id"]],
                activities.get(action_id, []),
                publication_notes(
                    a, periods.get(a["plan_id"]), activities.get(action_id, []), countries.get(action_id, []), labels
                ),
            ),
        )
        seen = set()
        for p in participants.get(action_id, []):
            if (p["organisation_id"], p["code_role"]) in seen:
                continue
            seen.add((p["organisation_id"], p["code_role"]))
            org = etree.SubElement(activity, "participating-org", role=str(p["code_role"]))
            if p["organisation_id"] == REPORTING_ORGANISATION and not settings["identifiant_provisoire"]:
                org.set("ref", org_ref)
            if p["type_iati"]:
                org.set("type", p["type_iati"])
            _narrative(org, p["nom"])
        status = etree.SubElement(activity, "activity-status")
        if a["code_statut_iati"] is not None:
            status.set("code", str(a["code_statut_iati"]))
        for kind, date in ((PLANNED_START, a["debut"]), (PLANNED_END, a["fin"])):
            if date:
                etree.SubElement(activity, "activity-date", type=kind, **{"iso-date": date})
        for c in countries.get(action_id, []):
            country = etree.SubElement(activity, "recipient-country", code=c["pays_id"])
            if c["pourcentage"] is not None:
                country.set("percentage", f"{c['pourcentage']:g}")
            _narrative(country, c["nom"])
        for s in sectors.get(action_id, []):
            sector = etree.SubElement(activity, "sector", vocabulary=SECTOR_VOCABULARY, code=s["code"])
            _narrative(sector, s["libelle"])
        for t in themes.get(action_id, []):
            tag = etree.SubElement(
                activity, "tag", vocabulary=TAG_VOCABULARY, code=t["id"], **{"vocabulary-uri": f"{site}/ciso/themes"}
            )
            _narrative(tag, t["nom"])
        if a["document"] and a["ligne"]:
            link = etree.SubElement(
                activity,
                "document-link",
                url=f"{site}/-/source/{a['plan_id']}#L{a['ligne']}",
                format=DOCUMENT_FORMAT,
            )
            _narrative(
                etree.SubElement(link, "title"),
                f"Plan d'action {a['plan_id']} du CISO, action {a['numero']} (ligne {a['ligne']})",
            )
            etree.SubElement(link, "category", code=DOCUMENT_CATEGORY)
            etree.SubElement(link, "language", code=LANGUAGE)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the checks (iati_rules.py) ----------------------------------------------------------------


def check(data: bytes) -> list[str]:
    """The errors of an ``iati-activities`` file (XSD, codelists, IATI rulesets); empty when valid.

    Warnings are not errors: ``iati_rules.findings`` returns them too.
    """
    from .iati_rules import errors, findings

    return [str(f) for f in errors(findings(data))]


def record_checks(conn: sqlite3.Connection) -> list:
    """Check the file the database describes; write every rule (``regles_iati``) and every finding
    (``controles_iati``) into it, so /-/transparence lists the remaining warnings. Returns the findings."""
    from .clock import build_time
    from .iati_rules import RULES, findings

    found = findings(build(conn), now=build_time())  # the build's time: same sources, same findings
    actions = {f"{settings_of(conn)['identifiant']}-{r[0]}": r for r in conn.execute("select id, plan_id from actions")}
    counts: dict[str, int] = {}
    for f in found:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    catalogue = [
        ("xml", "erreur", "The file is well-formed XML.", "Le fichier est un XML bien formé.", "scripts/ciso/iati.py"),
        (
            "xsd",
            "erreur",
            f"The file validates against the IATI {VERSION} activity schema (XSD).",
            f"Le fichier est valide selon le schéma XSD de la norme IATI {VERSION}.",
            "scripts/ciso/iati.py",
        ),
        *((r.id, r.severity, r.message, r.fr, r.correction) for r in RULES),
    ]
    with conn:
        conn.executemany(
            "insert into regles_iati (id, gravite, message, controle, correction, nb_constats, ordre) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [(*r, counts.get(r[0], 0), i) for i, r in enumerate(catalogue, 1)],
        )
        conn.executemany(
            "insert into controles_iati (id, regle_id, gravite, activite, action_id, plan_id, ligne, element, "
            "message, correction) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    n,
                    f.rule,
                    f.severity,
                    f.activity,
                    (actions.get(f.activity) or (None, None))[0],
                    (actions.get(f.activity) or (None, None))[1],
                    f.line,
                    f.element,
                    f.message,
                    f.correction,
                )
                for n, f in enumerate(found, 1)
            ],
        )
    return found


def export_xml(conn: sqlite3.Connection) -> bytes:
    """The checked file; raises ``IatiError`` (each wrong element named) instead of returning an invalid one."""
    data = build(conn)
    messages = check(data)
    if messages:
        raise IatiError(messages)
    return data
