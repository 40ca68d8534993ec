"""Colab and Binder: the install cell (one source, the book's repository URL, a no-op outside Colab) and binder/."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
import yaml

from dmmlib.suite import colab, paths

NOTEBOOKS_WITH_THE_CELL = tuple(sorted(p.name for p in paths.notebooks_dir().glob("*.ipynb")))


@pytest.mark.parametrize("name", NOTEBOOKS_WITH_THE_CELL)
def test_the_first_code_cell_is_the_current_install_cell(name):
    nb = nbformat.read(paths.notebooks_dir() / name, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == colab.cell_source(), "run `python -m dmmlib.suite.colab` to refresh it"
    assert colab.BOOK_TAG in first_code.metadata.get("tags", []), "the book would show the install code"


def test_the_cell_clones_the_url_the_books_launch_buttons_use():
    config = yaml.safe_load((paths.repo_root() / "book" / "_config.yml").read_text())
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    assert colab.repository_url() == config["repository"]["url"].rstrip("/")
    assert f'"{colab.repository_url()}"' in colab.cell_source()
    assert "import dmmlib" not in colab.cell_source() and "from dmmlib" not in colab.cell_source()


def test_outside_colab_the_cell_runs_nothing(tmp_path):
    """Executed in a fresh interpreter with subprocess.run replaced by a failure: nothing is cloned or installed."""
    script = (
        "import subprocess\n"
        "def refuse(*a, **k):\n    raise SystemExit('the install cell ran a command outside Colab')\n"
        "subprocess.run = refuse\n" + colab.cell_source() + "\nimport os\nassert 'DMM_ROOT' not in os.environ\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_on_colab_with_dmmlib_present_it_only_sets_the_root():
    script = (
        "import sys, types, subprocess, os\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
        "subprocess.run = lambda *a, **k: (_ for _ in ()).throw(SystemExit('ran a command'))\n"
        "import dmmlib\n" + colab.cell_source() + f"\nassert os.environ['DMM_ROOT'] == {colab.CHECKOUT!r}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DMM_ROOT"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=paths.repo_root(), env=env)
    assert result.returncode == 0, result.stderr


def test_the_command_adds_the_cell_once_and_check_reports_stale_cells(tmp_path):
    path = tmp_path / "n.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, path)
    assert colab.main([str(path), "--check"]) == 1
    assert colab.main([str(path)]) == 0
    written = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in written.cells] == ["markdown", "code", "code"]
    assert colab.install_cell_index(written) == 1 and written.cells[2].source == "x = 1"
    assert colab.main([str(path), "--check"]) == 0


def test_binder_builds_the_one_environment_yml_then_installs_dmmlib_and_picks_the_smoke_preset():
    binder = paths.repo_root() / "binder"
    assert (binder / "environment.yml").resolve() == (paths.repo_root() / "environment.yml").resolve()
    post_build = (binder / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build and os.access(binder / "postBuild", os.X_OK)
    script = binder / "start"
    result = subprocess.run([str(script), "bash", "-c", "echo $DMM_PRESET"], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]}, check=True)  # fmt: skip
    assert result.stdout.strip() == "smoke"
