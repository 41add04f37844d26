"""Helpers shared by the Datasette plugins in plugins/ (one place for site mode and static URLs)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PLUGIN = "ciso"


def is_staff_site(datasette) -> bool:
    """True on the private staff process (``ciso serve --interne``), whose metadata says so.

    The only permission decision our plugins make; moving to Datasette 1.0 touches this function.
    """
    return bool((datasette.plugin_config(PLUGIN) or {}).get("interne"))


@lru_cache(maxsize=256)
def _version(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(datasette, root: Path, name: str) -> str:
    """URL of a file of static/, with ``?v=`` the start of its hash, so it can be cached for a year."""
    path = root / "static" / name
    version = _version(str(path), path.stat().st_mtime) if path.exists() else "0"
    return datasette.urls.path(f"/static/{name}") + f"?v={version}"


def json_for_script(value) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can break out."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


async def check_visible(datasette, request) -> None:
    """Raise Forbidden unless the visitor may see the site (always on the public site; logged-in
    staff on the staff site). Our custom pages call this first, like Datasette's own pages do."""
    from datasette.utils.asgi import Forbidden

    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        raise Forbidden("Connexion requise.")
