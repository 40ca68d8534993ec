"""The lock files of tested versions that ``make setup`` installs, one per Python version and platform.

``pyproject.toml`` states ranges (what dmmlib works with); a lock states the exact versions the suite was last
tested with, so that a new machine runs the tests, the notebooks and the stored evidence on the same numpy, torch and
pandas as the machine that made them. ``make lock`` makes a fresh virtual environment from the ranges, installs the
newest versions they admit, and writes its ``pip freeze`` here (``python -m dmmlib.suite.lockfile write``); after
the test suite has passed on it, the lock is committed. ``make setup`` installs the lock for the interpreter it runs
when one exists (``make setup UNLOCKED=1`` takes the newest versions instead) and says so otherwise.

A lock holds what pip resolved on one platform (on Linux x86_64 torch brings its CUDA libraries), so each file is
named by Python version and platform: ``requirements/lock-py3.11-linux-x86_64.txt``. This file uses the standard
library only, so that the Makefile can ask it for the lock's path before the virtual environment exists
(``python3 dmmlib/suite/lockfile.py path``).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FOLDER = "requirements"


def lock_path(version: tuple[int, int] | None = None, system: str | None = None, machine: str | None = None) -> str:
    """The lock's path relative to the repository root, for this interpreter unless given."""
    major, minor = version or sys.version_info[:2]
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    return f"{FOLDER}/lock-py{major}.{minor}-{system}-{machine}.txt"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them (``PyYAML`` and ``pyyaml``, ``dlib_bin`` and ``dlib-bin``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read(path: str | os.PathLike[str]) -> dict[str, str]:
    """Distribution -> exact version, from a lock's ``name==version`` lines (comments and blanks skipped)."""
    pins: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", text)
        if match is None:
            raise ValueError(f"{path}:{number}: expected 'name==version', got {line!r}")
        pins[normalise(match.group(1))] = match.group(2)
    return pins


def installed() -> dict[str, str]:
    """Distribution -> version of everything installed in this interpreter's environment.

    Where a name appears twice on ``sys.path`` (setuptools puts its vendored copies of packaging, zipp, ... there
    once imported), the first one counts: it is the one an import finds, and the one pip installed.
    """
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        found.setdefault(normalise(dist.metadata["Name"]), dist.version)
    return found


def differences(locked: dict[str, str], present: dict[str, str]) -> list[str]:
    """One line per locked distribution that is missing or installed at another version."""
    lines = []
    for name, version in sorted(locked.items()):
        if name not in present:
            lines.append(f"{name}: locked {version}, not installed")
        elif present[name] != version:
            lines.append(f"{name}: locked {version}, installed {present[name]}")
    return lines


def write(root: str | os.PathLike[str] = ".") -> Path:
    """Write this environment's ``pip freeze`` (without the editable dmmlib) as the lock for this interpreter.

    The file is written beside its destination and renamed into place, so an interrupted run leaves the old lock.
    """
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    pins = [line for line in frozen.splitlines() if line and not line.startswith("#")]
    bad = [line for line in pins if "==" not in line]
    if bad:
        raise ValueError(f"pip freeze gave lines that are not exact pins (install from an index, not a path): {bad}")
    target = Path(root) / lock_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    header = [
        f"# Versions the suite was tested with, Python {platform.python_version()} on {sys.platform} "
        f"{platform.machine()}; made by `make lock` on {datetime.date.today().isoformat()}.",
        "# `make setup` installs exactly these (`make setup UNLOCKED=1`: the newest versions pyproject.toml admits).",
    ]
    descriptor, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(header + sorted(pins, key=str.lower)) + "\n")
    os.replace(scratch, target)
    return target


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["path"]
    if command == ["path"]:
        print(lock_path())
        return 0
    if command == ["write"]:
        print(f"lock: wrote {write()}")
        return 0
    print("usage: python dmmlib/suite/lockfile.py path|write", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
