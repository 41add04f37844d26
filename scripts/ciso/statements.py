"""Where statuses come from: the plan's own words, and the progress log.

Two sources, nothing else:

* ``suivi/statuts-du-plan.yml``: statuses the plan states, each with a verbatim
  quotation that must appear in the text of the item it is about;
* ``suivi/mises-a-jour.csv``: the append-only log of progress updates staff
  record with ``ciso suivi ajouter`` (one line per update).

Both become rows of the ``suivi`` table; the rollups of rollups.py pick the latest statement.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .plan import Plan
from .problems import Problem
from .shapes import NOTE_SCHEMA, PLAN_STATUS_SCHEMA, read_checked
from .spreadsheet import is_formula_like
from .staging import fsync_dir

PLAN_STATUS_FILE = Path("suivi") / "statuts-du-plan.yml"
LOG_FILE = Path("suivi") / "mises-a-jour.csv"
LOG_COLUMNS = ["date", "plan", "element", "statut", "avancement", "note", "preuve", "par"]
ELEMENT_RE = re.compile(r"[0-9]+\.[0-9]+(\.[0-9]+)?")
FORMULA_START = {"\t": "une tabulation", "\r": "un retour chariot"}  # shown in French
URL_RE = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Item:
    """An action or activity that a status can be about."""

    plan_id: str
    numero: str
    niveau: str  # action or activite
    element_id: str
    objectif_id: str
    action_id: str
    activite_id: str | None
    texte: str
    ligne: int


def item_index(tables: dict[str, list[dict]]) -> dict[tuple[str, str], Item]:
    """(plan, numbering) -> item, for every action and activity."""
    items = {}
    for a in tables["actions"]:
        text = a["titre"] + "\n" + (a["description"] or "")
        items[(a["plan_id"], a["numero"])] = Item(
            a["plan_id"], a["numero"], "action", a["id"], a["objectif_id"], a["id"], None, text, a["ligne"]
        )
    for a in tables["activites"]:
        items[(a["plan_id"], a["numero"])] = Item(
            a["plan_id"],
            a["numero"],
            "activite",
            a["id"],
            a["objectif_id"],
            a["action_id"],
            a["id"],
            a["texte"],
            a["ligne"],
        )
    return items


def parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value or "") else None
    except ValueError:
        return None


def parse_percent(value: str) -> int | None:
    """0 to 100 written in ASCII digits only (``040`` is 40); None for anything else (``٤٠``, `` 40``, ``+40``, ``1_0``)."""
    if not re.fullmatch(r"[0-9]{1,3}", str(value)):
        return None
    number = int(value)
    return number if number <= 100 else None


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_web_address(text: str) -> bool:
    """A complete http(s) address: scheme, host name, a valid port if any; no space nor control character."""
    if not URL_RE.fullmatch(text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return bool(parts.hostname) and re.fullmatch(r"[\w.-]+|[0-9a-f:.]+", parts.hostname) is not None


def is_data_file(text: str, data_dir: Path) -> bool:
    """A file inside ``data_dir``, written relative to it, once ``..`` and symbolic links are resolved."""
    if Path(text).is_absolute():
        return False
    root = Path(data_dir).resolve()
    try:
        target = (root / text).resolve()
    except (OSError, ValueError, RuntimeError):
        return False
    return target.is_relative_to(root) and target.is_file()


def check_update(
    values: dict,
    plans: dict[str, Plan],
    items: dict[tuple[str, str], Item],
    statuses: set[str],
    today: dt.date,
    data_dir: Path,
    new: bool = False,
) -> list[str]:
    """Every reason to refuse one progress update (empty list: acceptable).

    ``new`` for a line that ``ciso suivi ajouter`` is about to write: it must also have no
    note nor author that a spreadsheet would run as a formula (the log may hold such values
    from earlier; the Excel downloads neutralise them anyway).
    """
    garbled = [key for key, value in values.items() if isinstance(value, str) and not is_utf8(value)]
    if garbled:  # from the command line only (click passes undecodable bytes as surrogates)
        return [
            f"« {key} » n'est pas du texte UTF-8 valide : vérifiez l'encodage du terminal et retapez la valeur"
            for key in garbled
        ]
    errors = []
    plan = values.get("plan") or ""
    element = values.get("element") or ""
    if plan not in plans:
        errors.append(f"plan « {plan} » inconnu (plans : {', '.join(sorted(plans)) or 'aucun'})")
    elif not ELEMENT_RE.fullmatch(element):
        errors.append(f"numéro « {element} » invalide : écrivez 1.4 pour une action, 1.4.2 pour sa deuxième activité")
    elif (plan, element) not in items:
        kind = "activité" if element.count(".") == 2 else "action"
        errors.append(f"{kind} {element} introuvable dans le plan {plan}")
    statut = values.get("statut") or ""
    if statut not in statuses:
        errors.append(f"statut « {statut} » inconnu (statuts permis : {', '.join(sorted(statuses))})")
    date = parse_date(values.get("date") or "")
    if date is None:
        errors.append(
            f"date « {values.get('date') or ''} » invalide : écrivez AAAA-MM-JJ, par exemple {today.isoformat()}"
        )
    elif date > today:
        errors.append(f"date {date.isoformat()} dans le futur : une mise à jour constate ce qui a eu lieu")
    elif plan in plans:
        earliest = dt.date(plans[plan].start_year - 1, 4, 1)
        if date < earliest:
            errors.append(
                f"date {date.isoformat()} trop ancienne pour le plan {plan} : au plus tôt {earliest.isoformat()}"
            )
    avancement = values.get("avancement")
    if avancement not in (None, "") and parse_percent(avancement) is None:
        errors.append(f"avancement « {avancement} » invalide : un entier de 0 à 100 (pour cent), en chiffres 0-9")
    preuve = values.get("preuve") or ""
    if preuve and not is_web_address(preuve) and not is_data_file(preuve, data_dir):
        errors.append(
            f"preuve « {preuve} » : indiquez une adresse http(s):// complète, ou le chemin d'un fichier "
            f"sous {data_dir}/ écrit depuis ce dossier (sans en sortir, même par un lien symbolique)"
        )
    for key in ("note", "preuve", "par"):
        if "\n" in (values.get(key) or "") or "\r" in (values.get(key) or ""):
            errors.append(f"« {key} » doit tenir sur une ligne")
    for key in ("note", "par") if new else ():
        text = values.get(key) or ""
        if is_formula_like(text):
            start = FORMULA_START.get(text[0], f"« {text[0]} »")
            errors.append(
                f"« {key} » commence par {start} : un tableur le prendrait pour une formule ; "
                "commencez par un mot (par exemple « Total : … »)"
            )
    return errors


def read_log(
    path: Path,
    plans: dict[str, Plan],
    items: dict[tuple[str, str], Item],
    statuses: set[str],
    today: dt.date,
    data_dir: Path,
    source: str = "mise_a_jour",
) -> tuple[list[dict], list[Problem]]:
    """Read a progress log; every bad line is a problem naming its line.

    ``source`` is ``mise_a_jour`` for the public log, ``interne`` for the staff-only one.
    """
    shown = str(path)
    if not path.exists():
        return [], []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Problem(shown, 1, f"le journal n'est pas en UTF-8 ({e.reason})")]
    rows, problems = [], []
    for line, record, problem in log_records(text):
        if problem:
            problems.append(Problem(shown, line, problem))
            continue
        errors = check_update(record, plans, items, statuses, today, data_dir)
        if errors:
            problems.extend(Problem(shown, line, message) for message in errors)
            continue
        item = items[(record["plan"], record["element"])]
        rows.append(
            _row(
                item,
                f"{path.relative_to(data_dir).with_suffix('').as_posix().replace('/', '-')}-{line}",
                record["statut"],
                source,
                fichier=str(path.relative_to(data_dir)),
                ligne=line,
                date=record["date"],
                avancement=parse_percent(record["avancement"]) if record["avancement"] else None,
                note=record["note"] or None,
                preuve=record["preuve"] or None,
                par=record["par"] or None,
            )
        )
    return rows, problems


def log_records(text: str):
    """Strict reading of a log: ``(line, record, None)`` per row, ``(line, None, problem)`` per bad row.

    The header must name the columns of LOG_COLUMNS; every row must have exactly as many
    fields; a quote left open (a log cut in its last field) is a problem, not a short value.
    Blank lines are skipped.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            where = "en fin de fichier (journal coupé ?)" if "end of data" in str(e) else "au milieu d'un champ"
            yield (
                line,
                None,
                f'guillemet non fermé ou mal placé {where} : chaque champ entre guillemets se ferme par « " »',
            )
            continue
        if header is None:
            if sorted(fields) != sorted(LOG_COLUMNS):
                yield line, None, f"en-tête attendu : {','.join(LOG_COLUMNS)}"
                return
            header = fields
        elif fields:
            if len(fields) != len(header):
                yield (
                    line,
                    None,
                    f"{len(fields)} champ{'s' if len(fields) > 1 else ''} au lieu de {len(header)} "
                    f"({','.join(header)}) : une virgule en trop ou en moins ? Mettez entre guillemets un texte "
                    "qui contient une virgule",
                )
            else:
                yield line, dict(zip(header, fields, strict=True)), None


