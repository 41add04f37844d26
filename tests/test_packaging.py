"""The site installs as a package: plugins through entry points, templates and static files as
package data, downloads served by a plugin; plain ``datasette serve`` shows the whole site."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import httpx
import pytest
import yaml
from ciso.site import HTTPS_ENV, ROOT, datasette_kwargs
from ciso.web import static_dir
from ciso_site.downloads import download_file
from conftest import free_port, site_process
from datasette.app import Datasette
from datasette.plugins import pm

ENTRY_POINTS = {ep.name: ep.value for ep in distribution("ciso-donnees").entry_points if ep.group == "datasette"}


def test_every_plugin_module_is_an_entry_point_and_registered():
    modules = {f"ciso_site.{p.stem}" for p in (ROOT / "plugins").glob("*.py") if p.stem != "__init__"}
    assert set(ENTRY_POINTS.values()) == modules | {"ciso_site"}
    registered = {getattr(plugin, "__name__", None) for plugin in pm.get_plugins()}
    assert modules | {"ciso_site"} <= registered


def test_the_wheel_ships_every_template_and_static_file(tmp_path):
    """plugins/templates and plugins/static are links: the wheel must hold the files themselves."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("ciso_donnees-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                assert f"ciso_site/{path.relative_to(ROOT).as_posix()}" in shipped, path


def test_the_site_options_carry_no_folder_of_plugins_templates_or_static_files(tmp_path):
    kwargs = datasette_kwargs(export_dir=tmp_path)
    assert not {"plugins_dir", "template_dir", "static_mounts"} & set(kwargs)


@pytest.mark.asyncio
async def test_force_https_urls_from_the_environment(built, monkeypatch):
    """Behind a proxy that ends TLS (Cloud Run, Fly, nginx), absolute links must say https."""
    monkeypatch.setenv(HTTPS_ENV, "1")
    datasette = Datasette(immutables=[str(built)], **datasette_kwargs())
    assert 'href="https://localhost/.json"' in (await datasette.client.get("/")).text
    monkeypatch.delenv(HTTPS_ENV)
    assert "force_https_urls" not in datasette_kwargs()["settings"]


@pytest.mark.asyncio
async def test_our_templates_come_before_other_plugins_ones(ds):
    """datasette-auth-passwords ships password_login.html too: ours (French) must win."""
    template = ds.jinja_env.get_template("password_login.html")
    assert Path(template.filename).resolve() == (ROOT / "templates" / "password_login.html").resolve()


@pytest.mark.asyncio
async def test_the_menu_lists_the_pages_in_the_order_of_a_visit(ds):
    html = (await ds.client.get("/")).text
    menu = html[html.index('class="nav-menu') : html.index("</details>", html.index('class="nav-menu'))]
    assert re.findall(r'<a href="(/-/[a-z]+)">', menu) == [
        "/-/progres", "/-/transparence", "/-/telechargements", "/-/recherche", "/-/dictionnaire", "/-/api"
    ]  # fmt: skip
    for path in re.findall(r'<a href="(/-/[a-z]+)">', menu):
        assert (await ds.client.get(path)).status_code == 200, path


@pytest.mark.asyncio
async def test_static_files_are_the_package_ones_with_a_versioned_url(ds):
    html = (await ds.client.get("/")).text
    css = re.search(r'href="(/-/static-plugins/ciso-donnees/ciso\.css\?v=[0-9a-f]{10})"', html)[1]
    response = await ds.client.get(css)
    assert response.status_code == 200 and response.content == (ROOT / "static" / "ciso.css").read_bytes()
    assert static_dir().resolve() == (ROOT / "static").resolve()


