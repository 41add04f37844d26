"""Read every source under a data directory, validate, and build the database."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .curation import check_link_fixes, dependencies, link_fixes
from .iati import check_reference as check_iati_reference
from .iati import environment_fingerprint
from .model import SOURCED
from .periods import FILE as PERIODS
from .periods import apply_periods, period_rows, reference_date, time_key
from .plan import Plan, parse_plan
from .plan_checks import validate_plans
from .problems import Problem, SourceError
from .readings import check_curated, ordered_statements, rule_rows, rule_statements
from .records import link_rows, plan_rows, split_markup
from .reference import load_reference
from .statements import (
    LOG_FILE,
    NOTES_FILE,
    PLAN_STATUS_FILE,
    item_index,
    read_log,
    read_plan_statuses,
    read_private_notes,
)

PRIVATE_LOG_FILE = Path("interne") / "mises-a-jour.csv"

Progress = Callable[[Iterable, str], Iterable]


def no_progress(items: Iterable, label: str) -> Iterable:
    return items


@dataclass
class Corpus:
    """Everything read from a data directory, as rows ready to load."""

    data_dir: Path
    plans: list[Plan] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    private: bool = False  # built with data/interne/: for the staff site only


def plan_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "plans").glob("*.txt"))


def source_files(data_dir: Path) -> list[Path]:
    """Every file the build reads, in a stable order."""
    files = plan_files(data_dir)
    files += [data_dir / "reference" / name for name in sorted({t.source.file for t in SOURCED})]
    files += [data_dir / PLAN_STATUS_FILE, data_dir / LOG_FILE]
    return [f for f in files if f.exists()]


def code_fingerprint() -> str:
    """The build code, and metadata.yml, whose descriptions go into the downloads (datapackage.json)."""
    from .site import ROOT

    digest = hashlib.sha256(__version__.encode())
    for path in [*sorted(Path(__file__).parent.glob("*.py")), ROOT / "metadata.yml"]:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(data_dir: Path, private: bool = False) -> str:
    """Changes whenever a source file (staff-only ones too, if ``private``, with metadata-interne.yml),
    the build code or metadata.yml changes."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(environment_fingerprint().encode())  # IATI settings the environment overrides
    digest.update(time_key(data_dir).encode())  # which plans' periods are over: statuses depend on it
    files = source_files(data_dir)
    if private:
        from .site import ROOT

        files += sorted(p for p in (data_dir / "interne").glob("*") if p.is_file())
        digest.update((ROOT / "metadata-interne.yml").read_bytes())  # the staff tables' descriptions
    for path in files:
        digest.update(str(path.relative_to(data_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _source_row(path: Path, data_dir: Path, kind: str, plan_id: str | None = None) -> dict:
    data = path.read_bytes()
    return {
        "fichier": str(path.relative_to(data_dir)),
        "type": kind,
        "plan_id": plan_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "octets": len(data),
        "lignes": data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1),
    }


def read_corpus(
    data_dir: Path, progress: Progress = no_progress, today: dt.date | None = None, private: bool = False
) -> Corpus:
    """Parse, validate and link every source; problems are collected in the corpus.

    With ``private``, the staff-only material of ``data/interne/`` is added (never otherwise read).
    """
    data_dir = Path(data_dir)
    today = reference_date(today)  # statuses are computed at this date (periods.py)
    corpus = Corpus(data_dir, private=private)
    if not data_dir.is_dir():
        corpus.problems.append(Problem(str(data_dir), 0, "dossier de données introuvable : vérifiez --data"))
        return corpus
    files = plan_files(data_dir)
    if not files:
        corpus.problems.append(
            Problem(str(data_dir / "plans"), 0, "aucun plan trouvé : déposez le plan en texte dans plans/*.txt")
        )
    for path in progress(files, "Lecture des plans"):
        plan = parse_plan(path.read_bytes(), str(path))
        corpus.plans.append(plan)
        corpus.sources.append(_source_row(path, data_dir, "plan", plan.period))
    plan_problems = validate_plans(corpus.plans)
    corpus.problems.extend(plan_problems)
    plans = {p.period: p for p in corpus.plans if p.period}
    reference, problems = load_reference(data_dir, plans)
    corpus.problems.extend(problems)
    iati_settings, problems = check_iati_reference(data_dir)
    corpus.problems.extend(problems)
    for name in sorted({t.source.file for t in SOURCED}):
        path = data_dir / "reference" / name
        if path.exists():
            corpus.sources.append(_source_row(path, data_dir, "reference"))
    if plan_problems or not plans:
        return corpus  # without sound plans, items cannot be numbered nor linked

    tables: dict[str, list[dict]] = {
        name: [] for name in ("plans", "objectifs", "actions", "activites", "passages", "lignes")
    }
    for plan in progress(corpus.plans, "Préparation des lignes"):
        fichier = str(Path(plan.path).relative_to(data_dir))
        for name, rows in plan_rows(plan, fichier).items():
            tables[name].extend(rows)
    tables.update(reference.tables)
    tables["periodes"], problems = period_rows(
        plans, tables.get("periodes", []), today, data_dir / "reference" / PERIODS
    )
    corpus.problems.extend(problems)
    apply_periods(tables["plans"], tables["periodes"])
    fixes, problems = link_fixes(data_dir, plans, tables)  # liens.yml: curated additions and exclusions
    corpus.problems.extend(problems + dependencies(data_dir, plans, tables))
    relations, matched = {r["id"]: r["relation"] for r in tables["pays"]}, {}
    tables.update(link_rows(tables["activites"], tables["actions"], reference.aliases, fixes, relations, matched))
    corpus.problems.extend(check_link_fixes(fixes, matched, data_dir))

    items = item_index(tables)
    statuses = {r["id"] for r in reference.tables.get("statuts", []) if not r.get("calcule")}  # declarable
    stated, problems = read_plan_statuses(data_dir / PLAN_STATUS_FILE, plans, items, statuses, data_dir)
    corpus.problems.extend(problems)
    stated, problems = rule_statements(plans, items, stated, data_dir / PLAN_STATUS_FILE)  # reading rules
    corpus.problems.extend(problems)
    corpus.problems.extend(check_curated(data_dir, plans))
    updates, problems = read_log(data_dir / LOG_FILE, plans, items, statuses, today, data_dir)
    corpus.problems.extend(problems)
    suivi_files = [data_dir / PLAN_STATUS_FILE, data_dir / LOG_FILE]
    if private:
        internal, problems = read_log(
            data_dir / PRIVATE_LOG_FILE, plans, items, statuses, today, data_dir, source="interne"
        )
        corpus.problems.extend(problems)
        updates = updates + internal
        organisations = {r["id"] for r in tables["organisations"]}
        notes, problems = read_private_notes(data_dir / NOTES_FILE, plans, items, organisations, data_dir)
        corpus.problems.extend(problems)
        tables["notes_internes"] = notes
        suivi_files += [data_dir / PRIVATE_LOG_FILE, data_dir / NOTES_FILE]
    tables["suivi"] = ordered_statements(stated, updates)
    tables["regles_lecture"] = rule_rows(tables)
    for path in suivi_files:
        if path.exists():
            corpus.sources.append(_source_row(path, data_dir, "interne" if "interne" in path.parts else "suivi"))
    tables["parametres_iati"] = iati_settings
    tables["sources"] = corpus.sources
    split_markup(tables)
    corpus.tables = tables
    return corpus


def check(
    data_dir: Path, progress: Progress = no_progress, today: dt.date | None = None, private: bool = False
) -> Corpus:
    """Parse and validate without writing anything; raise SourceError on problems."""
    corpus = read_corpus(data_dir, progress, today, private)
    if corpus.problems:
        raise SourceError(corpus.problems)
    return corpus


def build(
    data_dir: Path,
    db_path: Path,
    progress: Progress = no_progress,
    today: dt.date | None = None,
    export_dir: Path | None = None,
    private: bool = False,
) -> Corpus:
    """Check the sources, write the database and the downloads, and only then put the database in place.

    The new database is written to one staging file beside the old one (``.ciso.db.PID.tmp``);
    the downloads are made (and validated) from it; if anything fails, the staging file is
    removed and the previous database stays as it was. A build that was killed cannot clean
    up: the next one removes what it left (see staging.py).
    """
    import os

    from .export import export
    from .load import write_database
    from .site import load_metadata, staff_metadata
    from .staging import checkpoint, fsync_dir, remove_staged_database, remove_stale, staging_path

    db_path = Path(db_path)
    remove_stale(db_path)
    if export_dir is not None:
        remove_stale(Path(export_dir))
    corpus = check(data_dir, progress, today, private)
    staged = staging_path(db_path)
    try:
        metadata = staff_metadata() if private else load_metadata()
        described = metadata["databases"]["ciso"]["tables"]  # the dictionary's titles and descriptions
        write_database(staged, corpus, fingerprint(Path(data_dir), private), progress, described)
        if export_dir is not None:
            export(staged, Path(export_dir), load_metadata())
        checkpoint("renommage")  # test-only: killed just before the new database is put in place
        os.replace(staged, db_path)
        fsync_dir(db_path.parent)
    finally:
        remove_staged_database(staged)
    return corpus
