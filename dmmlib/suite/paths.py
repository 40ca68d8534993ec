"""Where things live: the repository root, the build and run folders.

Notebooks resolve every path through here, so papermill (which runs in the caller's folder), nbval (which runs
in the notebook's folder) and the book agree whatever the working directory is.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The repository root: ``DMM_ROOT`` if set, else the folder above the installed ``dmmlib`` package
    (this file is ``<root>/dmmlib/suite/paths.py``)."""
    env = os.environ.get("DMM_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    """Ignored folder for executed notebooks, the book and benchmark output."""
    return Path(os.environ.get("DMM_BUILD_DIR", repo_root() / "build"))


def executed_dir(preset: str) -> Path:
    """``build/executed/<preset>/``: the papermill-executed copies of the notebooks, which the book renders."""
    return build_dir() / "executed" / preset


def runs_dir(preset: str | None = None) -> Path:
    """Ignored folder for datasets, caches, checkpoints and results; one sub-folder per preset."""
    base = Path(os.environ.get("DMM_RUNS_DIR", repo_root() / "runs"))
    return base / preset if preset else base


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def shared_testdata() -> Path:
    """Real face photographs for tests (``../shared/testdata/dlib-faces`` beside the checkout)."""
    env = os.environ.get("DMM_SHARED_TESTDATA")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "testdata" / "dlib-faces"
