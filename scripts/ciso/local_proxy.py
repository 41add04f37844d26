"""deploy/nginx/ run on this machine: Debian's nginx as the current user, in a folder of its own.

tests/test_nginx.py and ``make bench`` (benchmarks/run.py) put the deployed configuration in
front of replicas they started. Only addresses and paths are rewritten — listening port,
replica and staff ports, cache folder, the snippet's path — and each rewrite checks that
the line it rewrites is still in the file, so the configuration tested is the one deployed.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .site import ROOT

NGINX = "/usr/sbin/nginx"
DEPLOY = ROOT / "deploy" / "nginx"
PUBLIC_HOST = "donnees.example.org"  # the server_name of deploy/nginx/ciso.conf
STAFF_HOST = "equipe.example.org"
REPLICA_LINE = re.compile(r"^(\s*)server 127\.0\.0\.1:81\d\d max_fails=0;\n", re.MULTILINE)
ACCESS_FORMAT = "$upstream_addr|$upstream_cache_status|$status|$request"  # access.log, read by the tests


def rewrite(text: str, old: str, new: str, count: int) -> str:
    found = text.count(old)
    if found != count:
        raise ValueError(f"deploy/nginx/ciso.conf: expected {count} × {old!r}, found {found}")
    return text.replace(old, new)


def site_config(listen: int, replicas: list[int], staff: int, directory: Path, cache: bool = True) -> str:
    """deploy/nginx/ciso.conf for this machine (cache=False: the same without the cache)."""
    text = (DEPLOY / "ciso.conf").read_text(encoding="utf-8")
    lines = REPLICA_LINE.findall(text)
    if not lines:
        raise ValueError(
            "deploy/nginx/ciso.conf: no « server 127.0.0.1:81NN max_fails=0; » line in upstream ciso_public"
        )
    indent = lines[0]
    replica_lines = "".join(f"{indent}server 127.0.0.1:{port} max_fails=0;\n" for port in replicas)
    text = REPLICA_LINE.sub("", text, count=len(lines) - 1)
    text = REPLICA_LINE.sub(replica_lines, text, count=1)
    text = rewrite(text, "listen 80;", f"listen 127.0.0.1:{listen};", 2)
    text = rewrite(text, "listen [::]:80;", "", 2)
    text = rewrite(text, "server 127.0.0.1:8002;", f"server 127.0.0.1:{staff};", 1)
    text = rewrite(text, "/var/cache/nginx/ciso ", f"{directory / 'cache'} ", 1)
    text = rewrite(text, "include snippets/ciso-proxy.conf;", f"include {directory / 'ciso-proxy.conf'};", 2)
    if not cache:
        text = rewrite(text, "proxy_cache ciso_public;", "proxy_cache off;", 1)
    return text


def main_config(directory: Path) -> str:
    """The main file, as Debian's /etc/nginx/nginx.conf (which includes sites-enabled/* in http {})."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = directory / "temp"
    return f"""{user}
worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} notice;
events {{ worker_connections 1024; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format upstream '{ACCESS_FORMAT}';
    access_log {directory / "access.log"} upstream;
    gzip on;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    include {directory / "ciso.conf"};
}}
"""


def nginx_command(directory: Path) -> list[str]:
    return [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log")]


@contextmanager
def running_nginx(
    directory: Path, listen: int, replicas: list[int], staff: int, cache: bool = True
) -> Iterator[subprocess.Popen]:
    """nginx with deploy/nginx/ on 127.0.0.1:listen, checked (``nginx -t``), stopped at the end."""
    if not Path(NGINX).exists():
        raise FileNotFoundError(f"{NGINX} manque : apt-get install nginx (make test et make bench l'installent)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "temp").mkdir(exist_ok=True)
    (directory / "ciso.conf").write_text(site_config(listen, replicas, staff, directory, cache), encoding="utf-8")
    (directory / "ciso-proxy.conf").write_text((DEPLOY / "ciso-proxy.conf").read_text(encoding="utf-8"))
    (directory / "nginx.conf").write_text(main_config(directory), encoding="utf-8")
    command = nginx_command(directory)
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t: {checked.stderr}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()}") from None
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def served_by(directory: Path, port: int) -> int:
    """Requests that nginx's access log says the replica on ``port`` answered (the last one tried)."""
    lines = (directory / "access.log").read_text(encoding="utf-8").splitlines()
    return sum(line.split("|")[0].split(", ")[-1] == f"127.0.0.1:{port}" for line in lines)
