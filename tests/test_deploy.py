"""deploy/systemd/rolling-restart: the running replicas are restarted one at a time, each once the
previous one answers; a replica that does not come back stops the rollout. systemctl is a stand-in
that lists the units and records the restarts; the replica that answers is the session's real site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ciso.site import ROOT
from conftest import free_port

SCRIPT = ROOT / "deploy" / "systemd" / "rolling-restart"


def fake_systemctl(directory: Path, ports: list[int]) -> Path:
    units = "".join(f"ciso-public@{p}.service loaded active running CISO réplique {p}\\n" for p in ports)
    script = directory / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in\n'
        f"  list-units) printf '{units}' ;;\n"
        f'  restart) echo "$2" >> "{directory / "restarts"}" ;;\n'
        "  *) exit 2 ;;\n"
        "esac\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return directory / "restarts"


def rollout(directory: Path, wait: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{directory}:{os.environ['PATH']}", "PYTHON": sys.executable}
    return subprocess.run([str(SCRIPT)], env={**env, "CISO_ROLLOUT_WAIT": str(wait)}, capture_output=True, text=True)


def test_rollout_restarts_each_running_replica_once_it_answers(server, tmp_path):
    port = int(server.rsplit(":", 1)[1])
    restarts = fake_systemctl(tmp_path, [port, port])
    done = rollout(tmp_path, wait=10)
    assert done.returncode == 0, done.stderr
    assert restarts.read_text().split() == [f"ciso-public@{port}.service"] * 2
    assert done.stdout.count("prête") == 2


def test_rollout_stops_at_a_replica_that_does_not_come_back(server, tmp_path):
    port, silent = int(server.rsplit(":", 1)[1]), free_port()
    restarts = fake_systemctl(tmp_path, [silent, port])
    done = rollout(tmp_path, wait=1)
    assert done.returncode == 1
    assert restarts.read_text().split() == [f"ciso-public@{silent}.service"]  # the next one keeps serving
    assert f"ciso-public@{silent}.service ne répond pas 1 s après son redémarrage" in done.stderr
