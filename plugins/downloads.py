"""The downloads' files: /telechargements/{path}, from the export folder beside the database.

``ciso build`` writes the CSV files, the data package, the zip and the IATI file into
``export/`` next to ``ciso.db`` (``ciso.web.downloads_dir``); this route serves them, so plain
``datasette serve ciso.db`` offers them too. Only the kinds of file the export writes are
served, never a hidden file nor anything outside the folder (``..``, links): anything else is
the French 404 page. The page that lists them is /-/telechargements (transparency.py).
"""

from pathlib import Path

from ciso.site import DOWNLOADS
from ciso.web import check_visible, downloads_dir
from datasette import hookimpl
from datasette.utils.asgi import NotFound, asgi_send_file

CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".zip": "application/zip",
}


def download_file(folder: Path, name: str) -> Path | None:
    """The file ``name`` (``csv/actions.csv``) of ``folder``, or None if it is not one we serve."""
    parts = name.split("/")
    if "\x00" in name or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    if Path(name).suffix not in CONTENT_TYPES:
        return None
    target = (folder / name).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        return None
    return target


async def download(datasette, request, send):
    await check_visible(datasette, request)
    name = request.url_vars["path"]
    folder = downloads_dir(datasette)
    target = download_file(folder, name) if folder is not None else None
    if target is None:
        raise NotFound(f"Le fichier « {name[:200]} » ne fait pas partie des téléchargements.")
    await asgi_send_file(send, target, content_type=CONTENT_TYPES[target.suffix])


@hookimpl
def register_routes():
    return [(rf"^/{DOWNLOADS}/(?P<path>.+)$", download)]
