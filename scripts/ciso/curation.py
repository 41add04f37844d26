"""Curated readings of single elements: link corrections (``liens.yml``) and dependencies
(``dependances.yml``), both under ``data/reference/``.

``load_reference`` checks their fields and that every quotation is in the plan; this module
checks what only the plan's structure can tell — the quotation is in the element's own text, the
element, the entry linked and the step depended on exist, an exclusion removes a link the words
really made — and gives each entry its id. Problems name the YAML file and line.

* ``liens.yml``: where the alias matcher (linking.py) misses a link (``ajout``), makes a wrong one
  (``exclusion``), or links a country the activity only names (``mention``: the link stays, as a
  mention, never as a country where the activity takes place).
* ``dependances.yml``: an element whose words tie it to another element of the plan, typically a
  step that is postponed or conditional (« Événements publics liés au stage » and the stage that
  1.1.1 postpones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .model import ARRAYS_OF_ACTIVITIES
from .plan import Plan
from .problems import Problem
from .yamlsource import load_entries

LINK_FILE = "liens.yml"
DEPENDENCY_FILE = "dependances.yml"


@dataclass
class LinkFixes:
    """Per (activity id, link table's reference): additions, exclusions and mentions."""

    added: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # -> {entry id: correction row}
    excluded: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    mentions: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # correction id -> its line in liens.yml

    def of(self, kind: str) -> dict:
        return {"ajout": self.added, "exclusion": self.excluded, "mention": self.mentions}[kind]


def _entries(path: Path):
    try:
        return load_entries(path.read_bytes().decode("utf-8-sig"), str(path))[0]
    except (OSError, UnicodeDecodeError):
        return []  # reported by load_reference


def _element_texts(tables: dict[str, list[dict]]) -> dict[tuple[str, str], tuple[str, str, int]]:
    """(plan, numbering) -> (element id, own text, line) for actions (title, description) and activities."""
    texts = {}
    for a in tables.get("actions", []):
        texts[(a["plan_id"], a["numero"])] = (a["id"], f"{a['titre']}\n{a['description'] or ''}", a["ligne"])
    for a in tables.get("activites", []):
        texts[(a["plan_id"], a["numero"])] = (a["id"], a["texte"], a["ligne"])
    return texts


def _line_in_element(plan: Plan, quotation: str, first_line: int) -> int:
    """Line of ``quotation`` in the element that starts at ``first_line`` (not an earlier occurrence)."""
    offset = sum(len(line) + 1 for line in plan.lines[: first_line - 1])
    index = plan.text.find(quotation, offset)
    return plan.text.count("\n", 0, index) + 1 if index >= 0 else first_line


def link_fixes(
    data_dir: Path, plans: dict[str, Plan], tables: dict[str, list[dict]]
) -> tuple[LinkFixes, list[Problem]]:
    """Check ``liens.yml`` against the plans' texts; fill the ids of its rows (``corrections_liens``)."""
    fixes, problems = LinkFixes(), []
    path = Path(data_dir) / "reference" / LINK_FILE
    rows = tables.get("corrections_liens", [])
    texts = _element_texts(tables)
    known = {name: {r["id"] for r in tables.get(name, [])} for name in ARRAYS_OF_ACTIVITIES}
    for entry, row in zip(_entries(path), rows, strict=False):
        period, element = str(entry.get("plan")), str(entry.get("element"))
        if period not in plans or not isinstance(entry.get("citation"), str):
            continue  # reported by load_reference
        found = texts.get((period, element))
        if found is None or element.count(".") != 2:
            problems.append(
                Problem(str(path), entry.line_of("element"), f"activité {element} introuvable dans le plan {period}")
            )
            continue
        activity, text, first_line = found
        if entry["citation"] not in text:
            problems.append(
                Problem(
                    str(path),
                    entry.line_of("citation"),
                    f"la citation doit être prise dans le texte de l'activité {element} : « {entry['citation'][:80]} »",
                )
            )
            continue
        lien, target, operation = entry.get("lien"), entry.get("cible"), entry.get("operation")
        if lien not in known or operation not in ("ajout", "exclusion", "mention"):
            continue  # reported by load_reference
        if target not in known[lien]:
            problems.append(
                Problem(
                    str(path),
                    entry.line_of("cible"),
                    f"« cible: {target} » ne correspond à aucune entrée de {lien}.yml",
                )
            )
            continue
        if operation == "mention" and lien != "pays":
            problems.append(
                Problem(str(path), entry.line_of("operation"), "« mention » ne vaut que pour un pays (lien: pays)")
            )
            continue
        row["id"] = f"{period}-{element}-{lien}-{target}"
        row["activite_id"] = activity
        row["ligne"] = _line_in_element(plans[period], entry["citation"], first_line)
        bucket = fixes.of(operation).setdefault((activity, lien), {})
        if target in bucket:
            problems.append(Problem(str(path), entry.line, f"correction en double pour {element} → {lien} {target}"))
        bucket[target] = row
        fixes.lines[row["id"]] = entry.line
    return fixes, problems


def check_link_fixes(fixes: LinkFixes, matched: dict[tuple[str, str], dict[str, str]], data_dir: Path) -> list[Problem]:
    """An exclusion or a mention must concern a link the words made; an addition, one they did not."""
    problems = []
    for kind, bucket, wanted in (
        ("exclusion", fixes.excluded, True),
        ("mention", fixes.mentions, True),
        ("ajout", fixes.added, False),
    ):
        for (activity, lien), entries in bucket.items():
            for target, row in entries.items():
                made = target in matched.get((activity, lien), {})
                if made != wanted:
                    why = (
                        "les mots de l'activité ne font pas ce lien : rien à "
                        + ("exclure" if kind == "exclusion" else "marquer")
                        if wanted
                        else "les mots de l'activité font déjà ce lien : l'ajout est inutile"
                    )
                    path = Path(data_dir) / "reference" / LINK_FILE
                    problems.append(Problem(str(path), fixes.lines.get(row["id"], 1), f"{row['id']} ({kind}) : {why}"))
    return problems


def dependencies(data_dir: Path, plans: dict[str, Plan], tables: dict[str, list[dict]]) -> list[Problem]:
    """Check ``dependances.yml`` against the plans; fill the ids of its rows (``dependances``)."""
    problems = []
    path = Path(data_dir) / "reference" / DEPENDENCY_FILE
    texts = _element_texts(tables)
    seen: dict[tuple[str, str], int] = {}
    for entry, row in zip(_entries(path), tables.get("dependances", []), strict=False):
        period = str(entry.get("plan"))
        element, other = str(entry.get("element")), str(entry.get("depend_de"))
        if (period, element) in seen:
            problems.append(
                Problem(
                    str(path),
                    entry.line_of("element"),
                    f"{element} a déjà une dépendance (ligne {seen[(period, element)]}) : une seule par élément",
                )
            )
            continue
        seen[(period, element)] = entry.line_of("element")
        if period not in plans or not isinstance(entry.get("citation"), str):
            continue
        found, target = texts.get((period, element)), texts.get((period, other))
        if found is None:
            problems.append(
                Problem(str(path), entry.line_of("element"), f"élément {element} introuvable dans le plan {period}")
            )
            continue
        if target is None or other == element:
            problems.append(
                Problem(
                    str(path), entry.line_of("depend_de"), f"« depend_de: {other} » introuvable dans le plan {period}"
                )
            )
            continue
        if entry["citation"] not in found[1]:
            problems.append(
                Problem(
                    str(path),
                    entry.line_of("citation"),
                    f"la citation doit être prise dans le texte de {element} : « {entry['citation'][:80]} »",
                )
            )
            continue
        row.update(
            id=f"{period}-{element}-{other}",
            element_id=found[0],
            depend_de_id=target[0],
            ligne=_line_in_element(plans[period], entry["citation"], found[2]),
        )
    return problems
