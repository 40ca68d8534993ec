"""Fixtures shared by several test modules, and the share of the cores each test worker takes."""

from __future__ import annotations

import os
import subprocess

import pytest

from dmmlib.suite import paths
from dmmlib.suite.book import browser


def pytest_configure(config):
    """Each xdist worker's share of the cores (tests/worker_threads.py)."""
    import worker_threads

    worker_threads.pytest_configure(config)


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
    folder of its own (runs and executed notebooks), read by the tests of the book
    (tests/test_book.py, which also checks the pretraining it did). Two calls of :func:`dmmlib.suite.runner.run_suite`: first notebooks 05-07, whose runs are trained
    before them, two at once, on an empty runs folder (as ``make run`` trains them before any notebook); then every
    other notebook. It keeps what the first call left before the others add runs of their own: its ``suite.json``
    and the run folders with their completion times."""
    import json
    import types

    from dmmlib.suite import manifest, pipeline, pretrain
    from dmmlib.suite.runner import run_suite

    root = tmp_path_factory.mktemp("smoke-suite")
    stems = [entry.stem for entry in manifest.load()]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMM_RUNS_DIR", str(root / "runs"))
        mp.setenv("DMM_BUILD_DIR", str(root / "build"))
        mp.delenv("DMM_PRESET", raising=False)
        executed = run_suite("smoke", only=list(pretrain.TRAINING_NOTEBOOKS), jobs=2)
        models = root / "runs" / "smoke" / "models"
        after_training = types.SimpleNamespace(
            summary=json.loads((executed / "suite.json").read_text()),
            runs=sorted(p.name for p in models.iterdir()),
            finished=sorted(p.name for p in models.iterdir() if pipeline.is_complete(p) or (p / pipeline.DIVERGED).exists()),
            last_completed=max((p / pipeline.COMPLETE).stat().st_mtime for p in models.iterdir() if pipeline.is_complete(p)),
        )
        run_suite("smoke", only=[s for s in stems if s not in pretrain.TRAINING_NOTEBOOKS], jobs=2)
    return types.SimpleNamespace(
        root=root, runs=root / "runs", build=root / "build", executed=executed, after_training=after_training
    )
