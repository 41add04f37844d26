"""Turn parsed plans and reference data into table rows (pure functions).

Ids derive from the plan period and the plan's own numbering, never from load
order: objective ``2020-2021-1``, action ``2020-2021-1-4``, activity
``2020-2021-1-4-2`` (second bullet of 1.4), passage ``2020-2021-L42``.
"""

from __future__ import annotations

from .linking import Matcher, normalize
from .markup import split
from .model import ACTIVITY_LINKS, MARKUP
from .plan import Plan

ORDER_STEP = 1_000_000  # ordre = start year * ORDER_STEP + line: plans in order, lines in order


def objective_id(period: str, number: int) -> str:
    return f"{period}-{number}"


def action_id(period: str, number: str) -> str:
    return f"{period}-{number.replace('.', '-')}"


def activity_id(period: str, action_number: str, rank: int) -> str:
    return f"{action_id(period, action_number)}-{rank}"


def order(plan: Plan, line: int) -> int:
    return plan.start_year * ORDER_STEP + line


def plan_rows(plan: Plan, fichier: str) -> dict[str, list[dict]]:
    """Rows of plans, objectifs, actions, activites and passages for one plan."""
    period = plan.period
    actions = plan.actions()
    rows: dict[str, list[dict]] = {
        "plans": [
            {
                "id": period,
                "titre": plan.title,
                "debut": f"{plan.start_year}-04-01",
                "fin": f"{plan.end_year}-03-31",
                "fichier": fichier,
                "sha256": plan.sha256,
                "octets": plan.size,
                "lignes": plan.line_count,
                "ligne_titre": plan.title_line,
                "ligne_annonce": plan.announce_line,
                "nb_objectifs": len(plan.objectives),
                "nb_actions": len(actions),
                "nb_activites": sum(len(a.activities) for a in actions),
            }
        ],
        "objectifs": [],
        "actions": [],
        "activites": [],
        "passages": [],
        "lignes": [
            {"plan_id": period, "numero": number, "texte": text}
            for number, text in enumerate(plan.lines[: plan.line_count], start=1)
        ],
    }
    for o in plan.objectives:
        rows["objectifs"].append(
            {
                "id": objective_id(period, o.number),
                "plan_id": period,
                "numero": o.number,
                "titre": o.title,
                "titre_annonce": o.announced_title,
                "description": o.description,
                "ligne": o.line,
                "ligne_annonce": o.announced_line,
                "nb_actions": len(o.actions),
                "nb_activites": sum(len(a.activities) for a in o.actions),
                "ordre": order(plan, o.line),
            }
        )
        for a in o.actions:
            rows["actions"].append(
                {
                    "id": action_id(period, a.number),
                    "plan_id": period,
                    "objectif_id": objective_id(period, o.number),
                    "numero": a.number,
                    "rang": a.minor,
                    "titre": a.title,
                    "description": a.description,
                    "ligne": a.line,
                    "nb_activites": len(a.activities),
                    "ordre": order(plan, a.line),
                }
            )
            for act in a.activities:
                rows["activites"].append(
                    {
                        "id": activity_id(period, a.number, act.rank),
                        "plan_id": period,
                        "objectif_id": objective_id(period, o.number),
                        "action_id": action_id(period, a.number),
                        "numero": f"{a.number}.{act.rank}",
                        "rang": act.rank,
                        "texte": act.text,
                        "ligne": act.line,
                        "ligne_fin": act.line_end,
                        "ordre": order(plan, act.line),
                    }
                )
    for block in plan.blocks:
        rows["passages"].append(
            {
                "id": f"{period}-L{block.line_start}",
                "plan_id": period,
                "section": block.section,
                "type": block.kind,
                "ligne_debut": block.line_start,
                "ligne_fin": block.line_end,
                "texte": block.text,
                "objectif_id": objective_id(period, block.objective) if block.objective is not None else None,
                "action_id": action_id(period, block.action) if block.action else None,
                "activite_id": activity_id(period, block.action, block.activity) if block.activity else None,
                "ordre": order(plan, block.line_start),
            }
        )
    return rows


def link_rows(
    activities: list[dict],
    actions: list[dict],
    aliases: dict[str, dict[str, list[str]]],
    fixes=None,
    relations: dict[str, str] | None = None,
    matched: dict | None = None,
) -> dict[str, list[dict]]:
    """Link activities to reference entries they name; fill the array columns.

    Activities get the entries named in their own text, corrected by ``fixes`` (liens.yml, see
    curation.py): additions, exclusions, and countries only mentioned. A country link is of
    ``nature`` « travail » when the country is one where CISO works or has partners
    (``relations``, from pays.yml) and the activity does more than name it; « mention » otherwise.
    Actions get those named in their title or description plus those of their activities.
    Mutates the ``activites`` and ``actions`` rows; returns the link rows. ``matched`` receives
    what the words alone linked, before corrections.
    """
    links: dict[str, list[dict]] = {}
    relations = relations or {}
    by_action: dict[str, list[dict]] = {}
    for activity in activities:
        by_action.setdefault(activity["action_id"], []).append(activity)
    normalized = {a["id"]: normalize(a["texte"]) for a in activities}  # once, for the four kinds of link
    for table, key, reference, column in ACTIVITY_LINKS:
        matcher = Matcher(aliases.get(reference, {}))
        rows = links[table] = []
        for activity in activities:
            found = matcher.find(activity["texte"], normalized[activity["id"]])
            if matched is not None:
                matched[(activity["id"], reference)] = dict(found)
            added = fixes.added.get((activity["id"], reference), {}) if fixes else {}
            mentioned = fixes.mentions.get((activity["id"], reference), {}) if fixes else {}
            for target in fixes.excluded.get((activity["id"], reference), {}) if fixes else ():
                found.pop(target, None)
            for target, correction in added.items():
                found.setdefault(target, correction["citation"])
            activity[column] = sorted(found)
            for ref, term in sorted(found.items()):
                correction = added.get(ref) or mentioned.get(ref)
                row = {"activite_id": activity["id"], key: ref, "terme": term}
                if reference == "pays":
                    work = relations.get(ref) == "partenaires" and ref not in mentioned
                    row["nature"] = "travail" if work else "mention"
                row["origine"] = "ajout" if ref in added else "alias"
                row["correction_id"] = correction["id"] if correction else None
                rows.append(row)
        for action in actions:
            ids = set(matcher.find(f"{action['titre']}\n{action['description'] or ''}"))
            for activity in by_action.get(action["id"], []):
                ids.update(activity[column])
            action[column] = sorted(ids)
    return links


def split_markup(tables: dict[str, list[dict]]) -> None:
    """Store the plans' words as plain text, markup kept in ``*_markup`` columns (model.MARKUP)."""
    for name, columns in MARKUP.items():
        split(tables.get(name, []), columns)
