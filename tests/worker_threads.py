"""A pytest plugin: each pytest-xdist worker, and every kernel or process it starts, gets its share of the cores.

With N workers on C cores, each worker's torch and every notebook kernel it starts would otherwise take C threads,
N * C in all: OpenMP's threads then wait for cores the others hold, and the tests ran slower in parallel than one
after the other (nbval's notebooks: 357 s with 2 workers against 102-148 s in one process, 2 cores). Each worker gets C // N
threads (at least 1) through ``OMP_NUM_THREADS``, which the processes it starts inherit, and ``torch.set_num_threads``.
A value the user set in ``OMP_NUM_THREADS`` is kept. tests/conftest.py loads it.
"""

from __future__ import annotations

import os


def share_of_cores() -> int | None:
    """Threads for this process: ``cores // workers`` in a pytest-xdist worker, None outside one."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not os.environ.get("PYTEST_XDIST_WORKER") or not workers:
        return None
    from dmmlib.suite.provenance import usable_cores

    return max(1, usable_cores() // int(workers))


def pytest_configure(config) -> None:
    threads = share_of_cores()
    if threads is None or "OMP_NUM_THREADS" in os.environ:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
