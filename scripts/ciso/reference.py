"""Curated reference files (YAML under ``data/reference/``): their rows, and the cross-file checks.

Each file is a list of entries, one per row of a table of the data model (``model.py``, which
says which file feeds which table). The shape of an entry — keys, types, forms, allowed
values — is checked by jsonschema (``shapes.py``); this module checks what needs other files:
an id must exist in the table it points to, a list of action numbers must name actions of the
entry's plan, a quotation must be in the plan (its line is recorded), an id or an alias may be
used only once. Every entry that states a fact found in a plan cites it: ``plan`` (the period)
and ``citation`` (a verbatim quotation); problems name the YAML file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .linking import normalize
from .model import ACTIONS, BY_NAME, SOURCED, Table
from .plan import Plan
from .problems import Problem
from .shapes import check_entries, table_schema
from .yamlsource import Entry, load_entries


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
    quotation = None if "citation" in entry.invalid else entry.get("citation")
    period = None if "plan" in entry.invalid else entry.get("plan")
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


def read_entries(path: Path, shown: str, key: str | None = None) -> tuple[list[Entry], list[Problem]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Problem(shown, 1, f"le fichier n'est pas en UTF-8 ({e.reason})")]
    return load_entries(text, shown, key)


def _plan_actions(plan: Plan | None) -> set[str]:
    return {a.number for a in plan.actions()} if plan else set()


def load_reference(data_dir: Path, plans: dict[str, Plan], tables: tuple[Table, ...] = SOURCED):
    """Read and check every reference file; return rows (and link rows) and problems."""
    from .records import action_id

    reference = Reference()
    problems: list[Problem] = []
    for table in tables:
        source = table.source
        path = data_dir / "reference" / source.file
        shown = str(path)
        rows: list[dict] = []
        reference.tables[table.name] = rows
        for c in table.columns:
            if c.link:
                reference.tables[f"{table.name}_{c.name}"] = []
        if not path.exists():
            problems.append(Problem(shown, 1, f"fichier de référence manquant : créez {source.file}"))
            continue
        entries, found = read_entries(path, shown, source.key)
        problems.extend(found)
        problems.extend(check_entries(entries, table_schema(table)))
        seen: dict[str, int] = {}
        alias_owner: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        own_ids = {e.get("id") for e in entries if isinstance(e.get("id"), str)}
        for entry in entries:
            period = str(entry.get("plan")) if entry.get("plan") is not None else None
            plan = plans.get(period) if period else None
            row: dict = {}
            links: list[tuple[str, str, str, str]] = []  # (link table, own column, other column, other id)
            for c in table.input_columns:
                key = c.yaml_key
                value = None if key in entry.invalid else entry.get(key)
                if c.quote:
                    row[f"{c.name}_ligne"] = None
                if value is None:
                    row[c.name] = [] if c.is_list else None
                    continue
                ids = []
                for v in value if c.is_list else [value]:
                    if c.items == ACTIONS:
                        if plan is None:
                            problems.append(
                                Problem(shown, entry.line_of(key), f"« {key} » exige « plan: » (la période du plan)")
                            )
                        elif v not in _plan_actions(plan):
                            problems.append(
                                Problem(shown, entry.line_of(key), f"action « {v} » introuvable dans le plan {period}")
                            )
                        else:
                            ids.append(action_id(period, v))
                        continue
                    target = c.ref or c.items
                    if target:
                        known = own_ids if target == table.name else {r["id"] for r in reference.tables.get(target, [])}
                        if v not in known:
                            problems.append(
                                Problem(
                                    shown,
                                    entry.line_of(key),
                                    f"« {key}: {v} » ne correspond à aucune entrée de {target}.yml",
                                )
                            )
                    ids.append(v)
                if c.quote:
                    row[f"{c.name}_ligne"] = _quotation_line(entry, key, value, plan, period, problems)
                if c.is_list:
                    row[c.name] = ids
                    if c.link:
                        links.extend(
                            (f"{table.name}_{c.name}", table.key_column, BY_NAME[c.items].key_column, i) for i in ids
                        )
                else:
                    row[c.name] = value
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
                for link, own, other, other_id in links:
                    reference.tables[link].append({own: entry_id, other: other_id})
            if source.cited:
                plan_id, line = check_citation(entry, plans, problems)
                row.update(
                    plan_id=plan_id,
                    ligne=line,
                    citation=entry.get("citation"),
                    source=entry.get("source"),
                    note=entry.get("note"),
                )
            if source.aliases:
                names = [] if "alias" in entry.invalid else entry.get("alias") or []
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
        reference.aliases[table.name] = aliases
    return reference, problems


def _quotation_line(entry: Entry, key: str, value, plan: Plan | None, period, problems: list[Problem]) -> int | None:
    """The line of a quotation of the entry's plan (``relation_citation``…), or a problem."""
    if plan is None:
        problems.append(Problem(entry.path, entry.line_of(key), f"« {key} » exige « plan: »"))
        return None
    line = find_quotation(plan, value)
    if line is None:
        problems.append(
            Problem(
                entry.path,
                entry.line_of(key),
                f"citation introuvable mot pour mot dans le plan {period} ({plan.path}) : "
                f"« {value[:80]} » — recopiez-la exactement",
            )
        )
    return line
