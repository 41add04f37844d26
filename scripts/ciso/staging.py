"""Staging files of a build: named after the process, removed once their process is gone.

A build writes ``.ciso.db.PID.tmp`` (SQLite may add ``-journal`` beside it while
writing) and ``.export.PID.tmp/`` next to their targets, then renames them into
place; replacing an existing download folder briefly parks it as ``.export.PID.old/``.
A killed build cannot clean up after itself, so every build starts by removing the
staging files whose process is dead (never those of a build still running).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

# Test-only hook: a build run with CISO_TEST_KILL_AT=<stage> kills itself (SIGKILL) at that stage.
KILL_ENV = "CISO_TEST_KILL_AT"
# Also matches the names of earlier versions (``..ciso.db.PID.nouvelle.PID.tmp``, ``.ciso.db.PID.nouvelle``).
_STAGED = r"^\.\.?{name}\.(?P<pid>\d+)\.(?:tmp|old|nouvelle)(?:[.-].*)?$"


def staging_path(target: Path, kind: str = "tmp") -> Path:
    """``.NAME.PID.tmp`` beside ``target`` (``kind`` ``old`` for a replaced folder)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{kind}")


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def stale_files(target: Path) -> list[Path]:
    """Staging files (and folders) of ``target`` left by processes that no longer run."""
    target = Path(target)
    pattern = re.compile(_STAGED.format(name=re.escape(target.name)))
    if not target.parent.is_dir():
        return []
    found = []
    for path in sorted(target.parent.iterdir()):
        match = pattern.match(path.name)
        if match and not pid_alive(int(match["pid"])):
            found.append(path)
    return found


def remove_stale(target: Path) -> list[Path]:
    """Remove what killed builds left beside ``target``; return what was removed."""
    removed = stale_files(target)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def remove_staged_database(path: Path) -> None:
    """A staging database and the files SQLite may have put beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint(stage: str) -> None:
    """Kill this process at ``stage`` when the test-only variable asks for it (see tests/test_staging.py)."""
    if os.environ.get(KILL_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)
