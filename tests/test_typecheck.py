"""The type checker in `make lint`: mypy with pyproject.toml's settings catches a name that a module lacks.

The scratch modules import this checkout's dmmlib (MYPYPATH), so mypy reads its real type hints; mypy's cache goes
to the test's temporary folder, and each run takes a few seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """mypy, with the project's [tool.mypy] settings, on a scratch module holding ``source``."""
    scratch = tmp_path / "scratch_module.py"
    scratch.write_text(source)
    command = [
        sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(tmp_path / "mypy-cache"),
        "--no-warn-unused-configs",  # the per-package sections are for dmmlib's imports, unused by the scratch file
        str(scratch),
    ]  # fmt: skip
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # this checkout's dmmlib, not an installed copy
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_mypy_fails_on_a_name_that_a_dmmlib_module_lacks(tmp_path):
    result = run_mypy(tmp_path, "import dmmlib.attributes\n\nprint(dmmlib.attributes.no_such_name)\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r'scratch_module\.py:3: error: Module has no attribute "no_such_name"\s+\[attr-defined\]',
                     result.stdout), result.stdout  # fmt: skip


def test_mypy_passes_a_correct_module_that_uses_dmmlib(tmp_path):
    source = "import dmmlib.attributes\n\nnames: tuple[str, ...] = dmmlib.attributes.ATTRIBUTES\nprint(len(names))\n"
    result = run_mypy(tmp_path, source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_make_lint_runs_mypy_over_dmmlib_without_a_global_ignore_of_missing_imports():
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), flags=re.M)
    assert recipe is not None and "$(VENV)/bin/mypy" in recipe.group(1), "make lint does not run mypy"
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert settings["packages"] == ["dmmlib"]
    assert "ignore_missing_imports" not in settings, "missing imports are ignored per package, by name"
    for override in settings.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert all(name.strip("*.") for name in modules), f"an override matches every module: {modules}"
