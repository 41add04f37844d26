"""Curated reference files (YAML under ``data/reference/``): specs and checks.

Each file is a list of entries.  A spec names the fields an entry may have,
which are required, and which must point at another reference table.  Every
entry that states a fact found in a plan cites it: ``plan`` (the period) and
``citation`` (a verbatim quotation).  The check finds the quotation in the
plan and records its line; a quotation that is not in the plan is an error
naming the YAML file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .linking import normalize
from .plan import Plan
from .problems import Problem
from .yamlsource import Entry, load_entries

ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "str"  # str, int, list
    required: bool = False
    ref: str | None = None  # another reference table whose ids are allowed
    pattern: str | None = None
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Spec:
    table: str
    file: str
    fields: tuple[Field, ...]
    cited: bool = True  # entries must cite a plan (plan + citation)
    citation_required: bool = False
    aliases: bool = False  # entries carry ``alias`` used to link activities

    def field_names(self) -> set[str]:
        names = {f.name for f in self.fields}
        if self.cited:
            names |= {"plan", "citation", "source", "note"}
        if self.aliases:
            names.add("alias")
        return names


SPECS: tuple[Spec, ...] = (
    Spec(
        "statuts",
        "statuts.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("libelle", required=True),
            Field("libelle_pluriel", required=True),
            Field("ordre", kind="int", required=True),
            Field("couleur", required=True, pattern=r"^#[0-9a-fA-F]{6}$"),
            Field("code_iati", kind="int", required=True),
            Field("description", required=True),
        ),
        cited=False,
    ),
    Spec(
        "types_organisation",
        "types_organisation.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("libelle", required=True),
            Field("description"),
        ),
        cited=False,
    ),
    Spec(
        "pays",
        "pays.yml",
        (
            Field("id", required=True, pattern=r"^[A-Z]{2}$"),
            Field("nom", required=True),
        ),
        citation_required=True,
        aliases=True,
    ),
    Spec(
        "organisations",
        "organisations.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("nom", required=True),
            Field("sigle"),
            Field("type", required=True, ref="types_organisation"),
            Field("pays", ref="pays"),
            Field("site_web"),
        ),
        citation_required=True,
        aliases=True,
    ),
    Spec(
        "instruments",
        "instruments.yml",
        (
            Field("id", required=True, pattern=r"^[CPR]\d{3}$"),
            Field("titre", required=True),
            Field("titre_court", required=True),
            Field("type", required=True, choices=("convention", "protocole", "recommandation")),
            Field("annee", kind="int", required=True),
            Field("url"),
        ),
        citation_required=True,
        aliases=True,
    ),
    Spec(
        "themes",
        "themes.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("nom", required=True),
            Field("description"),
        ),
        citation_required=True,
        aliases=True,
    ),
)


@dataclass
class Reference:
    """Validated reference rows per table, ready to load."""

    tables: dict[str, list[dict]] = field(default_factory=dict)
    aliases: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def find_quotation(plan: Plan, quotation: str) -> int | None:
    """1-based line where ``quotation`` starts in the plan, or None."""
    index = plan.text.find(quotation)
    if index < 0 or not quotation.strip():
        return None
    return plan.text.count("\n", 0, index) + 1


def check_citation(entry: Entry, plans: dict[str, Plan], problems: list[Problem]) -> tuple[str | None, int | None]:
    """Check ``plan`` + ``citation`` of an entry; return (plan_id, line)."""
    quotation = entry.get("citation")
    period = entry.get("plan")
    if quotation is None:
        return (str(period) if period is not None else None), None
    if period is None:
        problems.append(
            Problem(entry.path, entry.line_of("citation"), "citation sans « plan: » : indiquez la période du plan cité")
        )
        return None, None
    period = str(period)
    if period not in plans:
        problems.append(
            Problem(
                entry.path,
                entry.line_of("plan"),
                f"plan « {period} » inconnu (plans chargés : {', '.join(sorted(plans)) or 'aucun'})",
            )
        )
        return None, None
    if not isinstance(quotation, str):
        problems.append(Problem(entry.path, entry.line_of("citation"), "la citation doit être un texte"))
        return period, None
    line = find_quotation(plans[period], quotation)
    if line is None:
        problems.append(
            Problem(
                entry.path,
                entry.line_of("citation"),
                f"citation introuvable mot pour mot dans le plan {period} "
                f"({plans[period].path}) : « {quotation[:80]} » — recopiez-la "
                "exactement (accents, apostrophes, espaces)",
            )
        )
    return period, line


def _check_value(spec: Spec, f: Field, entry: Entry, value, problems: list[Problem]) -> None:
    line = entry.line_of(f.name)
    if f.kind == "int" and not isinstance(value, int):
        problems.append(Problem(entry.path, line, f"« {f.name} » doit être un nombre entier"))
    elif f.kind == "str" and not isinstance(value, str):
        problems.append(Problem(entry.path, line, f"« {f.name} » doit être un texte"))
    elif f.pattern and isinstance(value, str) and not re.match(f.pattern, value):
        problems.append(Problem(entry.path, line, f"« {f.name} » invalide : « {value} » (forme attendue {f.pattern})"))
    elif f.choices and value not in f.choices:
        problems.append(
            Problem(entry.path, line, f"« {f.name} » inconnu : « {value} » (valeurs permises : {', '.join(f.choices)})")
        )


def read_entries(path: Path, shown: str) -> tuple[list[Entry], list[Problem]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Problem(shown, 1, f"le fichier n'est pas en UTF-8 ({e.reason})")]
    return load_entries(text, shown)


def load_reference(data_dir: Path, plans: dict[str, Plan], specs=SPECS) -> tuple[Reference, list[Problem]]:
    """Read and check every reference file; return rows and problems."""
    reference = Reference()
    problems: list[Problem] = []
    for spec in specs:
        path = data_dir / "reference" / spec.file
        shown = str(path)
        rows: list[dict] = []
        reference.tables[spec.table] = rows
        if not path.exists():
            problems.append(Problem(shown, 1, f"fichier de référence manquant : créez {spec.file}"))
            continue
        entries, found = read_entries(path, shown)
        problems.extend(found)
        seen: dict[str, int] = {}
        alias_owner: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        for entry in entries:
            for key in entry.data:
                if key not in spec.field_names():
                    problems.append(
                        Problem(
                            shown,
                            entry.line_of(key),
                            f"champ « {key} » inconnu (champs permis : {', '.join(sorted(spec.field_names()))})",
                        )
                    )
            row: dict = {}
            for f in spec.fields:
                value = entry.get(f.name)
                if value is None:
                    if f.required:
                        problems.append(Problem(shown, entry.line, f"champ « {f.name} » obligatoire manquant"))
                    row[f.name] = None
                    continue
                _check_value(spec, f, entry, value, problems)
                if f.ref:
                    known = {r["id"] for r in reference.tables.get(f.ref, [])}
                    if value not in known:
                        problems.append(
                            Problem(
                                shown,
                                entry.line_of(f.name),
                                f"« {f.name}: {value} » ne correspond à aucune entrée de {f.ref}.yml",
                            )
                        )
                row[f.name] = value
            entry_id = row.get("id")
            if isinstance(entry_id, str):
                if entry_id in seen:
                    problems.append(
                        Problem(
                            shown,
                            entry.line_of("id"),
                            f"id « {entry_id} » en double (déjà à la ligne {seen[entry_id]})",
                        )
                    )
                seen[entry_id] = entry.line_of("id")
            if spec.cited:
                if spec.citation_required and "citation" not in entry:
                    problems.append(
                        Problem(
                            shown,
                            entry.line,
                            "« citation » manquante : citez mot pour mot le passage du plan qui nomme cette entrée",
                        )
                    )
                plan_id, line = check_citation(entry, plans, problems)
                row.update(
                    plan_id=plan_id,
                    ligne=line,
                    citation=entry.get("citation"),
                    source=entry.get("source"),
                    note=entry.get("note"),
                )
            if spec.aliases:
                names = entry.get("alias") or []
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    problems.append(Problem(shown, entry.line_of("alias"), "« alias » doit être une liste de textes"))
                    names = []
                for name in names:
                    key = normalize(name)
                    if key in alias_owner and alias_owner[key] != entry_id:
                        problems.append(
                            Problem(
                                shown,
                                entry.line_of("alias"),
                                f"alias « {name} » déjà utilisé par « {alias_owner[key]} » : un alias ne peut désigner qu'une entrée",
                            )
                        )
                    alias_owner[key] = entry_id
                row["alias"] = names
                if isinstance(entry_id, str):
                    aliases[entry_id] = names
            rows.append(row)
        reference.aliases[spec.table] = aliases
    return reference, problems
