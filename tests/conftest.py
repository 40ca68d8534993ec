"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
import subprocess

import pytest

from dmmlib.suite import paths
from dmmlib.suite.book import browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless chromium (installed by `make browser` when absent); the tests that need it skip without it."""
    if not os.access(browser.CHROMIUM, os.X_OK):
        subprocess.run(["make", "-s", "browser"], cwd=paths.repo_root(), check=False)
    if not os.access(browser.CHROMIUM, os.X_OK):
        pytest.skip(f"{browser.CHROMIUM} is absent and `make browser` could not install Debian's chromium")
    return browser.CHROMIUM
