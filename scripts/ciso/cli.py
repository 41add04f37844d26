"""The ``ciso`` command line: build, check and serve CISO's open data."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from . import __version__
from .build import build as build_database
from .build import check as check_sources
from .build import fingerprint
from .export import ExportError
from .problems import SourceError

CONTEXT = {"help_option_names": ["-h", "--help"]}


class Erreur(click.ClickException):
    """A user mistake: a French message on stderr, exit status 1, no traceback."""

    def show(self, file=None):
        click.echo(f"Erreur : {self.format_message()}", err=True)


DATA_OPTION = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="data",
    show_default=True,
    help="Dossier des sources (plans/, reference/).",
)
EXPORT_OPTION = click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier des téléchargements (CSV, paquet de données, zip), refait à chaque construction "
    "[défaut : export/ à côté de la base].",
)


def default_export(db_path: Path, export_dir: Path | None) -> Path:
    return export_dir if export_dir is not None else db_path.parent / "export"


INTERNE_OPTION = click.option(
    "--interne",
    is_flag=True,
    help="Base de l'équipe : ajoute le contenu non public de DATA/interne/ (écrit dans interne/ciso.db).",
)


def staff_db(db_path: Path, interne: bool) -> Path:
    """The staff database lives apart from the public one, in interne/."""
    from .site import STAFF_DIR

    if not interne:
        return db_path
    return Path(STAFF_DIR) / "ciso.db" if db_path == Path("ciso.db") else db_path


DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="ciso.db",
    show_default=True,
    help="Base SQLite (interne/ciso.db avec --interne).",
)


def progress(items, label):
    """A progress bar on stderr for long work (hidden when stderr is not a terminal)."""
    items = list(items)
    if len(items) < 2 or not sys.stderr.isatty():
        return items
    return _bar(items, label)


def _bar(items, label):
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


def fail_with(error: SourceError) -> None:
    for problem in error.problems:
        click.echo(str(problem), err=True)
    count = len(error.problems)
    click.echo(
        f"Erreur : {count} problème{'s' if count > 1 else ''} dans les sources ; rien n'a été écrit.",
        err=True,
    )
    sys.exit(1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="ciso")
def cli():
    """Données ouvertes du CISO : construire, vérifier et publier la base.

    Exemple : ciso build && ciso serve
    """


@cli.command()
@DATA_OPTION
@DB_OPTION
@EXPORT_OPTION
@INTERNE_OPTION
def build(data_dir: Path, db_path: Path, export_dir: Path, interne: bool):
    """Lire les plans et les références, vérifier, écrire la base.

    La base est écrite dans un fichier temporaire puis renommée : en cas
    d'erreur, la base existante reste intacte.

    Exemple : ciso build --data data --db ciso.db
    """
    db_path = staff_db(db_path, interne)
    export_dir = None if interne else default_export(db_path, export_dir)
    try:
        corpus = build_database(data_dir, db_path, progress, export_dir=export_dir, private=interne)
    except SourceError as e:
        fail_with(e)
    except ExportError as e:
        fail_export(e, export_dir)
    t = corpus.tables
    click.echo(
        f"{db_path} : {len(t['plans'])} plan(s), {len(t['objectifs'])} objectifs, "
        f"{len(t['actions'])} actions, {len(t['activites'])} activités, "
        f"{len(t['passages'])} passages"
        + (f" ; téléchargements dans {export_dir}/." if export_dir else " ; base interne, non publique.")
    )


@cli.command("export")
@DB_OPTION
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Dossier à écrire."
)
def export_command(db_path: Path, out_dir: Path):
    """Écrire les téléchargements : chaque table en CSV (simple et pour Excel), un paquet
    de données Frictionless v2 (datapackage.json) validé, et le tout dans ciso-donnees.zip.

    Exemple : ciso export --db ciso.db --out export
    """
    from .export import ExportError, export
    from .site import load_metadata

    if not db_path.exists():
        raise Erreur(f"{db_path} introuvable : lancez d'abord « ciso build ».")
    try:
        summary = export(db_path, out_dir, load_metadata())
    except ExportError as e:
        raise Erreur(str(e)) from None
    click.echo(f"{summary['tables']} tables exportées dans {out_dir}/ ; paquet : {summary['paquet']}")
    click.echo(f"Fichier IATI 2.03 validé : {summary['iati']}")


@cli.command()
@DATA_OPTION
def check(data_dir: Path):
    """Vérifier les sources sans rien écrire ; liste chaque problème.

    Exemple : ciso check --data data
    """
    try:
        corpus = check_sources(data_dir, progress)
    except SourceError as e:
        fail_with(e)
    click.echo(f"{data_dir} : {len(corpus.plans)} plan(s) valide(s), aucun problème.")


def built_fingerprint(db_path: Path) -> str | None:
    if not db_path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            row = conn.execute("select valeur from construction where cle = 'empreinte'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


@cli.command()
@DATA_OPTION
@DB_OPTION
@EXPORT_OPTION
@INTERNE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", "-p", type=int, help="Port d'écoute [défaut : 8001, ou 8002 avec --interne].")
def serve(data_dir: Path, db_path: Path, export_dir: Path, interne: bool, host: str, port: int | None):
    """Reconstruire la base si les sources ont changé, puis la servir avec Datasette.

    Le site public sert ciso.db en lecture seule (mode immuable). Avec --interne,
    un second processus sert la base de l'équipe (interne/ciso.db) derrière une
    connexion : le mot de passe est vérifié contre l'empreinte de la variable
    CISO_MOT_DE_PASSE_HASH (obtenue avec « datasette hash-password »).

    Exemple : ciso serve --port 8001
    """
    import json
    import subprocess

    from .site import PASSWORD_ENV, STAFF_PORT, serve_args, staff_metadata

    db_path = staff_db(db_path, interne)
    metadata_file = None
    if interne:
        if not os.environ.get(PASSWORD_ENV):
            raise Erreur(
                f"définissez {PASSWORD_ENV} avec l'empreinte du mot de passe de l'équipe, par exemple : "
                f"export {PASSWORD_ENV}=$(.venv/bin/datasette hash-password)"
            )
        export_dir = None
        ensure_built(data_dir, db_path, None, private=True)
        metadata_file = db_path.parent / "metadata.json"
        metadata_file.write_text(json.dumps(staff_metadata(), ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        export_dir = default_export(db_path, export_dir)
        ensure_built(data_dir, db_path, export_dir)
    port = port or (STAFF_PORT if interne else 8001)
    inspect_file = db_path.with_name(db_path.stem + "-inspect.json")
    subprocess.run(
        [sys.executable, "-m", "datasette", "inspect", str(db_path), "--inspect-file", str(inspect_file)], check=True
    )
    args = [
        sys.executable,
        "-m",
        "datasette",
        *serve_args(db_path, host, port, export_dir=export_dir, metadata_file=metadata_file, inspect_file=inspect_file),
    ]
    click.echo(f"Site servi sur http://{host}:{port}/", err=True)
    os.execv(sys.executable, args)


def ensure_built(data_dir: Path, db_path: Path, export_dir: Path | None = None, private: bool = False) -> None:
    """Rebuild the database when the sources (or the code) changed since it was built."""
    stale = built_fingerprint(db_path) != fingerprint(data_dir, private)
    if stale or (export_dir is not None and not (export_dir / "datapackage.json").exists()):
        click.echo("Sources modifiées depuis la dernière construction : reconstruction…", err=True)
        try:
            build_database(data_dir, db_path, progress, export_dir=export_dir, private=private)
        except SourceError as e:
            fail_with(e)
        except ExportError as e:
            fail_export(e, export_dir)


@cli.group(context_settings=CONTEXT)
def suivi():
    """Suivi de l'avancement : inscrire une mise à jour, lister les statuts.

    Exemple : ciso suivi ajouter 2020-2021 1.4.2 en_cours --date 2020-11-15
    """


@suivi.command("ajouter")
@click.argument("plan")
@click.argument("numero")
@click.argument("statut")
@click.option("--date", "date_", required=True, metavar="AAAA-MM-JJ", help="Date du constat (pas dans le futur).")
@click.option("--avancement", metavar="N", help="Avancement en pour cent, de 0 à 100.")
@click.option("--note", default="", help="Ce qui a été fait, en une ligne.")
@click.option("--preuve", default="", metavar="URL", help="Adresse http(s) ou fichier sous --data qui l'atteste.")
@click.option(
    "--par", default="équipe du CISO", show_default=True, help="Qui inscrit la mise à jour : un rôle, pas un nom."
)
@DATA_OPTION
def suivi_ajouter(plan, numero, statut, date_, avancement, note, preuve, par, data_dir: Path):
    """Ajouter une mise à jour au journal data/suivi/mises-a-jour.csv.

    NUMERO vaut 1.4 pour une action, 1.4.2 pour sa deuxième activité. STATUT
    est l'un de : prevu, conditionnel, en_cours, realise, reporte, annule.
    Tout est vérifié avant d'écrire ; en cas de refus, rien n'est écrit.

    Exemple : ciso suivi ajouter 2020-2021 1.4.2 realise --date 2021-03-15 --avancement 100 --note "Webinaire tenu"
    """
    import datetime as dt

    from .progress import LOG_FILE, append_update, check_update, item_index

    try:
        corpus = check_sources(data_dir)
    except SourceError as e:
        fail_with(e)
    values = {
        "date": date_,
        "plan": plan,
        "element": numero,
        "statut": statut,
        "avancement": avancement or "",
        "note": note,
        "preuve": preuve,
        "par": par,
    }
    plans = {p.period: p for p in corpus.plans}
    statuses = {r["id"] for r in corpus.tables["statuts"] if not r.get("calcule")}  # sans_bilan is computed
    errors = check_update(values, plans, item_index(corpus.tables), statuses, dt.date.today(), data_dir)
    if errors:
        for message in errors:
            click.echo(f"Refusé : {message}", err=True)
        click.echo("Rien n'a été écrit.", err=True)
        sys.exit(1)
    path = data_dir / LOG_FILE
    line = append_update(path, values)
    click.echo(f"Ajouté à {path} : {line.strip()}")
    click.echo("Publiez-le : make build (ou make serve), puis validez le fichier dans git.")


@suivi.command("liste")
@click.argument("plan", required=False)
@DATA_OPTION
@DB_OPTION
def suivi_liste(plan, data_dir: Path, db_path: Path):
    """Afficher le statut actuel de chaque action et activité.

    Reconstruit la base si les sources ont changé, puis lit les tables calculées
    statut_actions et statut_activites.

    Exemple : ciso suivi liste 2020-2021
    """
    ensure_built(data_dir, db_path, default_export(db_path, None))
    sql = """
        select plan_id, numero, 'action' as niveau, statut, source, date, titre as texte, sans_suivi, ordre
        from statut_actions where :plan is null or plan_id = :plan
        union all
        select plan_id, numero, 'activité', statut, source, date, texte, sans_suivi, ordre
        from statut_activites where :plan is null or plan_id = :plan
        order by ordre, niveau
    """
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        plans = [r[0] for r in conn.execute("select id from plans")]
        if plan is not None and plan not in plans:
            raise Erreur(f"plan « {plan} » inconnu (plans : {', '.join(plans)})")
        rows = conn.execute(sql, {"plan": plan}).fetchall()
    click.echo(f"{'plan':<10} {'numéro':<7} {'niveau':<9} {'statut':<13} {'source':<12} {'date':<10}  texte")
    for period, numero, niveau, statut, source, date, texte, sans_suivi, _ in rows:
        origin = "aucun suivi" if sans_suivi else (source or "activités")
        text = texte if len(texte) <= 60 else texte[:59] + "…"
        click.echo(f"{period:<10} {numero:<7} {niveau:<9} {statut:<13} {origin:<12} {date or '':<10}  {text}")


def fail_export(error: Exception, export_dir: Path | None) -> None:
    """The downloads are refused: nothing was replaced (database and downloads); say so, exit non-zero."""
    click.echo(f"Erreur : {error}", err=True)
    click.echo(f"Rien n'a été remplacé : ni la base, ni les téléchargements de {export_dir}/.", err=True)
    sys.exit(1)


def main():
    cli()
