"""The project's set-up contract: one pin list, a self-documenting Makefile, CI that fails loudly, clean git."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch", "dlib-bin": "dlib"}


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def extra_requirements(extra: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["optional-dependencies"][extra]]


def environment_specs() -> dict[str, str]:
    """Package name -> version range as written in environment.yml (conda and pip sections)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs: dict[str, str] = {}
    for item in env["dependencies"]:
        entries = item["pip"] if isinstance(item, dict) else [item]
        for entry in entries:
            match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", entry)
            specs[match.group(1).lower()] = match.group(2).replace(" ", "")
    return specs


def test_every_dependency_of_the_package_and_its_extras_is_in_environment_yml_with_the_same_range():
    specs = environment_specs()
    for requirement in runtime_requirements() + extra_requirements("suite") + extra_requirements("test"):
        conda_name = CONDA_NAMES.get(requirement.name, requirement.name).lower()
        assert conda_name in specs, f"environment.yml lacks {requirement.name} (as {conda_name})"
        assert specs[conda_name] == str(requirement.specifier) or set(specs[conda_name].split(",")) == set(
            str(requirement.specifier).split(",")
        ), f"{requirement.name}: pyproject says {requirement.specifier}, environment.yml says {specs[conda_name]}"


def test_torch_range_admits_the_local_wheels():
    torch_req = next(r for r in runtime_requirements() if r.name == "torch")
    vision_req = next(r for r in runtime_requirements() if r.name == "torchvision")
    assert torch_req.specifier.contains("2.14.1")
    assert vision_req.specifier.contains("0.29.1")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.M))


def test_make_help_lists_every_target_with_one_line():
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True)
    listed = set(re.findall(r"make (\S+)", result.stdout))
    required = {"setup", "run", "test", "book", "paper", "student", "bench", "clean"}
    assert required <= listed
    assert makefile_targets() <= listed | {"help"}, "a Makefile target has no '## ' description"


def test_gitignore_covers_venv_build_runs_and_caches():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in (".venv/", "build/", "runs/", "__pycache__/", ".ipynb_checkpoints/"):
        assert entry in ignored


def test_no_generated_files_are_tracked():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    bad = [p for p in tracked.stdout.splitlines() if re.match(r"(\.venv|build|runs)/|.*\.egg-info/|.*__pycache__", p)]
    assert not bad, f"generated files are tracked: {bad[:5]}"


def run_ci_with(tmp_path: Path, make_test_recipe: str) -> subprocess.CompletedProcess[str]:
    """Run a copy of .ci/run in a scratch project whose `make test` does ``make_test_recipe``."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "Makefile").write_text(f"test:\n\t{make_test_recipe}\n")
    return subprocess.run(["bash", ".ci/run"], cwd=tmp_path, capture_output=True, text=True)


def test_ci_passes_when_tests_pass(tmp_path):
    result = run_ci_with(tmp_path, "@echo '============ 3 passed in 0.10s ============'")
    assert result.returncode == 0, result.stdout


def test_ci_fails_when_a_test_fails(tmp_path):
    result = run_ci_with(tmp_path, "@echo '=== 1 failed, 2 passed in 0.1s ==='; exit 1")
    assert result.returncode != 0


def test_ci_fails_when_no_test_ran(tmp_path):
    result = run_ci_with(tmp_path, "@echo '============ no tests ran in 0.01s ============'")
    assert result.returncode != 0
    assert "no test ran" in result.stdout
