"""Rules that compare parts of a parsed plan, or plans, with each other."""

from __future__ import annotations

from .plan import Plan
from .problems import Problem


def validate_plan(plan: Plan) -> list[Problem]:
    """Return every numbering and announcement problem of one parsed plan."""
    if plan.title is None:  # parsing stopped early; its problem says why
        return []
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(plan.path, line, message))

    seen: dict[int, int] = {}
    for o in plan.objectives:
        if o.number in seen:
            problem(
                o.line,
                f"objectif {o.number} en double (déjà à la ligne {seen[o.number]}) : "
                "renumérotez l'une des deux sections",
            )
        else:
            seen[o.number] = o.line

    seen_actions: dict[str, int] = {}
    for o in plan.objectives:
        for a in o.actions:
            if a.number in seen_actions:
                problem(
                    a.line,
                    f"action {a.number} en double (déjà à la ligne "
                    f"{seen_actions[a.number]}) : renumérotez l'une des deux",
                )
            else:
                seen_actions[a.number] = a.line
            if a.major != o.number:
                problem(
                    a.line,
                    f"l'action {a.number} est sous « OBJECTIF {o.number} » (ligne "
                    f"{o.line}) : son numéro doit commencer par {o.number}.",
                )

    if plan.announce_line is None:
        problem(
            plan.title_line,
            "liste des objectifs absente : ajoutez un intertitre « ... AUTOUR DE N "
            "OBJECTIFS » suivi des lignes « Objectif N : titre »",
        )
    else:
        announced: dict[int, int] = {}
        for a in plan.announced:
            if a.number in announced:
                problem(
                    a.line,
                    f"objectif {a.number} annoncé deux fois (déjà à la ligne {announced[a.number]})",
                )
            else:
                announced[a.number] = a.line
        if plan.announced_count != len(plan.objectives):
            problem(
                plan.announce_line,
                f"{plan.announced_count} objectifs annoncés, mais "
                f"{len(plan.objectives)} sections « OBJECTIF N : titre » trouvées : "
                "corrigez le nombre annoncé ou les sections",
            )
        elif plan.announced_count != len(plan.announced):
            problem(
                plan.announce_line,
                f"{plan.announced_count} objectifs annoncés, mais "
                f"{len(plan.announced)} lignes « Objectif N : titre » dans la liste",
            )
        for o in plan.objectives:
            if o.number not in announced:
                problem(
                    o.line,
                    f"l'objectif {o.number} n'est pas annoncé dans la liste (ligne "
                    f"{plan.announce_line}) : ajoutez « Objectif {o.number} : "
                    f"{o.title} »",
                )
        sections = {o.number for o in plan.objectives}
        for a in plan.announced:
            if a.number not in sections:
                problem(
                    a.line,
                    f"l'objectif {a.number} est annoncé mais n'a pas de section « OBJECTIF {a.number} : titre »",
                )
    if not plan.objectives:
        problem(plan.title_line, "aucune section « OBJECTIF N : titre » trouvée")
    return problems


def validate_plans(plans: list[Plan]) -> list[Problem]:
    """Every plan's own problems, plus periods used by two files."""
    problems: list[Problem] = []
    periods: dict[str, str] = {}
    for plan in plans:
        problems.extend(plan.problems)
        problems.extend(validate_plan(plan))
        if plan.period is None:
            continue
        if plan.period in periods:
            problems.append(
                Problem(
                    plan.path,
                    plan.title_line,
                    f"le plan {plan.period} est déjà dans {periods[plan.period]} : "
                    "une période ne peut être publiée qu'une fois",
                )
            )
        else:
            periods[plan.period] = plan.path
    return problems
