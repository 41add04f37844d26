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
    "default_cache_ttl": 300,
}


def load_metadata(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "metadata.yml").read_text(encoding="utf-8"))


def datasette_kwargs(root: Path = ROOT) -> dict:
    """Keyword arguments for ``datasette.app.Datasette`` (used by the tests)."""
    return {
        "metadata": load_metadata(root),
        "plugins_dir": str(root / "plugins"),
        "template_dir": str(root / "templates"),
        "static_mounts": [("static", str(root / "static"))],
        "settings": dict(SETTINGS),
    }


def serve_args(db_path: Path, host: str, port: int, root: Path = ROOT, inspect_file: Path | None = None) -> list[str]:
    """Arguments for ``datasette serve`` with the project's options."""
    args = [
        "serve",
        "-i",
        str(db_path),
        "--metadata",
        str(root / "metadata.yml"),
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
    for key, value in SETTINGS.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        args += ["--setting", key, str(value)]
    return args
