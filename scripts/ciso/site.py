"""How the site is served: one set of Datasette options for the CLI and the tests."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .yamlsource import SafeLoader


def project_root() -> Path:
    """Where metadata.yml and data/ are: ``CISO_ROOT``, else the source tree this package runs
    from (an editable install), else the current folder (installed from a wheel, as in the image)."""
    if os.environ.get("CISO_ROOT"):
        return Path(os.environ["CISO_ROOT"])
    tree = Path(__file__).resolve().parents[2]
    return tree if (tree / "metadata.yml").is_file() else Path.cwd()


ROOT = project_root()

SETTINGS = {
    "default_page_size": 50,
    "max_returned_rows": 1000,
    "sql_time_limit_ms": 250,
    "facet_time_limit_ms": 200,
    "suggest_facets": False,
    "allow_download": True,
    "default_cache_ttl": 60,  # Cache-Control max-age of public pages (plugins/caching.py)
}


STAFF_PORT = 8002
STAFF_DIR = "interne"  # the staff database and its metadata, never opened by the public process
PASSWORD_ENV = "CISO_MOT_DE_PASSE_HASH"
SECRET_ENV = "DATASETTE_SECRET"  # signs the staff session cookies: kept across restarts, sessions survive them
SECRET_MIN_LENGTH = 32
HTTPS_ENV = "CISO_FORCE_HTTPS_URLS"  # "1" behind a proxy that ends TLS: Datasette writes https:// URLs


def load_metadata(root: Path = ROOT) -> dict:
    return yaml.load((root / "metadata.yml").read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - safe


def label_columns(metadata: dict) -> dict[str, str]:
    """{table: the column that names its rows} (``label_column`` in metadata.yml, as Datasette reads it)."""
    tables = metadata.get("databases", {}).get("ciso", {}).get("tables", {})
    return {name: meta["label_column"] for name, meta in tables.items() if (meta or {}).get("label_column")}


def merge(base: dict, extra: dict) -> dict:
    """Deep merge of two metadata mappings (extra wins)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def staff_metadata(root: Path = ROOT) -> dict:
    """metadata.yml plus metadata-interne.yml: login required, staff-only tables described."""
    extra = yaml.load((root / "metadata-interne.yml").read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506
    return merge(load_metadata(root), extra)


DOWNLOADS = "telechargements"  # URL prefix of the export directory (plugins/downloads.py)
WORKBOOK = "ciso-donnees"  # the spreadsheet files: ciso-donnees.xlsx (Excel) and ciso-donnees.ods (LibreOffice)
SPREADSHEETS = (f"{WORKBOOK}.xlsx", f"{WORKBOOK}.ods")
# The rollups written as CSV beside the tables' (csv/ and excel/), offered first on /-/telechargements: what
# allies ask for (each activity with its status and titles, progress by objective and plan, countries, funding).
DETAILED_ACTIVITIES = "activites_detaillees"  # the rollup of the « Activités détaillées » sheet
ROLLUP_DOWNLOADS = (
    DETAILED_ACTIVITIES,
    "statut_activites",
    "statut_actions",
    "avancement_objectifs",
    "avancement_plans",
    "pays_partenaires",
    "autres_pays",
    "financements_par_statut",
)


def datasette_kwargs(root: Path = ROOT, export_dir: Path | None = None, staff: bool = False) -> dict:
    """Keyword arguments for ``datasette.app.Datasette`` (the runner and the tests).

    The plugins, their templates and static files come with the installed package (entry points,
    see plugins/__init__.py), so none is passed here. The downloads are ``export/`` beside the
    database, unless ``export_dir`` names another folder."""
    from .web import DOWNLOADS_SETTING, PLUGIN

    metadata = staff_metadata(root) if staff else load_metadata(root)
    if export_dir is not None:
        metadata = merge(metadata, {"plugins": {PLUGIN: {DOWNLOADS_SETTING: str(Path(export_dir).resolve())}}})
    settings = dict(SETTINGS)
    if os.environ.get(HTTPS_ENV, "").strip().lower() in ("1", "on", "true"):
        settings["force_https_urls"] = True
    return {
        "secret": os.environ.get(SECRET_ENV) or None,  # as ``datasette serve`` does (else random per process)
        "metadata": metadata,
        "settings": settings,
    }


def serve_args(db_path: Path, host: str, port: int, root: Path = ROOT, inspect_file: Path | None = None) -> list[str]:
    """Arguments for ``datasette serve`` with the project's options (never ``--crossdb``); the
    plugins and the downloads (export/ beside the database) come with the installed package."""
    args = ["serve", "-i", str(db_path), "--metadata", str(root / "metadata.yml"), "--host", host, "--port", str(port)]
    if inspect_file is not None:
        args += ["--inspect-file", str(inspect_file)]
    for key, value in SETTINGS.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        args += ["--setting", key, str(value)]
    return args
