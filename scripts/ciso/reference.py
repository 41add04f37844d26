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


ACTIONS = "@actions"  # a list of the plan's action numbers ("1.4"), stored as action ids


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "str"  # str, int, list (of str), quote (a verbatim quotation of the entry's plan)
    required: bool = False
    ref: str | None = None  # another reference table whose ids are allowed, or ACTIONS
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    column: str | None = None  # database column, when it differs from the YAML key
    link: tuple[str, str, str] | None = None  # for lists: (link table, own id column, other id column)

    @property
    def db_column(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Spec:
    table: str
    file: str
    fields: tuple[Field, ...]
    cited: bool = True  # entries may cite a plan (plan + citation)
    citation_required: bool = False
    aliases: bool = False  # entries carry ``alias`` used to link activities
    key: str | None = None  # the YAML file holds several lists; this spec reads this key

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
            Field("code_iati", kind="int"),
            Field("calcule", kind="int"),
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
            Field("code_numerique", required=True, pattern=r"^\d{3}$"),
            Field("nom", required=True),
            Field("relation", required=True, choices=("partenaires", "siege", "mention")),
            Field("relation_citation", kind="quote", required=True),
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
            Field("pays", ref="pays", column="pays_id"),
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
    Spec(
        "statuts_financement",
        "statuts_financement.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("libelle", required=True),
            Field("ordre", kind="int", required=True),
            Field("description"),
        ),
        cited=False,
    ),
    Spec(
        "roles_partenariat",
        "roles_partenariat.yml",
        (Field("id", required=True, pattern=ID_RE.pattern), Field("libelle", required=True), Field("description")),
        cited=False,
    ),
    Spec(
        "financements",
        "financements.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("nom", required=True),
            Field("sigle"),
            Field("organisation", ref="organisations", column="organisation_id"),
            Field("objet"),
            Field("debut", pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
            Field("fin", pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
            Field("statut", required=True, ref="statuts_financement"),
            Field("remplace_par", ref="financements"),
            Field("actions", kind="list", ref=ACTIONS, link=("financements_actions", "financement_id", "action_id")),
        ),
        citation_required=True,
    ),
    Spec(
        "partenariats",
        "partenariats.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("organisation", required=True, ref="organisations", column="organisation_id"),
            Field("role", required=True, ref="roles_partenariat"),
            Field("objet", required=True),
            Field("condition_citation", kind="quote"),
            Field("actions", kind="list", ref=ACTIONS, link=("partenariats_actions", "partenariat_id", "action_id")),
        ),
        citation_required=True,
    ),
    Spec(
        "positions",
        "positions.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("titre", required=True),
            Field("cible"),
            Field("cible_citation", kind="quote"),
            Field(
                "instruments",
                kind="list",
                ref="instruments",
                link=("positions_instruments", "position_id", "instrument_id"),
            ),
            Field("actions", kind="list", ref=ACTIONS, link=("positions_actions", "position_id", "action_id")),
            Field("pays", kind="list", ref="pays", link=("positions_pays", "position_id", "pays_id")),
        ),
        citation_required=True,
    ),
    Spec(
        "equipe",
        "gouvernance.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("role", required=True),
            Field("statut_emploi", required=True),
            Field("temps"),
            Field("debut", pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
            Field("fin", pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
        ),
        citation_required=True,
        key="equipe",
    ),
    Spec(
        "instances",
        "gouvernance.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("intitule", required=True),
            Field("sigle"),
            Field("type", required=True, choices=("instance", "comite")),
            Field("etat", required=True, choices=("existant", "a_creer")),
            Field("creation"),
            Field("mandat"),
            Field("actions", kind="list", ref=ACTIONS, link=("instances_actions", "instance_id", "action_id")),
        ),
        citation_required=True,
        key="instances",
    ),
    Spec(
        "periodes",
        "periodes.yml",
        (
            Field("debut", required=True, pattern=r"^\d{4}-\d{2}-\d{2}$"),
            Field("fin", required=True, pattern=r"^\d{4}-\d{2}-\d{2}$"),
            Field("nature", required=True, choices=("citation", "source", "hypothese")),
        ),
        citation_required=True,
    ),
    Spec(
        "corrections_liens",
        "liens.yml",
        (
            Field("element", required=True, pattern=r"^\d+\.\d+\.\d+$"),
            Field("lien", required=True, choices=("organisations", "pays", "instruments", "themes")),
            Field("cible", required=True),
            Field("operation", required=True, choices=("ajout", "exclusion", "mention")),
            Field("raison", required=True),
            Field("appui_citation", kind="quote"),
        ),
        citation_required=True,
    ),
    Spec(
        "dependances",
        "dependances.yml",
        (
            Field("element", required=True, pattern=r"^\d+\.\d+\.\d+$"),
            Field("depend_de", required=True, pattern=r"^\d+\.\d+(\.\d+)?$"),
        ),
        citation_required=True,
    ),
    Spec(
        "secteurs",
        "iati.yml",
        (
            Field("id", required=True, pattern=ID_RE.pattern),
            Field("code", required=True, pattern=r"^\d{5}$"),
            Field("libelle", required=True),
            Field("justification", required=True),
            Field("actions", kind="list", ref=ACTIONS, link=("secteurs_actions", "secteur_id", "action_id")),
        ),
        key="secteurs",
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
    elif f.kind in ("str", "quote") and not isinstance(value, str):
        problems.append(Problem(entry.path, line, f"« {f.name} » doit être un texte"))
    elif f.pattern and isinstance(value, str) and not re.match(f.pattern, value):
        problems.append(Problem(entry.path, line, f"« {f.name} » invalide : « {value} » (forme attendue {f.pattern})"))
    elif f.choices and value not in f.choices:
        problems.append(
            Problem(entry.path, line, f"« {f.name} » inconnu : « {value} » (valeurs permises : {', '.join(f.choices)})")
        )


def read_entries(path: Path, shown: str, key: str | None = None) -> tuple[list[Entry], list[Problem]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Problem(shown, 1, f"le fichier n'est pas en UTF-8 ({e.reason})")]
    return load_entries(text, shown, key)


def _plan_actions(plan: Plan | None) -> set[str]:
    return {a.number for a in plan.actions()} if plan else set()


def load_reference(data_dir: Path, plans: dict[str, Plan], specs=SPECS) -> tuple[Reference, list[Problem]]:
    """Read and check every reference file; return rows (and link rows) and problems."""
    from .records import action_id

    reference = Reference()
    problems: list[Problem] = []
    for spec in specs:
        path = data_dir / "reference" / spec.file
        shown = str(path)
        rows: list[dict] = []
        reference.tables[spec.table] = rows
        for f in spec.fields:
            if f.link:
                reference.tables[f.link[0]] = []
        if not path.exists():
            problems.append(Problem(shown, 1, f"fichier de référence manquant : créez {spec.file}"))
            continue
        entries, found = read_entries(path, shown, spec.key)
        problems.extend(found)
        seen: dict[str, int] = {}
        alias_owner: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        own_ids = {e.get("id") for e in entries}
        for entry in entries:
            problems.extend(
                Problem(
                    shown,
                    entry.line_of(key),
                    f"champ « {key} » inconnu (champs permis : {', '.join(sorted(spec.field_names()))})",
                )
                for key in entry.data
                if key not in spec.field_names()
            )
            period = str(entry.get("plan")) if entry.get("plan") is not None else None
            plan = plans.get(period) if period else None
            row: dict = {}
            links: list[tuple[str, str, str, str]] = []  # (link table, own column, other column, other id)
            for f in spec.fields:
                value = entry.get(f.name)
                if value is None:
                    if f.required:
                        problems.append(Problem(shown, entry.line, f"champ « {f.name} » obligatoire manquant"))
                    row[f.db_column] = [] if f.kind == "list" else None
                    if f.kind == "quote":
                        row[f"{f.db_column}_ligne"] = None
                    continue
                values = value if f.kind == "list" else [value]
                if f.kind == "list" and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                    problems.append(
                        Problem(shown, entry.line_of(f.name), f"« {f.name} » doit être une liste de textes")
                    )
                    values = []
                elif f.kind != "list":
                    _check_value(spec, f, entry, value, problems)
                ids = []
                for v in values:
                    if f.ref == ACTIONS:
                        if plan is None:
                            problems.append(
                                Problem(
                                    shown, entry.line_of(f.name), f"« {f.name} » exige « plan: » (la période du plan)"
                                )
                            )
                        elif v not in _plan_actions(plan):
                            problems.append(
                                Problem(
                                    shown, entry.line_of(f.name), f"action « {v} » introuvable dans le plan {period}"
                                )
                            )
                        else:
                            ids.append(action_id(period, v))
                    elif f.ref:
                        known = own_ids if f.ref == spec.table else {r["id"] for r in reference.tables.get(f.ref, [])}
                        if v not in known:
                            problems.append(
                                Problem(
                                    shown,
                                    entry.line_of(f.name),
                                    f"« {f.name}: {v} » ne correspond à aucune entrée de {f.ref}.yml",
                                )
                            )
                        ids.append(v)
                    else:
                        ids.append(v)
                if f.kind == "quote":
                    line = None
                    if plan is None:
                        problems.append(Problem(shown, entry.line_of(f.name), f"« {f.name} » exige « plan: »"))
                    else:
                        line = find_quotation(plan, value)
                        if line is None:
                            problems.append(
                                Problem(
                                    shown,
                                    entry.line_of(f.name),
                                    f"citation introuvable mot pour mot dans le plan {period} ({plan.path}) : "
                                    f"« {value[:80]} » — recopiez-la exactement",
                                )
                            )
                    row[f"{f.db_column}_ligne"] = line
                if f.kind == "list":
                    row[f.db_column] = ids
                    if f.link:
                        links.extend((f.link[0], f.link[1], f.link[2], i) for i in ids)
                else:
                    row[f.db_column] = value
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
                for table, own, other, other_id in links:
                    reference.tables[table].append({own: entry_id, other: other_id})
            if spec.cited:
                if spec.citation_required and "citation" not in entry:
                    problems.append(
                        Problem(
                            shown,
                            entry.line,
                            "« citation » manquante : citez mot pour mot le passage du plan qui justifie cette entrée",
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
