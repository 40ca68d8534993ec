"""Fixtures shared by several test modules, and the share of the cores each test worker takes."""

from __future__ import annotations

import os
import subprocess

import pytest

from dmmlib.suite import paths
from dmmlib.suite.book import browser


def pytest_configure(config):
    """Each pytest-xdist worker, and every kernel or process it starts, gets its share of the cores.

    With N workers on C cores, each worker's torch and every notebook kernel it starts would otherwise take C
    threads, N * C in all: OpenMP's threads then wait for cores the others hold, and the tests ran slower in parallel
    than one after the other (nbval's notebooks: 357 s with 2 workers against 102-148 s in one process, 2 cores).
    Each worker gets C // N threads (at least 1) through ``OMP_NUM_THREADS``, which the processes it starts inherit,
    and ``torch.set_num_threads``. A value the user set in ``OMP_NUM_THREADS`` is kept.
    """
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not os.environ.get("PYTEST_XDIST_WORKER") or not workers or "OMP_NUM_THREADS" in os.environ:
        return
    import torch

    from dmmlib.suite.provenance import usable_cores

    threads = max(1, usable_cores() // int(workers))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless chromium (installed by `make browser` when absent); the tests that need it skip without it."""
    if not os.access(browser.CHROMIUM, os.X_OK):
        subprocess.run(["make", "-s", "browser"], cwd=paths.repo_root(), check=False)
    if not os.access(browser.CHROMIUM, os.X_OK):
        pytest.skip(f"{browser.CHROMIUM} is absent and `make browser` could not install Debian's chromium")
    return browser.CHROMIUM
