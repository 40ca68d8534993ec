"""Every third-party package the code imports is declared in pyproject.toml, and a locked set-up is exact.

A package that only arrives because another one depends on it (psutil through jupyter, nbclient through nbval)
works until that other package drops it; then a fresh clone breaks for no change of ours. The check reads every
import of the package, the tests, the benchmarks and the notebooks with ``ast`` and maps each top-level module to
the distribution that installs it (``importlib.metadata.packages_distributions``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from dmmlib.suite import lockfile
from dmmlib.suite.lockfile import normalise

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("dmmlib", "tests", "bench")
#: the project's own top-level names: its packages and the tests' modules, which import each other
FIRST_PARTY = {"dmmlib", "tests", "bench", *(p.stem for p in (ROOT / "tests").glob("*.py"))}


def declared_distributions(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """Every distribution named in the dependencies or any extra of ``pyproject``, normalised."""
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return {normalise(Requirement(spec).name) for spec in specs}


def _imports_of(source: str) -> set[str]:
    """The top-level module names a Python source imports (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        # IPython magics and shell escapes are not Python
        lines += [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def imported_modules(files: Iterable[Path]) -> dict[str, list[Path]]:
    """Top-level module -> the files importing it, for .py files and notebooks' code cells."""
    found: dict[str, list[Path]] = {}
    for path in files:
        source = _notebook_code(path) if path.suffix == ".ipynb" else path.read_text()
        for name in _imports_of(source):
            found.setdefault(name, []).append(path)
    return found


def module_providers(modules: Iterable[str]) -> dict[str, set[str]]:
    """Top-level importable name -> the installed distributions that provide it, for ``modules``.

    ``importlib.metadata.packages_distributions`` trusts a wheel's ``top_level.txt``, which can be incomplete
    (dlib-bin's names only its compiled ``_dlib_pybind11``, not the ``dlib`` package beside it), so for a name it
    does not know, the distributions whose installed files (``RECORD``) start with that name count.
    """
    known = importlib.metadata.packages_distributions()
    found = {m: {normalise(d) for d in known[m]} for m in modules if m in known}
    missing = [m for m in modules if m not in found]
    if missing:
        for dist in importlib.metadata.distributions():
            lines = (dist.read_text("RECORD") or "").splitlines()
            for module in missing:
                if any(line.startswith((f"{module}/", f"{module}.")) for line in lines):
                    found.setdefault(module, set()).add(normalise(dist.metadata["Name"]))
    return found


def undeclared_imports(files: Iterable[Path], declared: set[str]) -> dict[str, str]:
    """Third-party module -> the files that import it, for each one no declared distribution provides.

    A module no installed distribution provides is reported too (it cannot be declared: it is missing).
    """
    imports = {
        module: paths
        for module, paths in imported_modules(files).items()
        if module not in sys.stdlib_module_names and module not in FIRST_PARTY and module != "__future__"
    }
    providers = module_providers(imports)
    problems: dict[str, str] = {}
    for module, paths in sorted(imports.items()):
        dists = providers.get(module, set())
        if not dists & declared:
            where = ", ".join(sorted(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in paths))
            problems[module] = f"{module} (from {sorted(dists) or 'no installed distribution'}) in {where}"
    return problems


def project_files() -> list[Path]:
    files = [p for folder in SOURCES for p in (ROOT / folder).rglob("*.py")]
    return files + sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_third_party_import_of_the_project_is_declared_in_pyproject():
    problems = undeclared_imports(project_files(), declared_distributions())
    assert not problems, "imported but not declared in pyproject.toml:\n" + "\n".join(problems.values())


def test_a_module_importing_an_undeclared_package_is_reported(tmp_path):
    made_up = tmp_path / "made_up.py"
    made_up.write_text("import os\nimport numpy as np\nfrom tabulate import tabulate\n")
    problems = undeclared_imports([made_up], declared={"numpy"})
    assert set(problems) == {"tabulate"}, problems
    assert "made_up.py" in problems["tabulate"]


def test_a_notebook_importing_an_undeclared_package_is_reported(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    cell = {"cell_type": "code", "source": ["%matplotlib inline\n", "import psutil\n"], "metadata": {}}
    notebook.write_text(json.dumps({"cells": [cell]}))
    assert set(undeclared_imports([notebook], declared=set())) == {"psutil"}


def _lock_for_this_interpreter() -> Path | None:
    """The lock file ``make setup`` installs for this Python version and platform, if the project has one."""
    path = ROOT / lockfile.lock_path()
    return path if path.is_file() else None


def test_a_locked_setup_installed_exactly_the_locked_versions():
    stamp = ROOT / ".venv" / ".dmm-setup-stamp"
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() or not stamp.is_file():
        pytest.skip("not running in this checkout's .venv made by make setup")
    if "locked" not in stamp.read_text():
        pytest.skip(f"{stamp} says the set-up was not locked (make setup UNLOCKED=1 or no lock for this Python)")
    lock = _lock_for_this_interpreter()
    assert lock is not None, "the stamp says locked but there is no lock file for this interpreter"
    differences = lockfile.differences(lockfile.read(lock), lockfile.installed())
    assert not differences, f"installed versions differ from {lock.name}:\n" + "\n".join(differences)
