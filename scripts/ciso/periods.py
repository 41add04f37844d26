"""Each plan's period, where it comes from, and the date the statuses are computed at.

* A plan's period (first and last day) comes from ``reference/periodes.yml`` when an entry gives
  it — quoting the plan, and saying whether the dates are in the quotation (``citation``), in
  another document (``source``) or an assumption (``hypothese``). Without an entry, the build
  uses a documented default, always shown as an assumption: CISO's fiscal year, 1 April of the
  first year of the title ``PLAN D'ACTION AAAA-AAAA`` to 31 March of the second. Dropping next
  year's plan into ``data/plans/`` is all it takes to build.
* The reference date (« today ») is the day of the build, or ``CISO_DATE_REFERENCE`` (AAAA-MM-JJ)
  when set, or the ``today`` a caller passes. Statuses are computed at build time against it: the
  published database is read-only and served later, so the pages say at which date they are
  true, and ``fingerprint`` (build.py) changes when a plan's period ends, so ``ciso serve``
  rebuilds by itself; a server started before that day must be restarted (README).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import yaml

from .clock import build_time
from .plan import TITLE_RE, Plan
from .problems import Problem, SourceError
from .yamlsource import SafeLoader, load_entries

ENV_DATE = "CISO_DATE_REFERENCE"
FILE = "periodes.yml"  # under data/reference/
DEFAULT_SOURCE = (
    "Aucune source ne donne les dates de ce plan : le programme suppose qu'il couvre l'exercice du CISO, "
    "du 1er avril de la première année de son titre au 31 mars de la seconde. Une entrée dans "
    "data/reference/periodes.yml les remplacera dès qu'une source les donne."
)
NATURES = ("citation", "source", "hypothese")


def reference_date(today: dt.date | None = None, environ=None) -> dt.date:
    """The date statuses are computed at: ``today`` if given, else ``CISO_DATE_REFERENCE``, else the
    build's day (``SOURCE_DATE_EPOCH``'s, or today: clock.py)."""
    if today is not None:
        return today
    value = (os.environ if environ is None else environ).get(ENV_DATE, "").strip()
    if not value:
        return build_time(environ).date()
    try:
        return dt.date.fromisoformat(value) if re.match(r"^\d{4}-\d{2}-\d{2}$", value) else _bad(value)
    except ValueError:
        return _bad(value)


def _bad(value: str):
    raise SourceError(
        [Problem(f"variable d'environnement {ENV_DATE}", 0, f"date « {value} » invalide : écrivez AAAA-MM-JJ")]
    )


def default_period(plan: Plan) -> tuple[str, str]:
    return f"{plan.start_year}-04-01", f"{plan.end_year}-03-31"


def period_rows(
    plans: dict[str, Plan], curated: list[dict], today: dt.date, path: Path
) -> tuple[list[dict], list[Problem]]:
    """One row per plan for the ``periodes`` table: the curated period or the default, and its state."""
    rows, problems = [], []
    by_plan: dict[str, dict] = {}
    lines = _lines(path)
    for row in curated:
        if row.get("plan_id") in by_plan:
            problems.append(
                Problem(
                    str(path),
                    lines.get(row["plan_id"], 1),
                    f"deux périodes pour le plan {row['plan_id']} : gardez-en une",
                )
            )
        if row.get("plan_id"):
            by_plan[row["plan_id"]] = row
    for period in sorted(plans):
        plan = plans[period]
        row = by_plan.get(period)
        if row is not None:
            start, end = str(row.get("debut")), str(row.get("fin"))
            line = lines.get(period, 1)
            if start > end:
                problems.append(Problem(str(path), line, f"plan {period} : début {start} après la fin {end}"))
            if row.get("nature") in ("source", "hypothese") and not row.get("source"):
                problems.append(
                    Problem(str(path), line, f"plan {period} : « source » manquante (d'où viennent ces dates ?)")
                )
            values = {k: row.get(k) for k in ("nature", "ligne", "citation", "source", "note")}
            origin = f"reference/{FILE}"
        else:
            start, end = default_period(plan)
            values = {
                "nature": "hypothese",
                "ligne": plan.title_line,
                "citation": plan.title,
                "source": DEFAULT_SOURCE,
                "note": None,
            }
            origin = "defaut"
        rows.append(
            {
                "plan_id": period,
                "debut": start,
                "fin": end,
                **values,
                "origine": origin,
                "date_reference": today.isoformat(),
                "terminee": int(today.isoformat() > end),
            }
        )
    return rows, problems


def _lines(path: Path) -> dict[str, int]:
    try:
        entries = load_entries(Path(path).read_bytes().decode("utf-8-sig"), str(path))[0]
    except (OSError, UnicodeDecodeError):
        return {}
    return {str(e.get("plan")): e.line for e in entries}


def apply_periods(plan_rows: list[dict], periods: list[dict]) -> None:
    """The ``plans`` table carries the same first and last day as ``periodes``."""
    by_plan = {p["plan_id"]: p for p in periods}
    for row in plan_rows:
        if row["id"] in by_plan:
            row["debut"], row["fin"] = by_plan[row["id"]]["debut"], by_plan[row["id"]]["fin"]


def time_key(data_dir: Path, today: dt.date | None = None) -> str:
    """Which plans' periods are over at the reference date: part of the build's fingerprint, so a
    database built before a period ended is rebuilt by ``ciso serve`` once it has.

    Cheap and forgiving: only each plan's title and periodes.yml are read; anything unreadable
    counts for nothing here (the build itself reports it).
    """
    try:
        day = reference_date(today).isoformat()
    except SourceError:
        return "date invalide"
    ends: dict[str, str] = {}
    try:
        curated = (
            yaml.load((Path(data_dir) / "reference" / FILE).read_text(encoding="utf-8-sig"), Loader=SafeLoader) or []
        )  # noqa: S506
        ends = {str(e.get("plan")): str(e.get("fin")) for e in curated if isinstance(e, dict)}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        pass
    state = []
    for path in sorted((Path(data_dir) / "plans").glob("*.txt")):
        try:
            first = next(line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip())
        except (OSError, UnicodeDecodeError, StopIteration):
            continue
        m = TITLE_RE.match(first)
        if m:
            period = f"{m[1]}-{m[2]}"
            end = ends.get(period, f"{m[2]}-03-31")
            state.append(f"{period}:{int(day > end)}")
    return ";".join(state)
