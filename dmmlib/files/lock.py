"""Exclusive locks between processes: one process makes a dataset or trains a run, the others wait for it.

Two notebooks open at once in JupyterLab, the points of a sweep, or parallel test workers may ask for the same
synthetic dataset or the same run. Without a lock both would make it, and the second would replace the first's
folder while a reader uses it. With one, the second waits until the first has finished, then finds the result
complete and makes nothing. Waiting is on the lock itself (the operating system's ``flock``), never on a timer.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exclusive", "lock_path"]


def lock_path(target: Path) -> Path:
    """The lock file guarding ``target`` (a dataset or run folder): in this user's lock folder under the system's
    temporary folder, named by ``target``'s absolute path. Not beside ``target``: a file there would show up among
    the runs or datasets a folder lists, and stay behind in a folder the user owns. Being local, it orders the
    processes of one machine, which is what shares a run or dataset folder while it is made."""
    key = hashlib.sha256(str(Path(target).resolve()).encode()).hexdigest()[:16]
    return (
        Path(tempfile.gettempdir())
        / f"dmmlib-locks-{os.getuid() if hasattr(os, 'getuid') else 0}"
        / f"{target.name}-{key}.lock"
    )


@contextlib.contextmanager
def exclusive(path: Path, what: str = "", notice_after: float = 10.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the ``with`` block.

    Uses ``filelock``'s OS lock, or its lock-file fallback on a file system without ``flock`` (some network mounts).
    After ``notice_after`` seconds of waiting it prints once that it waits, and for ``what``, then waits on.
    """
    import filelock

    def acquire(lock: filelock.BaseFileLock) -> filelock.BaseFileLock:
        try:
            lock.acquire(timeout=notice_after)
        except filelock.Timeout:
            print(f"waiting for {what or path}: another process holds {path}", flush=True)
            lock.acquire()
        return lock

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        held = acquire(filelock.FileLock(path))
    except NotImplementedError:
        held = acquire(filelock.SoftFileLock(path.with_name(path.name + ".soft")))
    try:
        yield
    finally:
        held.release()
