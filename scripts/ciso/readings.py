"""Reading rules: the same wording of a plan gets the same reading, everywhere, in every plan.

``docs/regles-de-lecture.md`` states each rule in French, with its examples; this module applies
them, so that no status, funding status, role or target is set one by one by feel:

* ``STATUS_RULES`` read where an element stands from its own words (« Poursuite … » → en cours,
  « Si … est obtenu » → conditionnel…). They run on every action and activity of every plan and
  give the ``suivi`` rows of source ``plan``, each with its rule id and the verbatim words; the
  curated ``suivi/statuts-du-plan.yml`` may only add statements for elements no rule reads.
* ``FUNDING_RULES`` and ``ROLE_RULES`` read a curated quotation of ``financements.yml`` or
  ``partenariats.yml``; the build refuses an entry whose status or role is not the one its
  wording gives.
* a position's target (``cible_citation`` of ``positions.yml``) must be quoted from the
  position's own actions, not from a general sentence elsewhere in the plan.

Everything here is pure (plans and rows in, rows and problems out), except ``check_curated``,
which reads the three YAML files to name their lines.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path

from .plan import Plan
from .problems import Problem
from .statements import Item, _offset_of_line, _row
from .yamlsource import load_entries

MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "janvier", "février", "mars", "avril", "mai", "juin",
            "juillet", "août", "septembre", "octobre", "novembre", "décembre",
        ),
        start=1,
    )
}  # fmt: skip
_CLAUSE_START = re.compile(r"[.;:(\n]\s*")  # where the clause around a wording begins
_REST = r"[^.;:(,\n]*"  # words of the same clause, after it


@dataclass(frozen=True)
class StatusRule:
    id: str
    statut: str
    pattern: re.Pattern
    explication: str  # French, shown as the note of the statement
    formulation: str = ""  # French: the wordings it reads, as a reader would write them
    clause: bool = False  # quote the whole clause that holds the wording, not the wording alone

    def read(self, text: str) -> tuple[str, str | None] | None:
        """(verbatim words, end date) when the rule reads ``text``, else None."""
        m = self.pattern.search(text)
        if not m:
            return None
        start = m.start()
        if self.clause:  # back to the start of the clause (searched backwards: linear, unlike a lazy prefix)
            starts = [c.end() for c in _CLAUSE_START.finditer(text, 0, start)]
            start = starts[-1] if starts else 0
        words = text[start : m.end()].strip()
        end = None
        if "mois" in m.groupdict():
            month, year = MONTHS[m["mois"].lower()], int(m["annee"])
            end = f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        return words, end


def _rule(id_, statut, formulation, pattern, explication, flags=0, clause=False) -> StatusRule:
    return StatusRule(id_, statut, re.compile(pattern, flags), explication, formulation, clause)


# In order: the first rule that reads an element gives its status.
STATUS_RULES: tuple[StatusRule, ...] = (
    _rule(
        "S1",
        "reporte",
        "« … sera reporté à l'année AAAA-AAAA »",
        r"\bser(?:a|ont) report(?:é|ée|és|ées) à (?:l'année |l'exercice )?\d{4}(?:-\d{4})?",
        "Le plan dit que l'élément « sera reporté » à une année qu'il nomme (règle S1).",
        clause=True,
    ),
    _rule(
        "S2",
        "conditionnel",
        "« Si … est obtenu », « s'ils sont obtenus » (ou accordé)",
        r"\b[Ss]i (?:le |la |les |l')?[^,;.\n]{1,60}? (?:est|sont) (?:obtenue?s?|accordée?s?)\b"
        r"|\bs'(?:il|ils|elle|elles) (?:est|sont) (?:obtenue?s?|accordée?s?)\b",
        "Le plan subordonne l'élément à un financement qu'il n'a pas encore (« Si … est obtenu », "
        "« s'ils sont obtenus ») (règle S2).",
    ),
    _rule(
        "S3",
        "en_cours",
        "« Jusqu'à décembre 2020, … » (un mois et une année, en tête de l'élément)",
        r"^Jusqu'(?:à|en|au mois de) (?P<mois>janvier|février|mars|avril|mai|juin|juillet|août|septembre"
        r"|octobre|novembre|décembre) (?P<annee>\d{4})",
        "Le plan dit que l'élément se poursuit « jusqu'à » une date qu'il donne : il est en cours, "
        "jusqu'à la fin de ce mois (règle S3).",
        re.IGNORECASE,
    ),
    _rule(
        "S4",
        "en_cours",
        "« Poursuite … », « Poursuivre … », « Continuer … », « Maintenir … » (en tête de l'élément), "
        "« nous continuons à … », « le CISO poursuit … »",
        r"^(?:Poursuite|Poursuivre|Continuer|Maintenir)\b"
        + _REST
        + r"|\b(?:nous|le CISO|il) (?:continu(?:ons|e)|poursui(?:vons|t)) (?:à|de|d')"
        + _REST,
        "Le plan présente l'élément comme la suite d'un travail déjà commencé (« Poursuite … », "
        "« Poursuivre … », « Maintenir … », « nous continuons à … ») (règle S4).",
    ),
    _rule(
        "S5",
        "prevu",
        "« … se tiendront en AAAA-AAAA »",
        r"\bse tiendr(?:a|ont) en \d{4}(?:-\d{4})?",
        "Le plan date l'élément dans sa propre période (« se tiendront en … ») (règle S5).",
        clause=True,
    ),
)


def read_status(text: str) -> tuple[StatusRule, str, str | None] | None:
    """The first rule that reads ``text``: (rule, verbatim words, end date)."""
    for rule in STATUS_RULES:
        found = rule.read(text)
        if found:
            return rule, *found
    return None


def rule_statements(
    plans: dict[str, Plan], items: dict[tuple[str, str], Item], curated: list[dict], curated_path: Path
) -> tuple[list[dict], list[Problem]]:
    """The plan's statements read by the rules, plus the curated ones (for elements no rule reads).

    A curated statement about an element a rule already reads is refused: the same words would
    then get two readings.
    """
    rows, problems = [], []
    read: dict[str, dict] = {}
    for (period, _numero), item in items.items():
        found = read_status(_own_text(item))
        if not found:
            continue
        rule, words, end = found
        plan = plans[period]
        start = plan.text.find(words, _offset_of_line(plan.text, item.ligne))
        row = _row(
            item,
            f"{item.element_id}-plan",
            rule.statut,
            "plan",
            fichier=str(Path("plans") / Path(plan.path).name),
            ligne=plan.text.count("\n", 0, start) + 1,
            citation=words,
            note=rule.explication,
            date_fin=end,
            regle=rule.id,
        )
        rows.append(row)
        read[item.element_id] = row
    lines = {(str(e.get("plan")), str(e.get("element"))): e.line for e in _entries(curated_path)}
    for row in curated:
        if row["element_id"] in read:
            rule_row = read[row["element_id"]]
            problems.append(
                Problem(
                    str(curated_path),
                    lines.get((row["plan_id"], row["element"]), 1),
                    f"{row['plan_id']} {row['element']} : la règle {rule_row['regle']} lit déjà « {rule_row['citation']} » "
                    f"({rule_row['statut']}) ; retirez cette entrée (une même formulation, un même statut)",
                )
            )
        else:
            rows.append({**row, "regle": None})
    return rows, problems


def _own_text(item: Item) -> str:
    """An element's own words: an activity's text; an action's title and description."""
    if item.niveau == "action":
        title, _, description = item.texte.partition("\n")
        return description.strip() or title
    return item.texte