def read_plan_statuses(
    path: Path, plans: dict[str, Plan], items: dict[tuple[str, str], Item], statuses: set[str], data_dir: Path
) -> tuple[list[dict], list[Problem]]:
    """Read the statuses the plans state; each quotation must be in its item's text."""
    shown = str(path)
    if not path.exists():
        return [], []
    entries, problems = read_checked(path, PLAN_STATUS_SCHEMA)  # those of the wrong shape are reported
    rows = []
    for entry in entries:
        before = len(problems)
        period, element = str(entry["plan"]), str(entry["element"])
        item = items.get((period, element))
        if period not in plans:
            problems.append(Problem(shown, entry.line_of("plan"), f"plan « {period} » inconnu"))
        elif item is None:
            problems.append(
                Problem(shown, entry.line_of("element"), f"élément {element} introuvable dans le plan {period}")
            )
        if entry["statut"] not in statuses:
            problems.append(
                Problem(
                    shown,
                    entry.line_of("statut"),
                    f"statut « {entry['statut']} » inconnu ({', '.join(sorted(statuses))})",
                )
            )
        quotation = entry["citation"]
        if item is not None and quotation not in item.texte:
            where = "ailleurs dans le plan" if quotation in plans[period].text else "nulle part dans le plan"
            problems.append(
                Problem(
                    shown,
                    entry.line_of("citation"),
                    f"citation introuvable mot pour mot dans le texte de {element} (ligne {item.ligne} de "
                    f"{plans[period].path}) ; elle se trouve {where} : « {quotation[:80]} »",
                )
            )
        date_fin = entry.get("date_fin")
        if date_fin is not None and parse_date(date_fin) is None:
            problems.append(Problem(shown, entry.line_of("date_fin"), f"date_fin « {date_fin} » invalide (AAAA-MM-JJ)"))
        if len(problems) > before:
            continue
        plan = plans[period]
        start = plan.text.find(quotation, _offset_of_line(plan.text, item.ligne))
        rows.append(
            _row(
                item,
                f"{item.element_id}-plan",
                entry["statut"],
                "plan",
                fichier=str(Path("plans") / Path(plan.path).name),
                ligne=plan.text.count("\n", 0, start) + 1,
                citation=quotation,
                note=entry.get("note"),
                date_fin=str(date_fin) if date_fin is not None else None,
            )
        )
    return rows, problems


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


