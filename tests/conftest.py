"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
import subprocess

import pytest

from dmmlib.suite import paths
from dmmlib.suite.book import browser

#: test modules that share a session fixture too costly to make twice: under ``pytest -n N --dist loadgroup``
#: (``make unit``) each group runs in one worker, so the fixture is made once
SHARED_FIXTURE_GROUPS = {"test_book": "smoke_suite", "test_pretrain": "smoke_suite"}


def pytest_collection_modifyitems(config, items):
    """Every test is in the xdist group of its module (or of the session fixture it shares, see above): with
    ``--dist loadgroup`` a module's tests run in one worker, in order, and its module fixtures are made once."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = item.module.__name__.rpartition(".")[2] if item.module else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(SHARED_FIXTURE_GROUPS.get(module, module)))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless chromium (installed by `make browser` when absent); the tests that need it skip without it."""
    if not os.access(browser.CHROMIUM, os.X_OK):
        subprocess.run(["make", "-s", "browser"], cwd=paths.repo_root(), check=False)
    if not os.access(browser.CHROMIUM, os.X_OK):
        pytest.skip(f"{browser.CHROMIUM} is absent and `make browser` could not install Debian's chromium")
    return browser.CHROMIUM


@pytest.fixture(scope="session")
def smoke_suite(tmp_path_factory):
    """The whole notebook suite executed once with the smoke preset, as ``make run PRESET=smoke`` runs it, in a
    folder of its own (runs and executed notebooks), shared by the tests that read an executed suite (the book, the
    pretraining). It runs in three calls of :func:`dmmlib.suite.runner.run_suite`, the notebooks before 05, then
    05-07 (whose runs are trained first, two at once), then the rest, and keeps what the middle call left before
    the later notebooks add runs of their own: its ``suite.json`` and the run folders with their completion times."""
    import json
    import types

    from dmmlib.suite import manifest, pipeline, pretrain
    from dmmlib.suite.runner import run_suite

    root = tmp_path_factory.mktemp("smoke-suite")
    stems = [entry.stem for entry in manifest.load()]
    first = stems.index(pretrain.TRAINING_NOTEBOOKS[0])
    last = stems.index(pretrain.TRAINING_NOTEBOOKS[-1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMM_RUNS_DIR", str(root / "runs"))
        mp.setenv("DMM_BUILD_DIR", str(root / "build"))
        mp.delenv("DMM_PRESET", raising=False)
        run_suite("smoke", only=stems[:first], jobs=2)
        executed = run_suite("smoke", only=stems[first : last + 1], jobs=2)
        models = root / "runs" / "smoke" / "models"
        after_training = types.SimpleNamespace(
            summary=json.loads((executed / "suite.json").read_text()),
            runs=sorted(p.name for p in models.iterdir()),
            finished=sorted(
                p.name
                for p in models.iterdir()
                if pipeline.is_complete(p) or (p / pipeline.DIVERGED).exists()
            ),
            last_completed=max(
                (p / pipeline.COMPLETE).stat().st_mtime for p in models.iterdir() if pipeline.is_complete(p)
            ),
        )
        run_suite("smoke", only=stems[last + 1 :], jobs=2)
    return types.SimpleNamespace(
        root=root, runs=root / "runs", build=root / "build", executed=executed, after_training=after_training
    )
