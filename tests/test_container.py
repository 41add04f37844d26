"""The Dockerfile, built and run for real with podman (see ../shared/CONTAINERS.md).

The image is built on a base made from Debian's packages (python3 and python3-venv only: no
registry is reachable here), cached in build/container/ and in podman's store, so reruns only
rebuild the layers whose sources changed. The container serves on a free port of 127.0.0.1;
its answers must be byte for byte those of the site ``make serve`` runs, built here from the
same sources with the same ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from ciso.iati import ENV_IDENTIFIER, ENV_SITE
from ciso.site import ROOT
from conftest import DATA, free_port, site_args, site_process

pytestmark = pytest.mark.container

CACHE = ROOT / "build" / "container"  # git-ignored
BASE_TARBALL = CACHE / "debian-bookworm-python3.tar"
BASE_IMAGE = "localhost/ciso-base"
IMAGE = "localhost/ciso-donnees-test"
CONTAINER = "ciso-donnees-test"
TOOLS = ("podman", "runc", "mmdebstrap")
COMPARED = ["/", "/-/progres.json", "/ciso.db", "/telechargements/ciso-donnees.zip"]


def podman(*args: str, timeout: int = 60, check: bool = True) -> subprocess.CompletedProcess:
    """podman with the cgroupfs manager: crun and systemd's manager refuse this kernel's hybrid cgroups."""
    command = ["podman", "--cgroup-manager=cgroupfs", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=check)


def ensure_base_image() -> None:
    """The minimal Debian base: python3 and python3-venv, nothing else (made once, then cached)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run `make test` (it installs them) or apt-get install {' '.join(TOOLS)}"
        )
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return
    if not BASE_TARBALL.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = BASE_TARBALL.with_name("partiel-" + BASE_TARBALL.name)
        partial.unlink(missing_ok=True)  # left by an interrupted run
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--format=tar", "--include=python3,python3-venv,ca-certificates"]
            + ["bookworm", partial],
            check=True,
            capture_output=True,
            timeout=600,
        )
        partial.rename(BASE_TARBALL)
    podman("import", str(BASE_TARBALL), BASE_IMAGE, timeout=300)


def build_image(epoch: str, log: Path) -> float:
    """Build the image as CONTAINERS.md shows (chroot isolation, the host's certificates); seconds taken."""
    build_args = [f"--build-arg=SOURCE_DATE_EPOCH={epoch}", f"--build-arg=BASE={BASE_IMAGE}"]
    build_args += [f"--build-arg={k}={os.environ[k]}" for k in (ENV_IDENTIFIER, ENV_SITE) if k in os.environ]
    start = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            ["podman", "build", "--isolation", "chroot", "--network", "host", "--format", "docker"]
            + ["-v", "/etc/ssl/certs:/etc/ssl/certs:ro", *build_args, "-t", IMAGE, str(ROOT)],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=900,
        )
    if done.returncode:
        pytest.fail("podman build failed:\n" + log.read_text()[-4000:])
    return time.monotonic() - start


def get(url: str) -> bytes:
    """The body of a GET; one Host header for both sites (pages carry absolute links made from it)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "ciso.test"}), timeout=30) as response:
        return response.read()


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            get(url)
            return
        except (OSError, urllib.error.HTTPError):
            if time.monotonic() > deadline:
                logs = podman("logs", CONTAINER, check=False)
                pytest.fail(f"the container did not answer {url} within {seconds} s:\n{logs.stdout}{logs.stderr}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What ``make serve`` serves: ``ciso build`` (CLI) then the runner, on the same sources and epoch."""
    # The start of today (UTC): the same all day, so a rerun finds every layer of the image in
    # podman's cache, and today's progress updates are not in the build's future.
    epoch = str(int(time.time()) // 86400 * 86400)
    folder = tmp_path_factory.mktemp("reference")
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    ciso = Path(sys.executable).with_name("ciso")
    subprocess.run(
        [ciso, "build", "--data", DATA, "--db", folder / "ciso.db"], env=env, check=True, capture_output=True
    )
    inspect = folder / "ciso-inspect.json"
    subprocess.run(
        [sys.executable, "-m", "datasette", "inspect", folder / "ciso.db", "--inspect-file", inspect],
        check=True,
        capture_output=True,
    )
    port = free_port()
    args = site_args(folder / "ciso.db", port, export_dir=folder / "export") + ["--inspect-file", str(inspect)]
    with site_process(args, port) as process:
        yield epoch, {path: get(process.url + path) for path in COMPARED}


@pytest.fixture(scope="module")
def container(reference, tmp_path_factory):
    """The image built from the Dockerfile, run on a free port of 127.0.0.1; stopped by name at the end."""
    epoch, _ = reference
    ensure_base_image()
    seconds = build_image(epoch, tmp_path_factory.mktemp("image") / "build.log")
    print(f"\nimage built in {seconds:.0f} s")
    podman("rm", "--force", "--ignore", CONTAINER)
    port = free_port()
    podman(
        "run",
        "--runtime",
        "runc",
        "--rm",
        "--detach",
        "--name",
        CONTAINER,
        "--network",
        "host",
        "--read-only",
        "--ulimit",
        "nofile=4096:4096",
        "--ulimit",
        "nproc=4096:4096",
        "--env",
        "HOST=127.0.0.1",  # the host's network: listen on loopback only, as every server of the tests does
        "--env",
        f"PORT={port}",
        IMAGE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/-/sante")
        yield url
    finally:
        podman("stop", "--time", "10", CONTAINER, check=False)


def test_the_image_serves_what_make_serve_serves(container, reference):
    _, expected = reference
    for path in COMPARED:
        assert get(container + path) == expected[path], path
    home = expected["/"].decode()
    assert "/-/static-plugins/" in home and "Téléchargements" in home


def test_the_image_serves_its_static_files_and_health(container, reference):
    epoch, _ = reference
    assert get(container + "/-/static-plugins/ciso-donnees/ciso.css") == (ROOT / "static" / "ciso.css").read_bytes()
    health = json.loads(get(container + "/-/sante"))
    assert health["ok"] is True and health["date"].startswith(time.strftime("%Y-%m-%d", time.gmtime(int(epoch))))


def test_the_site_runs_as_an_unprivileged_user(container):
    status = podman("exec", CONTAINER, "cat", "/proc/1/status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert "python" in podman("exec", CONTAINER, "cat", "/proc/1/cmdline").stdout
    assert uids and all(uid != "0" for uid in uids)


def test_the_healthcheck_passes(container):
    image = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
    configured = image.get("Healthcheck") or image["Config"].get("Healthcheck") or {}
    assert "/-/sante" in " ".join(configured.get("Test", []))
    done = podman("healthcheck", "run", CONTAINER, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
