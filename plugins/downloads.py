"""The downloads: the page /-/telechargements, and the files at /telechargements/{path}.

``ciso build`` writes the spreadsheet files, the CSV files, the data package, the zip and the
IATI file into ``export/`` next to ``ciso.db`` (``ciso.web.downloads_dir``); the route below
serves them, so plain ``datasette serve ciso.db`` offers them too. Only the kinds of file the
export writes are served, never a hidden file nor anything outside the folder (``..``, links):
anything else is the French 404 page.

The page offers the spreadsheet files first, then the useful rollups (``site.ROLLUP_DOWNLOADS``),
the whole-dataset files and each table; row counts come from the database.
"""

from pathlib import Path

from ciso.export import EXCLUDED
from ciso.iati import FILE_NAME as IATI_FILE
from ciso.model import TABLES
from ciso.site import DOWNLOADS, ROLLUP_DOWNLOADS, SPREADSHEETS
from ciso.web import check_visible, downloads_dir, tables_metadata
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response, asgi_send_file

DATABASE = "ciso"
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def size_of(path: Path | None) -> int | None:
    return path.stat().st_size if path is not None and path.is_file() else None


def table_entry(datasette, name: str, meta: dict, counts: dict, folder: Path | None) -> dict:
    """A table (or rollup) of the page: its title, rows, and its CSV (Excel, plain, raw) and JSON."""
    base = datasette.urls.path(f"/{DOWNLOADS}")
    info = meta.get(name, {})
    return {
        "nom": name,
        "titre": info.get("title") or name,
        "description": info.get("description") or "",
        "lignes": counts.get(name),
        "csv": datasette.urls.table(DATABASE, name, format="csv") + "?_stream=on",
        "json": datasette.urls.table(DATABASE, name, format="json") + "?_shape=array&_stream=on",
        "excel": f"{base}/excel/{name}.csv" if size_of(folder and folder / "excel" / f"{name}.csv") else None,
        "paquet": f"{base}/csv/{name}.csv" if size_of(folder and folder / "csv" / f"{name}.csv") else None,
    }


async def downloads_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    counts = await db.table_counts(limit=1000)
    meta = tables_metadata(datasette, DATABASE)
    folder = downloads_dir(datasette)
    base = datasette.urls.path(f"/{DOWNLOADS}")
    tables = [table_entry(datasette, t.name, meta, counts, folder) for t in TABLES if t.name not in EXCLUDED]
    rollups = [table_entry(datasette, name, meta, counts, folder) for name in ROLLUP_DOWNLOADS if name in counts]

    def file(name: str) -> dict:
        return {"nom": name, "href": f"{base}/{name}", "octets": size_of(folder and folder / name)}

    xlsx, ods = SPREADSHEETS
    files = {
        "xlsx": file(xlsx),
        "ods": file(ods),
        "zip": file("ciso-donnees.zip"),
        "datapackage": file("datapackage.json"),
        "sqlite": {"href": datasette.urls.database(DATABASE) + ".db", "octets": size_of(Path(db.path))},
        "iati": file(IATI_FILE),
    }
    context = {
        "tables": tables,
        "calculees": rollups,
        "fichiers": files,
        "dossier": folder is not None,
        "feuilles": len(tables) + 2,  # « Lisez-moi », « Activités détaillées » and one per table (workbook.py)
    }
    return Response.html(await datasette.render_template("downloads.html", context, request=request))


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
    return [
        (r"^/-/telechargements$", downloads_page),
        (rf"^/{DOWNLOADS}/(?P<path>.+)$", download),
    ]
