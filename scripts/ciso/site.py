"""How the site is served: one set of Datasette options for the CLI and the tests."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("CISO_ROOT") or Path(__file__).resolve().parents[2])

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


def load_metadata(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "metadata.yml").read_text(encoding="utf-8"))


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
    extra = yaml.safe_load((root / "metadata-interne.yml").read_text(encoding="utf-8"))
    return merge(load_metadata(root), extra)


DOWNLOADS = "telechargements"  # URL prefix of the export directory


def datasette_kwargs(root: Path = ROOT, export_dir: Path | None = None, staff: bool = False) -> dict:
    """Keyword arguments for ``datasette.app.Datasette`` (used by the tests)."""
    mounts = [("static", str(root / "static"))]
    if export_dir is not None:
        mounts.append((DOWNLOADS, str(export_dir)))
    return {
        "secret": os.environ.get(SECRET_ENV) or None,  # as ``datasette serve`` does (else random per process)
        "metadata": staff_metadata(root) if staff else load_metadata(root),
        "plugins_dir": str(root / "plugins"),
        "template_dir": str(root / "templates"),
        "static_mounts": mounts,
        "settings": dict(SETTINGS),
    }


def serve_args(
    db_path: Path,
    host: str,
    port: int,
    root: Path = ROOT,
    inspect_file: Path | None = None,
    export_dir: Path | None = None,
    metadata_file: Path | None = None,
) -> list[str]:
    """Arguments for ``datasette serve`` with the project's options (never ``--crossdb``)."""
    args = [
        "serve",
        "-i",
        str(db_path),
        "--metadata",
        str(metadata_file or root / "metadata.yml"),
        "--plugins-dir",
        str(root / "plugins"),
        "--template-dir",
        str(root / "templates"),
        "--static",
        f"static:{root / 'static'}",
        "--host",
        host,
        "--port",
        str(port),
    ]
    if inspect_file is not None:
        args += ["--inspect-file", str(inspect_file)]
    if export_dir is not None:
        args += ["--static", f"{DOWNLOADS}:{export_dir}"]
    for key, value in SETTINGS.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        args += ["--setting", key, str(value)]
    return args
