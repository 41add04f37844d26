"""deploy/nginx/ciso.conf for real: Debian's nginx in front of two replicas of the public site and the staff site.

The deployed file is used as it is, with only its addresses and paths rewritten
(ciso.local_proxy); nginx runs as the current user in a temporary folder. Everything the
test started is stopped at the end.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from ciso.build import build
from ciso.local_proxy import NGINX, PUBLIC_HOST, STAFF_HOST, running_nginx, served_by
from ciso.site import PASSWORD_ENV, SECRET_ENV
from conftest import DATA, free_port, site_args, site_process

pytestmark = [pytest.mark.nginx, pytest.mark.timed]  # timed: no request may fail while replicas restart
# The bench's pages (benchmarks/run.py SCALE_URLS): byte-identical on every replica and through nginx.
SAME_EVERYWHERE = ["/", "/-/progres", "/-/transparence", "/ciso/activites", "/-/progres.json"]


class Replica:
    """One ``python -m ciso.server``, which the test may stop and start again on the same port."""

    def __init__(self, db: Path, log: Path, staff: bool = False, env: dict | None = None):
        self.port, self.log, self.env = free_port(), log, env
        export = None if staff else db.parent / "export"
        self.args = site_args(db, self.port, export_dir=export, staff=staff)
        self.stack = None

    def start(self) -> None:
        self.stack = ExitStack()
        self.stack.enter_context(site_process(self.args, self.port, self.env, self.log))

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.close()
            self.stack = None


class Proxy:
    """The private nginx: ``get`` sends one request with a Host header, and returns (status, headers, body)."""

    def __init__(self, port: int):
        self.port = port

    def get(self, path: str, host: str = PUBLIC_HOST, headers: dict | None = None, method: str = "GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, headers={"Host": host, "Accept-Encoding": "identity", **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


def direct(port: int, path: str) -> tuple[int, dict, bytes]:
    """A replica asked directly, for the public site's name (Datasette's absolute links carry it)."""
    return Proxy(port).get(path)


@pytest.fixture(scope="module")
def staff_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("nginx-staff") / "interne" / "ciso.db"
    build(DATA, db, private=True)
    return db


@pytest.fixture(scope="module")
def deployment(built, staff_db, tmp_path_factory):
    """Two public replicas, the staff site and nginx with deploy/nginx/; all stopped at the end."""
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: run `make test` (it installs Debian's nginx) or apt-get install nginx")
    from datasette_auth_passwords.utils import hash_password

    directory = tmp_path_factory.mktemp("nginx")
    replicas = [Replica(built, directory / f"replique-{i}.log") for i in (1, 2)]
    staff_env = {PASSWORD_ENV: hash_password("mot-de-passe-de-test", iterations=1000), SECRET_ENV: "s" * 40}
    staff = Replica(staff_db, directory / "interne.log", staff=True, env=staff_env)
    listen = free_port()
    with ExitStack() as stack:
        for replica in [*replicas, staff]:
            stack.callback(replica.stop)
            replica.start()
        stack.enter_context(running_nginx(directory, listen, [r.port for r in replicas], staff.port))
        proxy = Proxy(listen)
        yield {"proxy": proxy, "replicas": replicas, "staff": staff, "directory": directory}


def test_every_replica_and_nginx_give_the_same_bytes(deployment):
    proxy, (one, two) = deployment["proxy"], deployment["replicas"]
    for path in SAME_EVERYWHERE:
        status, headers, body = proxy.get(path)
        first, second = direct(one.port, path), direct(two.port, path)
        assert status == first[0] == second[0] == 200, path
        assert body == first[2] == second[2], path
        assert headers["etag"] == first[1]["etag"] == second[1]["etag"], path
        assert headers["cache-control"] == "public, max-age=60", path
    assert proxy.get("/")[1]["server"] == "nginx"  # server_tokens off: no version


def test_the_cache_serves_the_second_request_and_revalidates_cheaply(deployment):
    proxy = deployment["proxy"]
    path = "/ciso/activites?_sort=numero"
    first = proxy.get(path)
    second = proxy.get(path, headers={"Cookie": "visiteur=1"})  # a cookie does not split the cache
    assert (first[0], first[1]["x-cache-status"]) == (200, "MISS")
    assert (second[0], second[1]["x-cache-status"]) == (200, "HIT")
    assert second[2] == first[2] and second[1]["etag"] == first[1]["etag"]
    conditional = proxy.get(path, headers={"If-None-Match": first[1]["etag"]})
    assert conditional[0] == 304 and conditional[2] == b"" and conditional[1]["etag"] == first[1]["etag"]
    # the replicas' own 304, for a copy nginx does not hold
    revalidated = proxy.get("/-/progres/2020-2021", headers={"If-None-Match": first[1]["etag"]})
    assert revalidated[0] == 304


def test_errors_are_cached_briefly_or_not_at_all(deployment):
    proxy = deployment["proxy"]
    statuses = [proxy.get("/nulle-part-nginx")[1]["x-cache-status"] for _ in range(2)]
    assert statuses == ["MISS", "HIT"]  # a 404: 10 s
    for _ in range(2):
        status, headers, _ = proxy.get("/ciso/activites?_sort=pas_une_colonne")
        assert status == 400 and headers["cache-control"] == "no-store" and headers["x-cache-status"] != "HIT"


def test_gzip_for_text_answers(deployment):
    proxy = deployment["proxy"]
    vega = proxy.get("/-/progres")[2].decode()
    static = "/-/static-plugins/ciso-donnees/"
    script = vega.split(f'src="{static}vendor/vega.min.js', 1)[1].split('"', 1)[0]
    for path in ("/-/progres", "/-/progres.json", "/ciso/activites.csv", f"{static}ciso.css",
                 f"{static}vendor/vega.min.js{script}", "/ciso/dictionnaire.csv"):  # fmt: skip
        plain = proxy.get(path)
        compressed = proxy.get(path, headers={"Accept-Encoding": "gzip"})
        assert compressed[1].get("content-encoding") == "gzip", path
        assert "Accept-Encoding" in compressed[1]["vary"], path
        assert gzip.decompress(compressed[2]) == plain[2], path
        assert len(compressed[2]) < len(plain[2]), path


def test_forwarded_host_and_scheme_reach_the_replicas(deployment):
    proxy = deployment["proxy"]
    # A visitor's own X-Forwarded-Proto is replaced by nginx's ($scheme: http here).
    status, _, body = proxy.get("/ciso/activites.json?_size=1&_nocache=1", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert json.loads(body)["next_url"].startswith(f"http://{PUBLIC_HOST}/ciso/activites.json?")


def test_staff_site_is_never_cached_nor_compressed(deployment):
    proxy, staff = deployment["proxy"], deployment["staff"]
    before = served_by(deployment["directory"], staff.port)
    for path in ("/-/login", "/-/login", "/-/static/app.css", "/-/progres"):
        status, headers, _ = proxy.get(path, host=STAFF_HOST, headers={"Accept-Encoding": "gzip"})
        assert status in (200, 403), path
        assert headers["cache-control"] == "private, no-store", path
        assert "x-cache-status" not in headers and "etag" not in headers, path
        assert "content-encoding" not in headers, path
    for _ in range(50):  # nginx writes its access line just after the answer
        if served_by(deployment["directory"], staff.port) - before == 4:
            break
        time.sleep(0.02)
    assert served_by(deployment["directory"], staff.port) - before == 4  # every one reached the staff site


def test_restarting_each_replica_costs_no_request(deployment):
    proxy, replicas, directory = deployment["proxy"], deployment["replicas"], deployment["directory"]
    served = [served_by(directory, r.port) for r in replicas]
    results, stop = [], threading.Event()

    def client(k: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:  # a new address each time: nothing is cached, every request reaches a replica
                results.append(proxy.get(f"/-/progres.json?client={k}&n={i}")[0])
            except OSError as e:
                results.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for replica in replicas:
            time.sleep(0.5)
            replica.stop()  # SIGTERM, as systemctl restart sends
            time.sleep(1.0)  # nginx now sends everything to the other replica
            replica.start()
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    failed = [r for r in results if r != 200]
    assert len(results) > 100 and failed == [], (len(results), failed[:5])
    assert all(served_by(directory, r.port) > n + 20 for r, n in zip(replicas, served, strict=True))


def test_with_no_replica_left_cached_pages_stay_and_the_rest_is_a_french_page(deployment):
    proxy = deployment["proxy"]
    cached = proxy.get("/-/transparence")
    for replica in deployment["replicas"]:
        replica.stop()
    stale = proxy.get("/-/transparence")
    assert stale[0] == 200 and stale[2] == cached[2]
    status, headers, body = proxy.get("/-/progres?jamais-vu=1")
    assert status == 503 and headers["retry-after"] == "30"
    assert '<html lang="fr">' in body.decode() and "Service indisponible" in body.decode()
