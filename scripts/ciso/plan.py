"""Parse one action plan (text in, records out).

The grammar is documented in ``docs/format-du-plan.md``.  Nothing here touches
SQLite or the file system: ``parse_plan`` takes the file's bytes and the path
to name in messages, and returns a :class:`Plan` whose ``problems`` list every
structural mistake with its line number.  Rules that compare parts of the
document with each other live in :mod:`ciso.plan_checks`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .problems import Problem

TITLE_RE = re.compile(r"^PLAN D['’]ACTION\s+(\d{4})\s*-\s*(\d{4})$")
OBJECTIVE_RE = re.compile(r"^(objectif)\s+(\d+)\s*:\s*(\S.*)$", re.IGNORECASE)
ANNOUNCE_RE = re.compile(r"\b(\d+)\s+OBJECTIFS\s*:?$")
MEANS_RE = re.compile(r"^MOYENS ET ACTIONS\s*:?$")
ACTION_RE = re.compile(r"^(\d+)\.(\d+)\.?\s+(\S.*)$")
BULLET_RE = re.compile(r"^[-–—•]\s+(\S.*)$")


@dataclass
class Block:
    """One paragraph-like unit of the document (a passage)."""

    kind: str  # titre, intertitre, objectif_annonce, objectif, action, puce, paragraphe
    line_start: int
    line_end: int
    text: str
    section: str
    objective: int | None = None
    action: str | None = None
    activity: int | None = None


@dataclass
class Activity:
    rank: int
    text: str
    line: int
    line_end: int


@dataclass
class Action:
    number: str  # "1.4"
    major: int
    minor: int
    title: str
    line: int
    objective: int
    paragraphs: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    @property
    def description(self) -> str | None:
        return "\n\n".join(self.paragraphs) or None


@dataclass
class Objective:
    number: int
    title: str
    line: int
    announced_title: str | None = None
    announced_line: int | None = None
    paragraphs: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def description(self) -> str | None:
        return "\n\n".join(self.paragraphs) or None


@dataclass
class Announced:
    number: int
    title: str
    line: int


@dataclass
class Plan:
    path: str
    sha256: str
    size: int
    line_count: int
    text: str = ""
    title: str | None = None
    title_line: int | None = None
    start_year: int | None = None
    end_year: int | None = None
    announce_line: int | None = None
    announced_count: int | None = None
    announced: list[Announced] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def period(self) -> str | None:
        if self.start_year is None:
            return None
        return f"{self.start_year}-{self.end_year}"

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def actions(self) -> list[Action]:
        return [a for o in self.objectives for a in o.actions]


def decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (BOM allowed) and normalise CRLF/CR line endings to LF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return None, [
            Problem(
                path,
                line,
                f"le fichier n'est pas en UTF-8 (octet 0x{data[e.start]:02x} "
                f"à la position {e.start}) : réenregistrez-le en UTF-8",
            )
        ]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def _is_heading(line: str) -> bool:
    """An all-capitals line: free section headings such as ``ÉQUIPE``."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 3 and not any(c.islower() for c in letters)


def parse_plan(data: bytes, path: str) -> Plan:
    """Parse a plan's bytes into records; problems are collected, not raised."""
    text, problems = decode(data, path)
    plan = Plan(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        line_count=0,
        problems=problems,
    )
    if text is None:
        return plan
    plan.text = text
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    plan.line_count = len(lines)
    if not any(line.strip() for line in lines):
        plan.problem(1, "le fichier est vide : un plan commence par « PLAN D'ACTION AAAA-AAAA »")
        return plan

    section = ""
    in_announce = False
    objective: Objective | None = None
    action: Action | None = None
    previous: Block | None = None  # block the next text line may continue

    def add(kind: str, number: int, content: str, **links) -> Block:
        block = Block(kind, number, number, content, section, **links)
        plan.blocks.append(block)
        return block

    def here() -> dict:
        return {
            "objective": objective.number if objective else None,
            "action": action.number if action else None,
        }

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            previous = None
            continue

        if plan.title is None:
            match = TITLE_RE.match(line)
            if not match:
                plan.problem(
                    number,
                    f"ligne de titre attendue, trouvé « {line[:60]} » : la première "
                    "ligne non vide doit être « PLAN D'ACTION AAAA-AAAA »",
                )
                return plan
            plan.title, plan.title_line = line, number
            plan.start_year, plan.end_year = int(match[1]), int(match[2])
            if plan.end_year != plan.start_year + 1:
                plan.problem(
                    number,
                    f"période « {match[1]}-{match[2]} » invalide : un plan couvre "
                    "une année d'avril à mars, par exemple 2020-2021",
                )
            section = line
            previous = add("titre", number, line)
            continue

        if TITLE_RE.match(line):
            plan.problem(number, "deuxième ligne de titre : un fichier ne contient qu'un plan")
            previous = None
            continue

        match = OBJECTIVE_RE.match(line)
        if match and in_announce and match[1] != "OBJECTIF":
            n = int(match[2])
            plan.announced.append(Announced(n, match[3].strip(), number))
            previous = add("objectif_annonce", number, line, objective=n)
            continue
        if match:
            in_announce = False
            action = None
            section = line
            objective = Objective(int(match[2]), match[3].strip(), number)
            plan.objectives.append(objective)
            previous = add("objectif", number, line, objective=objective.number)
            continue

        match = ACTION_RE.match(line)
        if match:
            if objective is None:
                plan.problem(
                    number,
                    f"action « {match[1]}.{match[2]} » avant toute section "
                    "« OBJECTIF N : titre » : placez-la sous son objectif",
                )
                previous = add("paragraphe", number, line)
                continue
            action = Action(
                number=f"{int(match[1])}.{int(match[2])}",
                major=int(match[1]),
                minor=int(match[2]),
                title=match[3].strip(),
                line=number,
                objective=objective.number,
            )
            objective.actions.append(action)
            previous = add("action", number, line, **here())
            continue

        match = BULLET_RE.match(line)
        if match:
            if action is None:
                plan.problem(
                    number,
                    "puce « - » hors d'une action : une puce doit suivre une ligne d'action « N.M Titre »",
                )
                previous = add("paragraphe", number, line, **here())
                continue
            activity = Activity(len(action.activities) + 1, match[1].strip(), number, number)
            action.activities.append(activity)
            previous = add("puce", number, match[1].strip(), **here(), activity=activity.rank)
            continue

        if _is_heading(line):
            previous = None
            if MEANS_RE.match(line):
                action = None
                add("intertitre", number, line, **here())
                continue
            announce = ANNOUNCE_RE.search(line)
            if announce and objective is None:
                in_announce = True
                plan.announce_line = number
                plan.announced_count = int(announce[1])
            elif objective is None:
                in_announce = False
            action = None
            if objective is None:
                section = line
            add("intertitre", number, line, **here())
            continue

        # Ordinary text: continues the previous paragraph or bullet, or starts one.
        if previous is not None and previous.kind in ("paragraphe", "puce"):
            previous.text += " " + line
            previous.line_end = number
            if previous.kind == "puce" and action is not None:
                action.activities[-1].text = previous.text
                action.activities[-1].line_end = number
            elif action is not None:
                action.paragraphs[-1] = previous.text
            elif objective is not None:
                objective.paragraphs[-1] = previous.text
            continue
        previous = add("paragraphe", number, line, **here())
        if action is not None:
            action.paragraphs.append(line)
        elif objective is not None:
            objective.paragraphs.append(line)

    for announced in plan.announced:
        for o in plan.objectives:
            if o.number == announced.number and o.announced_title is None:
                o.announced_title = announced.title
                o.announced_line = announced.line
    return plan
