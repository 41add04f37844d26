"""Run the site: one Datasette, with the project's options, on uvicorn.

``datasette serve`` cannot be told to hide uvicorn's ``server`` header, to trust a proxy's
``X-Forwarded-*`` headers, or to accept connections on a socket it did not open; this runner
does all three, so the same process serves a laptop (``ciso serve``), a container and the
replicas behind nginx.

    python -m ciso.server --db ciso.db --export export --port 8001
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click

from .site import datasette_kwargs

PROXY_ENV = "CISO_PROXIES"  # addresses whose X-Forwarded-For/-Proto are trusted (default: loopback)


def make_datasette(
    db_path: Path, export_dir: Path | None = None, staff: bool = False, inspect_file: Path | None = None
):
    from datasette.app import Datasette

    inspect_data = json.loads(inspect_file.read_text(encoding="utf-8")) if inspect_file else None
    return Datasette(
        immutables=[str(db_path)],
        inspect_data=inspect_data,
        **datasette_kwargs(export_dir=export_dir, staff=staff),
    )


def uvicorn_config(app, host: str = "127.0.0.1", port: int = 8001, fd: int | None = None):
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        fd=fd,
        lifespan="on",
        server_header=False,  # do not advertise the server software
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get(PROXY_ENV, "127.0.0.1"),
        timeout_graceful_shutdown=15,
        log_level="info",
    )


async def serve(ds, config) -> None:
    import uvicorn

    await ds.invoke_startup()
    await uvicorn.Server(config).serve()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--inspect-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--interne", "staff", is_flag=True, help="Site de l'équipe (connexion exigée).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--fd", type=int, default=None, help="Accepter les connexions sur ce descripteur déjà ouvert.")
def main(db_path, export_dir, inspect_file, staff, host, port, fd):
    """Servir une base construite avec Datasette (sans reconstruire : voir « ciso serve »)."""
    ds = make_datasette(db_path, export_dir, staff, inspect_file)
    config = uvicorn_config(ds.app(), host, port, fd)
    try:
        asyncio.run(serve(ds, config))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