def _row(item: Item, row_id: str, statut: str, source: str, **values) -> dict:
    row = {
        "id": row_id,
        "plan_id": item.plan_id,
        "element": item.numero,
        "niveau": item.niveau,
        "element_id": item.element_id,
        "objectif_id": item.objectif_id,
        "action_id": item.action_id,
        "activite_id": item.activite_id,
        "statut": statut,
        "source": source,
        "date": None,
        "date_fin": None,
        "avancement": None,
        "citation": None,
        "note": None,
        "preuve": None,
        "par": None,
    }
    row.update(values)
    return row


def order_statements(plan_rows: list[dict], update_rows: list[dict]) -> list[dict]:
    """Chronological order (``rang``): the plan's statements first, then updates by date and line."""
    ordered = sorted(plan_rows, key=lambda r: (r["plan_id"], r["ligne"])) + sorted(
        update_rows, key=lambda r: (r["date"], r["fichier"], r["ligne"])
    )
    for rank, row in enumerate(ordered, start=1):
        row["rang"] = rank
    return ordered


def format_log_line(values: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([values.get(c) or "" for c in LOG_COLUMNS])
    return buffer.getvalue()


def normalised(values: dict) -> dict:
    """The update as written to the log: ``avancement`` without leading zeros (``040`` → ``40``)."""
    avancement = values.get("avancement")
    return {**values, "avancement": str(parse_percent(avancement)) if avancement not in (None, "") else ""}


@contextmanager
def log_lock(path: Path):
    """Exclusive lock around read → check → write of a log, on ``.NAME.lock`` beside it.

    ``fcntl.flock``: other writers wait; the kernel releases it if the process dies.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def append_update(path: Path, values: dict) -> str:
    """Append one line to the log (creating it with its header), durably; return the line written.

    Call it under ``log_lock``. The line is appended in one write, then flushed and fsynced
    (and the folder too when the log is new), so an acknowledged update survives a crash.
    """
    line = format_log_line(values)
    data = line.encode("utf-8")
    size = path.stat().st_size if path.exists() else 0
    if not size:
        data = format_log_line({c: c for c in LOG_COLUMNS}).encode("utf-8") + data
    else:
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                data = b"\n" + data
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if not size:
        fsync_dir(path.parent)
    return line


NOTES_FILE = Path("interne") / "notes.yml"


def read_private_notes(
    path: Path, plans: dict[str, Plan], items: dict[tuple[str, str], Item], organisations: set[str], data_dir: Path
) -> tuple[list[dict], list[Problem]]:
    """Staff-only notes (``data/interne/notes.yml``), e.g. about partners at risk: never published."""
    shown = str(path)
    if not path.exists():
        return [], []
    entries, problems = read_checked(path, NOTE_SCHEMA)  # those of the wrong shape are reported
    rows, seen = [], set()
    for entry in entries:
        before = len(problems)
        note_id = entry["id"]
        if note_id in seen:
            problems.append(Problem(shown, entry.line_of("id"), f"id « {note_id} » en double"))
        seen.add(note_id)
        if parse_date(entry["date"]) is None:
            problems.append(Problem(shown, entry.line_of("date"), f"date « {entry['date']} » invalide (AAAA-MM-JJ)"))
        organisation = entry.get("organisation")
        if organisation is not None and organisation not in organisations:
            problems.append(Problem(shown, entry.line_of("organisation"), f"organisation « {organisation} » inconnue"))
        item = None
        if entry.get("element") is not None:
            item = items.get((str(entry.get("plan")), str(entry.get("element"))))
            if item is None:
                problems.append(
                    Problem(shown, entry.line_of("element"), "élément introuvable (indiquez plan et element)")
                )
        if len(problems) > before:
            continue
        rows.append(
            {
                "id": note_id,
                "date": str(entry["date"]),
                "organisation_id": organisation,
                "plan_id": item.plan_id if item else None,
                "element": item.numero if item else None,
                "action_id": item.action_id if item else None,
                "activite_id": item.activite_id if item else None,
                "sensibilite": entry["sensibilite"],
                "note": entry["note"],
                "fichier": str(path.relative_to(data_dir)),
                "ligne": entry.line,
            }
        )
    return rows, problems
