"""Specification of dmmlib.files.atomic: a file is replaced whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dmmlib.files import atomic


def test_written_lines_equal_their_concatenation_across_buffer_boundaries(tmp_path: Path):
    lines = [f"row {i} " + "x" * (i % 7) + "\n" for i in range(1000)]
    atomic.write_lines(tmp_path / "f.txt", iter(lines), buffer_bytes=64)
    assert (tmp_path / "f.txt").read_text() == "".join(lines)


def test_a_writer_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    target = tmp_path / "f.txt"
    target.write_text("old\n")

    def lines():
        yield "new first line\n" * 10_000
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_lines(target, lines(), buffer_bytes=16)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_new_files_get_the_permissions_the_umask_allows_not_mkstemps_0600(tmp_path: Path):
    atomic.write_text(tmp_path / "f.txt", "x")
    mode = stat.S_IMODE(os.stat(tmp_path / "f.txt").st_mode)
    assert mode == 0o666 & ~atomic._UMASK
