"""Importing dmmlib before torch turns on huge pages for torch's large CPU allocations (dmmlib/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = "import dmmlib, os, torch; print(os.environ.get('THP_MEM_ALLOC_ENABLE'))"


def _run(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    return done.stdout.strip()


def test_importing_dmmlib_first_enables_huge_pages():
    assert _run(SHOW) == "1"


def test_an_explicit_setting_is_kept():
    assert _run(SHOW, THP_MEM_ALLOC_ENABLE="0") == "0"


def test_nothing_changes_when_torch_was_imported_first():
    assert _run("import torch, dmmlib, os; print(os.environ.get('THP_MEM_ALLOC_ENABLE'))") == "None"
