"""Run the site: one Datasette, with the project's options, on uvicorn.

``datasette serve`` cannot be told to hide uvicorn's ``server`` header, to trust a proxy's
``X-Forwarded-*`` headers, or to accept connections on a socket it did not open; this runner
does all three, so the same process serves a laptop (``ciso serve``), a container and the
replicas behind nginx.

    python -m ciso.server --db ciso.db --export export --port 8001

Under ``ciso serve`` (supervisor.py) it runs on a socket the supervisor opened (``--fd``),
says when it is ready (``--ready-fd``), and on SIGUSR1 *drains*: it stops accepting
connections (the next worker, on the same socket, takes them), answers the requests still
arriving on its open connections with ``Connection: close`` so clients reconnect, and exits
once they are gone. So no request fails when a new database is put in service.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
from pathlib import Path

import click

from .site import datasette_kwargs

PROXY_ENV = "CISO_PROXIES"  # addresses whose X-Forwarded-For/-Proto are trusted (default: loopback)
KEEP_ALIVE_SECONDS = 5  # uvicorn closes an idle connection after this
STAFF_LOGIN_PLUGIN = "auth_passwords"  # datasette-auth-passwords' entry point
DRAIN_SECONDS = KEEP_ALIVE_SECONDS + 3  # a draining worker waits this long for its connections to end


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


def uvicorn_config(app, host: str = "127.0.0.1", port: int = 8001):
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        server_header=False,  # do not advertise the server software
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get(PROXY_ENV, "127.0.0.1"),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=15,
        log_level="info",
    )


class Draining:
    """ASGI middleware: once ``draining`` is set, every answer asks the client to close its connection."""

    def __init__(self, app):
        self.app = app
        self.draining = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.draining:
            return await self.app(scope, receive, send)

        async def closing_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing_send)


async def drain(server, app: Draining) -> None:
    """Stop accepting, close connections as their requests end, then shut down."""
    loop = asyncio.get_running_loop()
    for listening in server.servers:
        listening.close()
    app.draining = True
    deadline = loop.time() + DRAIN_SECONDS
    while server.server_state.connections and loop.time() < deadline:
        await asyncio.sleep(0.1)
    server.should_exit = True


async def serve(ds, config, fd: int | None = None, ready_fd: int | None = None) -> None:
    """Serve until stopped; on a socket already open (``fd``, inherited from the supervisor) if given.

    (uvicorn's own ``fd`` option takes every socket for a Unix one, so clients' addresses would be lost.)
    """
    import signal
    import socket

    import uvicorn

    await ds.invoke_startup()
    # What startup loaded (Datasette, plugins, templates, caches) lives as long as the process:
    # out of the collector's sight, a full collection no longer walks it (p99 of a table page:
    # 95 → 68 ms in make bench's conditions). CPython's advice for long-lived servers.
    gc.collect()
    gc.freeze()
    app = config.app
    server = uvicorn.Server(config)

    async def when_started():
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(drain(server, app)))
        if ready_fd is not None:
            os.write(ready_fd, b"pret\n")
            os.close(ready_fd)

    watcher = asyncio.create_task(when_started())
    await server.serve(sockets=[socket.socket(fileno=fd)] if fd is not None else None)
    watcher.cancel()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--inspect-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--interne", "staff", is_flag=True, help="Site de l'équipe (connexion exigée).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--fd", type=int, default=None, help="Accepter les connexions sur ce descripteur déjà ouvert.")
@click.option("--ready-fd", type=int, default=None, help="Écrire « pret » sur ce descripteur une fois prêt.")
@click.option(
    "--en-reserve",
    "standby",
    is_flag=True,
    help="Charger le programme, puis attendre une ligne sur l'entrée standard avant d'ouvrir la base.",
)
def main(db_path, export_dir, inspect_file, staff, host, port, fd, ready_fd, standby):
    """Servir une base construite avec Datasette (sans reconstruire ni surveiller : voir « ciso serve »)."""
    if standby:
        # The supervisor keeps one worker in reserve, its imports (Datasette, uvicorn, our plugins)
        # done, so that a new database is in service a fraction of a second after it is built.
        import datasette.app  # noqa: F401 - loads every plugin
        import uvicorn  # noqa: F401

        if not sys.stdin.readline():
            sys.exit(0)  # the supervisor stopped without needing it
    if not staff:
        # datasette-auth-passwords logs the staff in; the public site has no login, and that plugin
        # would still read its settings (a merge of the whole metadata) on every request.
        from datasette.plugins import pm

        if pm.has_plugin(STAFF_LOGIN_PLUGIN):
            pm.unregister(name=STAFF_LOGIN_PLUGIN)
    ds = make_datasette(db_path, export_dir, staff, inspect_file)
    config = uvicorn_config(Draining(ds.app()), host, port)
    try:
        asyncio.run(serve(ds, config, fd, ready_fd))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