# --- curated entries whose wording fixes a reading ----------------------------------------------


@dataclass(frozen=True)
class WordingRule:
    id: str
    value: str  # the status or role the wording gives
    pattern: re.Pattern
    formulation: str  # French: the wordings it reads


def _wording(id_, value, formulation, pattern) -> WordingRule:
    return WordingRule(id_, value, re.compile(pattern, re.IGNORECASE), formulation)


# Funding status from the quoted words (first match wins); an entry whose quotation matches none
# says why in its note.
FUNDING_RULES: tuple[WordingRule, ...] = (
    _wording("F1", "obtenu", "« bénéficier », « nous bénéficions »", r"\bbénéfici(?:er|ons|e|ent|é)\b"),
    _wording(
        "F2", "en_attente", "« nous attendons toujours la réponse »", r"\battend(?:ons|ent)? (?:toujours )?la réponse\b"
    ),
    _wording("F3", "termine", "« l'appui auparavant donné »", r"\bauparavant donné\b"),
    _wording("F4", "existant", "« mécanismes existants »", r"\bmécanismes? existants?\b"),
    _wording(
        "F5",
        "envisage",
        "« réfléchir à », « envisager », « éventuellement »",
        r"\b(?:réfléchir à|envisager|éventuellement)\b",
    ),
    _wording("F6", "non_precise", "« avec l'appui de »", r"\bavec l'appui de\b"),
    _wording(
        "F7",
        "vise",
        "« s'ils sont obtenus », « déposer des propositions », « conception et rédaction »",
        r"\b(?:s'ils sont obtenus|s'il est obtenu|déposer des propositions|conception et rédaction)\b",
    ),
)
# Partnership role from the quoted words.
ROLE_RULES: tuple[WordingRule, ...] = (
    _wording(
        "R1",
        "co_coordination",
        "« co-coordination », « co-coordonné par »",
        r"\bco-coordonn(?:é|ée|ation)\b|\bco-coordination\b",
    ),
    _wording("R2", "collaboration", "« en collaboration (étroite) avec »", r"\ben collaboration (?:étroite )?avec\b"),
    _wording("R3", "appui", "« avec l'appui de »", r"\bavec l'appui de\b"),
    _wording(
        "R4",
        "bailleur_de_fonds",
        "« subvention », « financements accordés par »",
        r"\bsubvention\b|\bfinancements? accordés? par\b",
    ),
    _wording("R5", "coalition", "« principalement avec »", r"\bprincipalement avec\b"),
    _wording("R6", "membre_reseau", "« porté par le réseau »", r"\bporté par le réseau\b"),
)


