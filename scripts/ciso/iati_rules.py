"""Offline checks of an ``iati-activities`` file, each tagged with the id of the rule it applies.

The official IATI Validator applies, beyond the XSD and the codelists, the rules of
``rulesets/standard.json`` (IATI/IATI-Rulesets, version-2.03 line); their ids, severities and
messages are listed in IATI/js-validator-api ``docs/data-quality-rules.csv``. Every rule of that
list whose context is an element this project can write (``iati-activities``, ``iati-activity``
and its ``iati-identifier``, ``reporting-org``, ``title``, ``description``, ``participating-org``,
``activity-status``, ``activity-date``, ``recipient-country``, ``recipient-region``, ``sector``,
``tag``, ``document-link``, ``narrative``, ``@xml:lang``) is implemented here; the rules on
elements the project never writes (transactions, budgets, results, locations, policy markers,
organisation files…) are listed with the reason in ``docs/iati.md``. A few checks of our own
(ids ``ciso.N``) guard what no ruleset says but our file relies on.

``findings(data)`` returns every finding (severity ``erreur`` or ``avertissement``), with the
line, the activity and what would fix it in our sources. The build refuses a file with an error;
the warnings are stored in the ``controles_iati`` table and listed on /-/transparence.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from .iati import FILE_NAME, VERSION, XML_LANG, code_problem, schema

ERROR, WARNING = "erreur", "avertissement"
SECTOR_DAC = "1"  # SectorVocabulary: OECD DAC CRS purpose codes (5 digit)
# Values of the Version codelist of the 2.0x line (IATI/IATI-Codelists, version-2.03); 1.0x is no longer
# accepted (rule 0.6.1).
VERSIONS = ("2.01", "2.02", "2.03")
# FileFormat codes (IATI/IATI-Codelists-NonEmbedded, xml/FileFormat.xml) that this project may write, checked
# by hand against that codelist; the full list (129 kB of IANA media types) is not vendored. Another format
# is refused until it is checked and added here.
FILE_FORMATS = ("text/html", "application/pdf", "text/csv", "application/json", "application/xml")
# Organisation identifier list codes (IATI/IATI-Codelists-NonEmbedded, xml/OrganisationRegistrationAgency.xml)
# checked by hand: those a Québec organisation may use. The full list is not vendored; an identifier whose
# prefix is elsewhere in that list gets a warning (rule 1.14.8) until its prefix is added here.
AGENCIES = ("CA-CRA_ACR", "XI-IATI")
FORBIDDEN = re.compile(r"[/&|?]")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int | None
    activity: str | None  # iati-identifier of the activity that holds the element
    element: str
    message: str  # French: what is wrong, precisely
    correction: str  # French: what to change in our sources

    def __str__(self) -> str:
        where = f"{FILE_NAME}, ligne {self.line}" if self.line else FILE_NAME
        if self.activity:
            where += f" (activité {self.activity})"
        return f"{where} : [{self.rule}] {self.element} : {self.message} (à corriger : {self.correction})"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    message: str  # the validator's message, as published (English)
    fr: str  # what we check, in French
    correction: str  # French: where to fix it in our sources
    check: Callable


RULES: list[Rule] = []


def rule(id_: str, severity: str, message: str, fr: str, correction: str):
    def register(fn):
        RULES.append(Rule(id_, severity, message, fr, correction, fn))
        return fn

    return register


class Context:
    """The parsed document, the time of the check, and a way to report a finding."""

    def __init__(self, doc, now: dt.datetime):
        self.doc = doc
        self.now = now
        self.activities = list(doc.iter("iati-activity"))
        self._starts = [a.sourceline for a in self.activities]
        self.found: list[Finding] = []
        self.current: Rule | None = None

    def activity_of(self, element) -> str | None:
        i = bisect.bisect_right(self._starts, element.sourceline or 0) - 1
        return (self.activities[i].findtext("iati-identifier") or "?") if i >= 0 else None

    def report(self, element, path: str, message: str) -> None:
        r = self.current
        self.found.append(
            Finding(r.id, r.severity, element.sourceline, self.activity_of(element), path, message, r.correction)
        )


def _text(element) -> str:
    return element.text or "" if element is not None else ""


def _decimal(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


# --- identifiers -------------------------------------------------------------------------------

IDENTIFIER_FIX = (
    "identifiant_organisation dans data/reference/iati.yml et l'identifiant des actions (scripts/ciso/iati.py)"
)


def _identifier_and_ref(c: Context, fits: Callable[[str, str], bool], wanted: str):
    """Rules 1.1.1 and 1.1.21: how the activity identifier starts, given reporting-org/@ref."""
    for a in c.activities:
        identifier, org = a.findtext("iati-identifier") or "", a.find("reporting-org")
        ref = org.get("ref") if org is not None else None
        if ref and not fits(identifier, ref):
            c.report(a.find("iati-identifier"), "iati-identifier", f"« {identifier} » {wanted.format(ref=ref)}")


rule(
    "1.1.1",
    WARNING,
    "The activity identifier should begin with the organisation identifier of the reporting organisation.",
    "L'identifiant de l'activité commence par l'identifiant de l'organisation qui publie.",
    IDENTIFIER_FIX,
)(lambda c: _identifier_and_ref(c, str.startswith, "ne commence pas par « {ref} »"))


@rule(
    "1.1.2",
    ERROR,
    "The activity identifier must be unique for each activity.",
    "Chaque identifiant d'activité est unique dans le fichier.",
    "les identifiants des plans et des actions (un plan par période, une action par numéro)",
)
def _unique(c: Context):
    seen = {}
    for a in c.activities:
        element = a.find("iati-identifier")
        identifier = _text(element)
        if identifier in seen:
            c.report(element, "iati-identifier", f"« {identifier} » déjà employé ligne {seen[identifier]}")
        seen.setdefault(identifier, a.sourceline)


rule(
    "1.1.21",
    WARNING,
    "The activity identifier should be your IATI Organisation Identifier followed by a unique string for the "
    "activity separated by a hyphen.",
    "L'identifiant de l'activité est l'identifiant d'organisation, un trait d'union, puis une chaîne propre à l'activité.",
    IDENTIFIER_FIX,
)(
    lambda c: _identifier_and_ref(
        c, lambda identifier, ref: bool(re.match(re.escape(ref) + r"-.+", identifier)), "n'a pas la forme « {ref}-… »"
    )
)


@rule(
    "1.1.3",
    ERROR,
    "The activity identifier must be different to the organisation identifier of the reporting organisation.",
    "L'identifiant de l'activité diffère de celui de l'organisation.",
    IDENTIFIER_FIX,
)
def _identifier_not_org(c: Context):
    for a in c.activities:
        org = a.find("reporting-org")
        if org is not None and _text(a.find("iati-identifier")) == org.get("ref"):
            c.report(a.find("iati-identifier"), "iati-identifier", "identique à reporting-org/@ref")


def _spaces_and_symbols(c: Context, xpath: str, path: str, symbols: bool):
    for a in c.activities:
        for element in a.xpath(xpath):
            value = element if isinstance(element, str) else _text(element)
            owner = element.getparent() if isinstance(element, str) else element
            if symbols and FORBIDDEN.search(value):
                c.report(owner, path, f"« {value} » contient l'un des symboles / & | ?")
            if not symbols and value != value.strip():
                c.report(owner, path, f"« {value} » commence ou finit par une espace ou un saut de ligne")


for _id, _xpath, _path in (
    ("1.3", "iati-identifier", "iati-identifier"),
    ("1.14", "reporting-org/@ref", "reporting-org/@ref"),
    ("1.8", "participating-org/@ref", "participating-org/@ref"),
):
    rule(
        f"{_id}.1",
        WARNING,
        f"The {_path} should not start or end with spaces or newlines.",
        f"{_path} ne commence ni ne finit par une espace ou un saut de ligne.",
        IDENTIFIER_FIX,
    )(lambda c, x=_xpath, p=_path: _spaces_and_symbols(c, x, p, symbols=False))
    rule(
        f"{_id}.13",
        WARNING,
        f"The {_path} must not contain any of the symbols /, &, | or ?.",
        f"{_path} ne contient aucun des symboles / & | ?.",
        IDENTIFIER_FIX,
    )(lambda c, x=_xpath, p=_path: _spaces_and_symbols(c, x, p, symbols=True))


@rule(
    "1.14.8",
    WARNING,
    "The reporting-org/@ref must start with an approved agency code.",
    "L'identifiant d'organisation commence par le code d'une liste d'identifiants reconnue "
    f"(vérifiés hors ligne : {', '.join(AGENCIES)}).",
    "renseigner identifiant_organisation dans data/reference/iati.yml avec l'identifiant IATI que le CISO "
    "fournit (par exemple CA-CRA_ACR- suivi de son numéro d'entreprise), avec sa source",
)
def _agency(c: Context):
    for a in c.activities:
        org = a.find("reporting-org")
        ref = org.get("ref") if org is not None else None
        if ref and not any(ref.startswith(prefix + "-") for prefix in AGENCIES):
            c.report(org, "reporting-org/@ref", f"« {ref} » ne commence par aucun code d'agence reconnu")


def _reporting_attribute(c: Context, attribute: str):
    for a in c.activities:
        org = a.find("reporting-org")
        if org is not None and not org.get(attribute):
            c.report(org, f"reporting-org/@{attribute}", "absent")


rule(
    "1.7.2",
    ERROR,
    "Organisation Identifier must be present.",
    "reporting-org porte un identifiant (@ref).",
    IDENTIFIER_FIX,
)(lambda c: _reporting_attribute(c, "ref"))
rule(
    "6.3.1",
    ERROR,
    "The organisation type must be present.",
    "reporting-org porte un type (@type).",
    "type_organisation dans data/reference/iati.yml",
)(lambda c: _reporting_attribute(c, "type"))


@rule(
    "6.10.1",
    ERROR,
    "The participating organisation must have an identifier or a narrative.",
    "Chaque organisation participante a un identifiant ou un nom.",
    "le nom de l'organisation dans data/reference/organisations.yml",
)
def _participant_named(c: Context):
    for a in c.activities:
        for org in a.findall("participating-org"):
            if not org.get("ref") and org.find("narrative") is None:
                c.report(org, "participating-org", "ni @ref ni narrative")


# --- language and narratives -------------------------------------------------------------------


@rule(
    "4.1.1",
    ERROR,
    "The activity should specify a default language OR the language must be specified for each narrative element.",
    "L'activité a une langue par défaut (@xml:lang), ou chaque narrative a la sienne.",
    "scripts/ciso/iati.py (LANGUAGE)",
)
def _language(c: Context):
    for a in c.activities:
        if a.get(XML_LANG) is None:
            for n in a.iter("narrative"):
                if n.get(XML_LANG) is None:
                    c.report(n, f"{n.getparent().tag}/narrative", "sans langue, et l'activité n'en déclare pas")


def _narrative_content(c: Context, tag: str):
    for a in c.activities:
        for element in a.findall(tag):
            if not any(_text(n).strip() for n in element.findall("narrative")):
                c.report(element, tag, "sans texte")


rule(
    "4.3.1",
    ERROR,
    "The title must contain narrative content.",
    "Le titre a un texte.",
    "le titre de l'action dans le plan",
)(lambda c: _narrative_content(c, "title"))
rule(
    "4.4.1",
    ERROR,
    "The description must contain narrative content.",
    "La description a un texte.",
    "le texte de l'action et de ses activités dans le plan",
)(lambda c: _narrative_content(c, "description"))


# --- status and dates --------------------------------------------------------------------------


@rule(
    "6.2.1",
    ERROR,
    "The activity status code must be present.",
    "L'activité a un statut (activity-status/@code).",
    "code_iati dans data/reference/statuts.yml",
)
def _status(c: Context):
    for a in c.activities:
        status = a.find("activity-status")
        if status is None or not status.get("code"):
            c.report(status if status is not None else a, "activity-status/@code", "absent")


@rule(
    "6.11.1",
    ERROR,
    "The activity must have a planned start date or an actual start date.",
    "L'activité a un début prévu (type 1) ou réel (type 2).",
    "la période du plan (data/reference/periodes.yml ou la période par défaut)",
)
def _start(c: Context):
    for a in c.activities:
        if not a.xpath("activity-date[@type='1' or @type='2']"):
            c.report(a, "activity-date", "ni début prévu ni début réel")


def _dates(a) -> dict[str, tuple]:
    return {d.get("type"): (_date(d.get("iso-date")), d) for d in a.findall("activity-date")}


def _date_order(c: Context, start: str, end: str):
    for a in c.activities:
        dates = _dates(a)
        if start in dates and end in dates and dates[start][0] and dates[end][0] and dates[start][0] > dates[end][0]:
            c.report(dates[end][1], "activity-date", f"la fin ({dates[end][0]}) précède le début ({dates[start][0]})")


rule(
    "11.1.2",
    ERROR,
    "The planned start date of the activity must be before the planned end date.",
    "Le début prévu précède la fin prévue.",
    "data/reference/periodes.yml",
)(lambda c: _date_order(c, "1", "3"))
rule(
    "11.1.3",
    ERROR,
    "The actual start date of the activity must be before the actual end date.",
    "Le début réel précède la fin réelle.",
    "le journal de suivi (data/suivi/mises-a-jour.csv)",
)(lambda c: _date_order(c, "2", "4"))


def _not_future(c: Context, kind: str):
    for a in c.activities:
        dates = _dates(a)
        if kind in dates and dates[kind][0] and dates[kind][0] > c.now.date():
            c.report(dates[kind][1], "activity-date", f"date réelle {dates[kind][0]} dans le futur")


rule(
    "11.1.4",
    ERROR,
    "The actual start date of the activity must not be in the future.",
    "Le début réel n'est pas dans le futur.",
    "le journal de suivi (data/suivi/mises-a-jour.csv)",
)(lambda c: _not_future(c, "2"))
rule(
    "11.1.5",
    ERROR,
    "The actual end date of the activity must not be in the future.",
    "La fin réelle n'est pas dans le futur.",
    "le journal de suivi (data/suivi/mises-a-jour.csv)",
)(lambda c: _not_future(c, "4"))


@rule(
    "11.1.1",
    ERROR,
    "The last updated datetime of the activity must not be in the future.",
    "La date de dernière mise à jour (@last-updated-datetime) n'est pas dans le futur.",
    "l'horloge de la machine qui construit la base",
)
def _last_updated(c: Context):
    for a in c.activities:
        value = a.get("last-updated-datetime")
        if not value:
            continue
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue  # the XSD reports it
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if moment > c.now:
            c.report(a, "iati-activity/@last-updated-datetime", f"{value} est dans le futur")


# --- geography ---------------------------------------------------------------------------------

SPLIT_FIX = (
    "la table calculée iati_pays (scripts/ciso/rollups.py) : répartition égale par convention entre plusieurs pays"
)


def _percentage_rules(c: Context, elements: list, label: str, each_id: str, sum_id: str, single_id: str):
    """Rules 3.1.x / 3.4.x (countries, regions) and 2.1.x (sectors of one vocabulary)."""
    if not elements:
        return
    given = [e.get("percentage") for e in elements]
    if c.current.id == each_id and len(elements) > 1 and any(p is None for p in given):
        c.report(elements[0], label, f"{len(elements)} éléments, dont {sum(p is None for p in given)} sans pourcentage")
    if c.current.id == sum_id and len(elements) > 1:
        total = sum(_decimal(p) or 0 for p in given)
        if abs(total - 100) > 0.0101:
            c.report(elements[0], label, f"les pourcentages font {total:g} au lieu de 100")
    if c.current.id == single_id and len(elements) == 1 and given[0] is not None:
        value = _decimal(given[0])
        if value is not None and value != 100:
            c.report(elements[0], label, f"un seul élément, à {given[0]} % au lieu de 100 ou sans pourcentage")


def _geography(c: Context):
    for a in c.activities:
        countries, regions = a.findall("recipient-country"), a.findall("recipient-region")
        if countries and not regions and c.current.id.startswith("3.1."):
            _percentage_rules(c, countries, "recipient-country/@percentage", "3.1.1", "3.1.2", "3.1.4")
        if regions and c.current.id.startswith("3.4."):
            _percentage_rules(c, countries + regions, "recipient-country|region/@percentage", "3.4.1", "3.4.2", "3.4.4")


for _id, _severity, _message, _fr in (
    ("3.1.1", ERROR, "When multiple recipient countries are declared, each must have a percentage.",
     "Plusieurs pays bénéficiaires : chacun a un pourcentage."),
    ("3.1.2", ERROR, "Percentage values for recipient countries, must add up to 100%.",
     "Les pourcentages des pays bénéficiaires font 100."),
    ("3.1.4", ERROR, "When a single recipient country is declared, the percentage must either be omitted, or set to 100.",
     "Un seul pays : pourcentage absent ou égal à 100."),
    ("3.4.1", ERROR, "When multiple recipient countries or regions are declared, each must have a percentage.",
     "Plusieurs pays ou régions : chacun a un pourcentage."),
    ("3.4.2", ERROR, "Percentage values for recipient countries or regions, must add up to 100%.",
     "Les pourcentages des pays et régions font 100."),
    ("3.4.4", ERROR, "When a single recipient country or region is declared, the percentage must either be omitted, "
     "or set to 100.", "Un seul pays ou une seule région : pourcentage absent ou égal à 100."),
):  # fmt: skip
    rule(_id, _severity, _message, _fr, SPLIT_FIX)(_geography)


@rule(
    "3.7.1",
    WARNING,
    "Recipient country or recipient region should be declared for either the activity or for all transactions.",
    "L'activité déclare un pays ou une région bénéficiaire.",
    "aucune, tant que le plan ne nomme pour l'action aucun pays où le CISO travaille : elle est menée au Québec. "
    "La convention du CAD pour la sensibilisation et les frais de fonctionnement (région 998 « pays en "
    "développement, non spécifiés ») serait possible si le CISO la retient ; sinon, nommer les pays dans le plan",
)
def _recipient(c: Context):
    for a in c.activities:
        if a.find("recipient-country") is None and a.find("recipient-region") is None:
            if not a.xpath("transaction[recipient-country or recipient-region]"):
                c.report(a, "recipient-country", "ni pays ni région bénéficiaire")


def _in_range(c: Context, xpath: str):
    """Rules 12.1.1 and 12.3.1: every percentage of these elements is between 0 and 100."""
    for element in c.doc.xpath(xpath):
        value = _decimal(element.get("percentage"))
        if value is not None and not 0 <= value <= 100:
            c.report(element, f"{element.tag}/@percentage", f"{element.get('percentage')} hors de 0 à 100")


rule(
    "12.1.1",
    ERROR,
    "The country/region percentage value must be between 0.0 and 100.0 (inclusive).",
    "Chaque pourcentage de pays ou de région est compris entre 0 et 100.",
    SPLIT_FIX,
)(lambda c: _in_range(c, "//recipient-country[@percentage] | //recipient-region[@percentage]"))


@rule(
    "12.4.1",
    ERROR,
    "The percentage value must be a numerical value.",
    "Chaque pourcentage est un nombre.",
    SPLIT_FIX,
)
def _percentage_number(c: Context):
    for element in c.doc.xpath("//*[@percentage]"):
        if _decimal(element.get("percentage")) is None:
            c.report(element, f"{element.tag}/@percentage", f"« {element.get('percentage')} » n'est pas un nombre")


# --- sectors and tags --------------------------------------------------------------------------

SECTOR_FIX = "secteurs dans data/reference/iati.yml (un secteur par action)"


@rule(
    "6.2.2",
    ERROR,
    "Each activity must have a specified sector, either at activity level OR for all transactions.",
    "Chaque activité a un secteur.",
    SECTOR_FIX,
)
def _has_sector(c: Context):
    for a in c.activities:
        if a.find("sector") is None and not a.xpath("transaction/sector"):
            c.report(a, "sector", "aucun secteur")


@rule(
    "6.6.2",
    ERROR,
    "Sectors must only be declared at activity level OR for all transactions.",
    "Les secteurs sont déclarés soit pour l'activité, soit pour les transactions, pas les deux.",
    SECTOR_FIX,
)
def _sector_level(c: Context):
    for a in c.activities:
        if a.find("sector") is not None and a.xpath("transaction/sector"):
            c.report(a, "sector", "déclarés à la fois pour l'activité et pour des transactions")


def _sectors_by_vocabulary(a) -> dict[str, list]:
    groups: dict[str, list] = {}
    for sector in a.findall("sector"):
        groups.setdefault(sector.get("vocabulary") or SECTOR_DAC, []).append(sector)
    return groups


def _sector_percentages(c: Context):
    for a in c.activities:
        for vocabulary, sectors in _sectors_by_vocabulary(a).items():
            _percentage_rules(c, sectors, f"sector/@percentage (vocabulaire {vocabulary})", "2.1.1", "2.1.2", "2.1.4")


for _id, _message, _fr in (
    ("2.1.1", "When multiple sectors, within a vocabulary (e.g. 1 - OECD DAC) are declared, each must have a percentage.",
     "Plusieurs secteurs d'un même vocabulaire : chacun a un pourcentage."),
    ("2.1.2", "Percentage values for sectors, within a vocabulary (e.g. 1 - OECD DAC), must add up to 100%.",
     "Les pourcentages des secteurs d'un même vocabulaire font 100."),
    ("2.1.4", "When a single sector is declared, the percentage must either be omitted, or set to 100.",
     "Un seul secteur : pourcentage absent ou égal à 100."),
):  # fmt: skip
    rule(_id, ERROR, _message, _fr, SECTOR_FIX)(_sector_percentages)


rule(
    "12.3.1",
    ERROR,
    "The sector percentage value must be between 0.0 and 100.0 (inclusive).",
    "Chaque pourcentage de secteur est compris entre 0 et 100.",
    SECTOR_FIX,
)(lambda c: _in_range(c, "//sector[@percentage]"))


@rule(
    "2.2.1",
    ERROR,
    "When using a reporting organisation sector code (vocabulary 98 or 99), it must include a narrative.",
    "Un secteur du vocabulaire de l'organisation (98 ou 99) a un nom.",
    SECTOR_FIX,
)
def _own_sector_named(c: Context):
    for sector in c.doc.xpath("//sector[@vocabulary='98' or @vocabulary='99']"):
        if sector.find("narrative") is None:
            c.report(sector, "sector/narrative", f"secteur « {sector.get('code')} » sans nom")


@rule(
    "102.1.1",
    WARNING,
    "When a non OECD DAC sector vocabulary is used, sector vocabulary 1 - OECD DAC should also be used.",
    "Un secteur d'un autre vocabulaire s'accompagne d'un secteur du CAD (vocabulaire 1).",
    SECTOR_FIX,
)
def _dac_too(c: Context):
    for a in c.activities:
        vocabularies = set(_sectors_by_vocabulary(a))
        if vocabularies and SECTOR_DAC not in vocabularies:
            c.report(a.find("sector"), "sector/@vocabulary", "aucun secteur du CAD (vocabulaire 1)")


# --- documents ---------------------------------------------------------------------------------


@rule(
    "6.1.5",
    ERROR,
    "The document format must be declared.",
    "Chaque lien de document déclare son format.",
    "scripts/ciso/iati.py (DOCUMENT_FORMAT)",
)
def _document_format(c: Context):
    for link in c.doc.iter("document-link"):
        if not link.get("format"):
            c.report(link, "document-link/@format", "absent")


# --- codelists (rules 9.x) ---------------------------------------------------------------------

CODED = (
    # (rule, xpath of the attribute values, codelist, where to fix)
    ("9.4.1", "//iati-activity/activity-date/@type", "ActivityDateType", "scripts/ciso/iati.py"),
    ("9.5.1", "//iati-activity/activity-status/@code", "ActivityStatus", "code_iati dans data/reference/statuts.yml"),
    ("9.28.1", "//iati-activity/document-link/category/@code", "DocumentCategory", "scripts/ciso/iati.py"),
    ("9.29.1", "//iati-activity/document-link/language/@code", "Language", "scripts/ciso/iati.py"),
    ("9.41.1", "//iati-activity/participating-org/@role", "OrganisationRole", "vue iati_participants"),
    ("9.42.1", "//iati-activity/participating-org/@type", "OrganisationType", "vue iati_participants"),
    ("9.50.1", "//iati-activity/recipient-country/@code", "Country", "data/reference/pays.yml"),
    ("9.54.1", "//iati-activity/reporting-org/@type", "OrganisationType", "type_organisation dans iati.yml"),
    (
        "9.76.1",
        "//iati-activity/sector[@vocabulary='1' or @vocabulary='DAC' or not(@vocabulary)]/@code",
        "Sector",
        "secteurs dans data/reference/iati.yml",
    ),
    ("9.78.1", "//iati-activity/sector/@vocabulary", "SectorVocabulary", "scripts/ciso/iati.py"),
    ("9.79.1", "//iati-activity/tag/@vocabulary", "TagVocabulary", "scripts/ciso/iati.py"),
    ("9.95.1", "//@xml:lang", "Language", "scripts/ciso/iati.py (LANGUAGE)"),
)
NAMES = {
    "9.4.1": "The activity date type is invalid.",
    "9.5.1": "The activity status code is invalid.",
    "9.28.1": "The document category code is invalid.",
    "9.29.1": "The document language code is invalid.",
    "9.41.1": "The organisation role is invalid.",
    "9.42.1": "The organisation type is invalid.",
    "9.50.1": "The recipient country code is invalid.",
    "9.54.1": "The organisation type is invalid.",
    "9.76.1": "The OECD DAC sector is invalid.",
    "9.78.1": "The sector vocabulary is invalid.",
    "9.79.1": "The tag vocabulary is invalid.",
    "9.95.1": "The language code is invalid.",
}


def _codes(c: Context, xpath: str, name: str):
    for value in c.doc.xpath(xpath, namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}):
        why = code_problem(name, value)
        if why:
            owner = value.getparent()
            c.report(owner, f"{owner.tag}/@{value.attrname.split('}')[-1]}", why)


for _id, _xpath, _name, _fix in CODED:
    rule(_id, ERROR, NAMES[_id], f"Chaque valeur est un code actif de la liste {_name}.", _fix)(
        lambda c, x=_xpath, n=_name: _codes(c, x, n)
    )


@rule(
    "9.1.1",
    ERROR,
    "The IATI version of the dataset is not a valid version number.",
    f"La version du fichier est une version 2.0x de la norme ({', '.join(VERSIONS)}), ici {VERSION}.",
    "scripts/ciso/iati.py (VERSION)",
)
def _version(c: Context):
    if c.doc.get("version") not in VERSIONS or c.doc.get("version") != VERSION:
        c.report(c.doc, "iati-activities/@version", f"« {c.doc.get('version')} » au lieu de {VERSION}")


@rule(
    "9.27.1",
    ERROR,
    "The document format is invalid.",
    f"Le format d'un lien de document est un code de la liste FileFormat (vérifiés : {', '.join(FILE_FORMATS)}).",
    "scripts/ciso/iati.py (DOCUMENT_FORMAT), ou FILE_FORMATS de scripts/ciso/iati_rules.py après vérification",
)
def _file_format(c: Context):
    for link in c.doc.xpath("//iati-activity/document-link[@format]"):
        if link.get("format") not in FILE_FORMATS:
            c.report(
                link, "document-link/@format", f"« {link.get('format')} » n'est pas un format vérifié de FileFormat"
            )


@rule(
    "9.51.1",
    ERROR,
    "The recipient region code is invalid.",
    "Un code de région bénéficiaire serait vérifié contre la liste Region, qui n'est pas copiée ici : "
    "toute région est refusée tant qu'elle ne l'est pas.",
    "copier la liste Region dans scripts/ciso/iati-2.03/codelists avant d'écrire des régions",
)
def _regions(c: Context):
    for region in c.doc.xpath("//iati-activity/recipient-region"):
        c.report(region, "recipient-region/@code", f"« {region.get('code')} » non vérifiable hors ligne")


# --- ours --------------------------------------------------------------------------------------


@rule(
    "ciso.1",
    ERROR,
    "(ciso-donnees) Every activity of the file has the same reporting organisation.",
    "Toutes les activités du fichier ont la même organisation qui publie.",
    IDENTIFIER_FIX,
)
def _one_publisher(c: Context):
    refs = {a.find("reporting-org").get("ref") for a in c.activities if a.find("reporting-org") is not None}
    if len(refs) > 1:
        c.report(c.doc, "reporting-org/@ref", f"plusieurs identifiants : {sorted(map(str, refs))}")


@rule(
    "ciso.2",
    ERROR,
    "(ciso-donnees) A document link is an absolute http(s) address.",
    "Chaque lien de document est une adresse http(s) absolue.",
    "adresse_site dans data/reference/iati.yml",
)
def _absolute(c: Context):
    for link in c.doc.iter("document-link"):
        if not re.match(r"^https?://", link.get("url", "")):
            c.report(link, "document-link/@url", f"« {link.get('url')} » n'est pas une adresse absolue")


@rule(
    "ciso.3",
    ERROR,
    "(ciso-donnees) No narrative is empty; a tag of vocabulary 98 or 99 is named.",
    "Aucune narrative n'est vide ; une étiquette de notre vocabulaire (98, 99) a un nom.",
    "le texte d'origine dans data/ (plan ou référence)",
)
def _empty(c: Context):
    for n in c.doc.iter("narrative"):
        if not _text(n).strip():
            c.report(n, f"{n.getparent().tag}/narrative", "vide")
    for tag in c.doc.xpath("//tag[@vocabulary='98' or @vocabulary='99']"):
        if not any(_text(n).strip() for n in tag.findall("narrative")):
            c.report(tag, "tag/narrative", f"étiquette « {tag.get('code')} » sans nom")


# --- running them -----------------------------------------------------------------------------


def findings(data: bytes, now: dt.datetime | None = None) -> list[Finding]:
    """Every finding on ``data``: XSD errors first (rule ``xsd``), then every rule, in order."""
    try:
        doc = etree.fromstring(data, etree.XMLParser(no_network=True))
    except etree.XMLSyntaxError as e:
        return [Finding("xml", ERROR, e.lineno, None, "document", f"XML mal formé : {e.msg}", "scripts/ciso/iati.py")]
    c = Context(doc, now or dt.datetime.now(dt.UTC))
    xsd = schema()
    if not xsd.validate(doc.getroottree()):
        c.found.extend(
            Finding(
                "xsd", ERROR, e.line, None, "schéma", f"{e.message} (schéma XSD IATI {VERSION})", "scripts/ciso/iati.py"
            )
            for e in xsd.error_log
        )
    for r in RULES:
        c.current = r
        r.check(c)
    return [_located(c, f) for f in c.found]


def _located(c: Context, f: Finding) -> Finding:
    if f.activity is None and f.line:
        i = bisect.bisect_right(c._starts, f.line) - 1
        if i >= 0:
            return Finding(
                f.rule,
                f.severity,
                f.line,
                c.activities[i].findtext("iati-identifier"),
                f.element,
                f.message,
                f.correction,
            )
    return f


def errors(found: Iterable[Finding]) -> list[Finding]:
    return [f for f in found if f.severity == ERROR]