@pytest.mark.asyncio
async def test_every_download_is_served_with_its_type_and_bytes(ds, built):
    html = (await ds.client.get("/-/telechargements")).text
    hrefs = sorted(set(re.findall(r'href="(/telechargements/[^"?]+)"', html)))
    assert "/telechargements/ciso-donnees.zip" in hrefs and "/telechargements/iati-activities.xml" in hrefs
    assert {"/telechargements/ciso-donnees.xlsx", "/telechargements/ciso-donnees.ods"} <= set(hrefs)
    types = {".csv": "text/csv", ".json": "application/json", ".xml": "application/xml", ".zip": "application/zip"}
    types[".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    types[".ods"] = "application/vnd.oasis.opendocument.spreadsheet"
    for href in hrefs:
        response = await ds.client.get(href)
        assert response.status_code == 200, href
        assert response.headers["content-type"].startswith(types[Path(href).suffix]), href
        assert response.content == (built.parent / "export" / href.removeprefix("/telechargements/")).read_bytes()


@pytest.mark.asyncio
async def test_downloads_default_to_the_export_folder_beside_the_database(built):
    datasette = Datasette(immutables=[str(built)], **datasette_kwargs())
    response = await datasette.client.get("/telechargements/datapackage.json")
    assert response.status_code == 200 and response.json()["name"] == "ciso-donnees"


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/telechargements/nope.csv", "/telechargements/csv", "/telechargements/export.db"])
async def test_a_missing_download_is_a_french_404(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 404
    assert "ne fait pas partie des téléchargements" in response.text and '<html lang="fr">' in response.text


@pytest.mark.asyncio
async def test_a_missing_json_download_is_a_french_json_404(ds):
    response = await ds.client.get("/telechargements/nope.json")
    assert response.status_code == 404 and "ne fait pas partie" in response.json()["error"]


def test_only_files_the_export_writes_inside_its_folder(tmp_path):
    folder = tmp_path / "export"
    (folder / "csv").mkdir(parents=True)
    (folder / "csv" / "a.csv").write_text("a\n")
    (folder / ".cache.csv").write_text("hidden\n")
    (folder / "notes.txt").write_text("not a download\n")
    (tmp_path / "secret.csv").write_text("outside\n")
    (folder / "csv" / "lien.csv").symlink_to(tmp_path / "secret.csv")
    assert download_file(folder, "csv/a.csv") == (folder / "csv" / "a.csv").resolve()
    for name in ["../secret.csv", "csv/../../secret.csv", "csv/lien.csv", ".cache.csv", "notes.txt", "csv//a.csv"]:
        assert download_file(folder, name) is None, name
    assert download_file(folder, "csv/a\x00.csv") is None


@pytest.mark.asyncio
async def test_health_check_gives_the_build(ds, built):
    response = await ds.client.get("/-/sante")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    with sqlite3.connect(built) as conn:
        built_rows = dict(conn.execute("select cle, valeur from construction"))
    assert response.json() == {"ok": True, **built_rows}


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET with the path sent as it is (httpx would remove the ``..``), following redirects."""
    host, port = url.removeprefix("http://").split(":")
    for _ in range(3):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            status, body, path = response.status, response.read(), response.getheader("location")
        finally:
            connection.close()
        if status not in (301, 302):
            break
    return status, body


def test_plain_datasette_serve_shows_the_whole_site(built, tmp_path):
    """``datasette serve`` with the metadata and nothing else: our pages, styles and downloads."""
    port = free_port()
    args = ["serve", "-i", str(built), "-m", str(ROOT / "metadata.yml"), "--port", str(port)]
    with site_process(args, port, log=tmp_path / "datasette.log", module="datasette") as process:
        site = httpx.Client(base_url=process.url, timeout=30)
        home = site.get("/")
        assert home.status_code == 200 and "Téléchargements" in home.text
        css = re.search(r'href="(/-/static-plugins/[^"]+/ciso\.css\?v=[0-9a-f]+)"', home.text)[1]
        assert site.get(css).content == (ROOT / "static" / "ciso.css").read_bytes()
        assert "Avancement" in site.get("/-/progres").text
        assert json.loads(site.get("/telechargements/datapackage.json").content)["name"] == "ciso-donnees"
        assert site.get("/-/sante").json()["ok"] is True
        # Datasette redirects %-encoded paths to ~-encoded ones (~2e~2e), which name no file either.
        for path in [
            "/telechargements/../ciso.db",
            "/telechargements/%2e%2e/ciso.db",
            "/telechargements/csv/..%2F..%2Fciso.db",
        ]:
            status, body = raw_get(process.url, path)
            assert status == 404 and b"SQLite format" not in body, path


def test_the_workflow_tests_then_deploys_each_target_only_with_its_secrets():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text("utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    test, deploy = workflow["jobs"]["test"], workflow["jobs"]["deploy"]
    assert any("make test" in step.get("run", "") for step in test["steps"])
    assert deploy["needs"] == "test"
    for target, secret in (("Cloud Run", "GCP_SA_KEY"), ("Fly", "FLY_API_TOKEN")):
        assert deploy["env"][secret] == f"${{{{ secrets.{secret} }}}}"
        steps = [step for step in deploy["steps"] if step.get("name", "").startswith(f"{target}:")]
        skipped = [step for step in steps if step["name"].endswith("skipped?")]
        assert len(skipped) == 1 and f"env.{secret} == ''" in skipped[0]["if"]
        assert all(f"env.{secret} != ''" in step["if"] for step in steps if step not in skipped), target
        assert any("SOURCE_DATE_EPOCH" in step.get("run", "") for step in steps), target
        assert any("/-/sante" in step.get("run", "") for step in steps), target


def test_fly_serves_the_image_port_and_checks_its_health():
    fly = tomllib.loads((ROOT / "fly.toml").read_text("utf-8"))
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    port = re.search(r"^EXPOSE (\d+)$", dockerfile, re.M)[1]
    assert str(fly["http_service"]["internal_port"]) == fly["env"]["PORT"] == port
    assert f"PORT={port}" in dockerfile and "HEALTHCHECK" in dockerfile
    assert [check["path"] for check in fly["http_service"]["checks"]] == ["/-/sante"]