def reading_of(rules: tuple[WordingRule, ...], text: str) -> WordingRule | None:
    return next((r for r in rules if r.pattern.search(text or "")), None)


def _action_lines(plan: Plan) -> dict[str, set[int]]:
    """Lines of each action's title, paragraphs and bullets."""
    lines: dict[str, set[int]] = {}
    for block in plan.blocks:
        if block.action:
            lines.setdefault(block.action, set()).update(range(block.line_start, block.line_end + 1))
    return lines


def check_curated(data_dir: Path, plans: dict[str, Plan]) -> list[Problem]:
    """Curated funding statuses, partner roles and position targets against the reading rules."""
    problems: list[Problem] = []
    reference = Path(data_dir) / "reference"
    for name, field, rules, label in (
        ("financements.yml", "statut", FUNDING_RULES, "statut"),
        ("partenariats.yml", "role", ROLE_RULES, "rôle"),
    ):
        for entry in _entries(reference / name):
            rule = reading_of(rules, entry.get("citation"))
            if rule and entry.get(field) != rule.value:
                problems.append(
                    Problem(
                        entry.path,
                        entry.line_of(field),
                        f"{label} « {entry.get(field)} » : la citation dit « {rule.pattern.search(entry.get('citation'))[0]} », "
                        f"que la règle {rule.id} lit « {rule.value} » (docs/regles-de-lecture.md) ; une même formulation "
                        "reçoit partout le même "
                        f"{label}",
                    )
                )
    for entry in _entries(reference / "positions.yml"):
        plan = plans.get(str(entry.get("plan")))
        quote, actions = entry.get("cible_citation"), entry.get("actions") or []
        if plan is None or not isinstance(quote, str) or not quote:
            continue
        index = plan.text.find(quote)
        if index < 0:
            continue  # reported by load_reference
        line = plan.text.count("\n", 0, index) + 1
        spans = _action_lines(plan)
        if not any(line in spans.get(str(a), ()) for a in actions):
            problems.append(
                Problem(
                    entry.path,
                    entry.line_of("cible_citation"),
                    f"la cible est citée de la ligne {line}, hors des actions de la position ({', '.join(map(str, actions))}) : "
                    "citez ce que dit l'action elle-même, ou laissez « cible » vide (non précisée par le plan)",
                )
            )
    return problems


def _entries(path: Path):
    try:
        return load_entries(path.read_bytes().decode("utf-8-sig"), str(path))[0]
    except (OSError, UnicodeDecodeError):
        return []  # reported by load_reference


def ordered_statements(plan_rows: list[dict], update_rows: list[dict]) -> list[dict]:
    """``statements.order_statements``, with the rule id (empty for a logged update) on every row."""
    from .statements import order_statements

    rows = order_statements(plan_rows, update_rows)
    for row in rows:
        row.setdefault("regle", None)
    return rows


def rule_rows(tables: dict[str, list[dict]]) -> list[dict]:
    """The reading rules as rows of the ``regles_lecture`` table, with how many entries each one reads."""
    rows = []
    statements = tables.get("suivi", [])
    for order, r in enumerate(STATUS_RULES, 1):
        rows.append(
            {
                "id": r.id,
                "domaine": "statut",
                "resultat": r.statut,
                "formulation": r.formulation,
                "explication": r.explication,
                "nb_lectures": sum(s.get("regle") == r.id for s in statements),
                "ordre": order,
            }
        )
    for domain, rules, table, explain in (
        ("financement", FUNDING_RULES, "financements", "Le statut d'un financement dont la citation emploie ces mots."),
        ("role", ROLE_RULES, "partenariats", "Le rôle d'un partenaire dont la citation emploie ces mots."),
    ):
        for r in rules:
            rows.append(
                {
                    "id": r.id,
                    "domaine": domain,
                    "resultat": r.value,
                    "formulation": r.formulation,
                    "explication": explain,
                    "nb_lectures": sum(reading_of(rules, e.get("citation")) is r for e in tables.get(table, [])),
                    "ordre": len(rows) + 1,
                }
            )
    return rows
