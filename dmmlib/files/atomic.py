"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each writer writes a temporary file in the target's folder and renames it over the target (``os.replace`` is
atomic on POSIX within one file system), so a crash or ``kill -9`` mid-write loses nothing already written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not thread-safe later).
_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_lines(path: str | os.PathLike[str], lines: Iterable[str], buffer_bytes: int = 1 << 20) -> Path:
    """Write an iterable of text lines (each with its newline) atomically, in buffered pieces of ``buffer_bytes``."""

    def write(handle: IO[bytes]) -> None:
        pending: list[str] = []
        size = 0
        for line in lines:
            pending.append(line)
            size += len(line)
            if size >= buffer_bytes:
                handle.write("".join(pending).encode("utf-8"))
                pending, size = [], 0
        handle.write("".join(pending).encode("utf-8"))

    return atomic_write(path, write)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
