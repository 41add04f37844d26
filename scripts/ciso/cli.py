"""The ``ciso`` command line: build, check and serve CISO's open data."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import click
from tabulate import tabulate

from . import __version__
from .build import build as build_database
from .build import check as check_sources
from .build import fingerprint
from .export import ExportError
from .problems import Erreur, SourceError

CONTEXT = {"help_option_names": ["-h", "--help"]}


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


def inside(path: Path, folder: Path) -> bool:
    """True if ``path`` is in ``folder`` once both are resolved (symbolic links and ``..`` included)."""
    root = Path(folder).resolve()
    target = Path(path).resolve()
    return target != root and target.is_relative_to(root)


def site_paths(db_path: Path | None, export_dir: Path | None, interne: bool) -> tuple[Path, Path | None]:
    """The database and downloads of ``build``/``serve``: public by default, and with --interne
    only inside interne/ (the staff database never replaces nor sits beside the public one)."""
    from .site import STAFF_DIR

    if not interne:
        db_path = db_path or Path("ciso.db")
        return db_path, default_export(db_path, export_dir)
    db_path = db_path or Path(STAFF_DIR) / "ciso.db"
    for option, path in (("--db", db_path), ("--export", export_dir)):
        if path is not None and not inside(path, Path(STAFF_DIR)):
            raise Erreur(
                f"avec --interne, {option} doit désigner un chemin du dossier {STAFF_DIR}/ : « {path} » en sort. "
                f"La base de l'équipe contient des données non publiques ; écrivez-la dans {STAFF_DIR}/ "
                f"(par défaut {STAFF_DIR}/ciso.db)."
            )
    return db_path, export_dir


def refuse_staff_database(db_path: Path) -> None:
    """The public commands never serve nor export the staff database."""
    from .load import is_staff_database
    from .web import STAFF_DATABASE_MESSAGE

    if is_staff_database(db_path):
        raise Erreur(STAFF_DATABASE_MESSAGE.format(path=db_path))


DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Base SQLite [défaut : ciso.db, ou interne/ciso.db avec --interne ; avec --interne, toujours dans interne/].",
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
    db_path, export_dir = site_paths(db_path, export_dir, interne)
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
    from .site import STAFF_DIR, load_metadata

    db_path = db_path or Path("ciso.db")
    if not db_path.exists():
        raise Erreur(f"{db_path} introuvable : lancez d'abord « ciso build ».")
    if not inside(out_dir, Path(STAFF_DIR)):
        refuse_staff_database(db_path)
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
@click.option(
    "--reconstruire/--sans-reconstruire",
    "rebuilds",
    default=True,
    show_default=True,
    help="Reconstruire la base quand les sources changent (sans : servir la base telle qu'elle est "
    "remplacée, par exemple par un « ciso build » lancé ailleurs).",
)
def serve(data_dir: Path, db_path: Path, export_dir: Path, interne: bool, host: str, port: int | None, rebuilds: bool):
    """Servir la base avec Datasette, et la tenir à jour de ses sources sans interruption.

    Le site public sert ciso.db en lecture seule (mode immuable). Chaque seconde,
    « ciso serve » regarde si les sources ont changé (il reconstruit alors la base)
    et si la base a été remplacée (par lui ou par un « make build ») : il met alors
    en service un nouveau processus avant de retirer l'ancien, sans qu'aucune
    requête n'échoue. Avec --interne, il sert la base de l'équipe (interne/ciso.db)
    derrière une connexion : le mot de passe est vérifié contre l'empreinte de la
    variable CISO_MOT_DE_PASSE_HASH (obtenue avec « datasette hash-password »).

    Exemple : ciso serve --port 8001
    """
    from .site import PASSWORD_ENV, SECRET_ENV, SECRET_MIN_LENGTH, STAFF_PORT
    from .supervisor import Supervisor, listening_socket

    db_path, export_dir = site_paths(db_path, export_dir, interne)
    if interne:
        if not os.environ.get(PASSWORD_ENV):
            raise Erreur(
                f"définissez {PASSWORD_ENV} avec l'empreinte du mot de passe de l'équipe, par exemple : "
                f"export {PASSWORD_ENV}=$(.venv/bin/datasette hash-password)"
            )
        if len(os.environ.get(SECRET_ENV, "")) < SECRET_MIN_LENGTH:
            raise Erreur(
                f"définissez {SECRET_ENV} (au moins {SECRET_MIN_LENGTH} caractères aléatoires, gardés d'un démarrage "
                "à l'autre : ils signent les sessions de l'équipe), par exemple : "
                f"export {SECRET_ENV}=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
    else:
        refuse_staff_database(db_path)
    if rebuilds or not db_path.exists():
        ensure_built(data_dir, db_path, export_dir, private=interne)
    port = port or (STAFF_PORT if interne else 8001)
    try:
        sock = listening_socket(host, port)
    except OSError as e:
        raise Erreur(
            f"impossible d'écouter sur {host}:{port} ({e.strerror}) : un autre site y tourne-t-il déjà ?"
        ) from None
    worker_args = ["--interne"] if interne else (["--export", str(export_dir)] if export_dir else [])
    rebuild = Rebuilder(data_dir, db_path, export_dir, interne) if rebuilds else None
    click.echo(f"Site servi sur http://{host}:{port}/", err=True)
    Supervisor(db_path, sock, worker_args, rebuild).run()


class Rebuilder:
    """Rebuild the database when the sources changed; a failure is reported once, the site keeps
    serving the previous database, and the next change of the sources is tried again."""

    def __init__(self, data_dir: Path, db_path: Path, export_dir: Path | None, private: bool):
        self.data_dir, self.db_path, self.export_dir, self.private = data_dir, db_path, export_dir, private
        self.failed: str | None = None

    def __call__(self) -> None:
        current = fingerprint(self.data_dir, self.private)
        if current in (built_fingerprint(self.db_path), self.failed):
            return
        click.echo("Sources modifiées : reconstruction…", err=True)
        started = time.monotonic()
        try:
            build_database(self.data_dir, self.db_path, export_dir=self.export_dir, private=self.private)
        except (SourceError, ExportError) as e:
            problems = e.problems if isinstance(e, SourceError) else [e]
            for problem in problems:
                click.echo(str(problem), err=True)
            click.echo("Erreur : la base n'a pas été reconstruite ; le site sert encore la précédente.", err=True)
            self.failed = current
        else:
            self.failed = None
            click.echo(f"Base reconstruite en {time.monotonic() - started:.1f} s.", err=True)


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
@click.option("--note", default="", help="Ce qui a été fait, en une ligne, sans commencer par = + - @.")
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

    from .statements import LOG_FILE, append_update, check_update, item_index, log_lock, normalised

    if not data_dir.is_dir():
        raise Erreur(f"dossier de données {data_dir} introuvable : vérifiez --data")
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
    path = data_dir / LOG_FILE
    with log_lock(path):  # no other `ciso suivi ajouter` between the check and the write
        try:
            corpus = check_sources(data_dir)
        except SourceError as e:
            fail_with(e)
        plans = {p.period: p for p in corpus.plans}
        statuses = {r["id"] for r in corpus.tables["statuts"] if not r.get("calcule")}  # sans_bilan is computed
        errors = check_update(values, plans, item_index(corpus.tables), statuses, dt.date.today(), data_dir, new=True)
        if errors:
            for message in errors:
                click.echo(f"Refusé : {message}", err=True)
            click.echo("Rien n'a été écrit.", err=True)
            sys.exit(1)
        line = append_update(path, normalised(values))
    click.echo(f"Ajouté à {path} : {line.strip()}")
    click.echo(
        "Publiez-le : un « make serve » en cours le met en ligne de lui-même ; sinon make build. "
        "Puis validez le fichier dans git."
    )


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
    db_path = db_path or Path("ciso.db")
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
    table = [
        (
            period,
            numero,
            niveau,
            statut,
            "aucun suivi" if sans_suivi else (source or "activités"),
            date or "",
            texte if len(texte) <= 60 else texte[:59] + "…",
        )
        for period, numero, niveau, statut, source, date, texte, sans_suivi, _ in rows
    ]
    headers = ("plan", "numéro", "niveau", "statut", "source", "date", "texte")
    click.echo(tabulate(table, headers, tablefmt="plain", disable_numparse=True))


def fail_export(error: Exception, export_dir: Path | None) -> None:
    """The downloads are refused: nothing was replaced (database and downloads); say so, exit non-zero."""
    click.echo(f"Erreur : {error}", err=True)
    click.echo(f"Rien n'a été remplacé : ni la base, ni les téléchargements de {export_dir}/.", err=True)
    sys.exit(1)


def main():
    cli()
