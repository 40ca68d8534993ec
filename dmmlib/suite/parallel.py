"""Run independent trainings side by side: one process per job, one torch thread each, with a progress bar.

The premise experiments (:mod:`dmmlib.suite.premises`) and the shared-schedule runs
(:mod:`dmmlib.suite.shared_schedule`) are lists of runs that share nothing but their data folders (drawn before,
in the calling process). On a 2-core machine two runs of one thread each finish sooner than one run of two threads
after the other, since small models leave a second intra-op thread mostly waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_runs(function: Callable[[T], R], items: Sequence[T], jobs: int = 1, desc: str = "runs") -> list[R]:
    """``[function(item) for item in items]``, ``jobs`` at a time in worker processes (in this process for 1),
    in order, with a tqdm bar. ``function`` must be importable (a module-level function) for the workers."""
    from tqdm.auto import tqdm

    results: list[R] = []
    with tqdm(total=len(items), unit="run", desc=desc) as bar:
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for result in pool.map(function, items):
                    results.append(result)
                    bar.update()
        else:
            for item in items:
                results.append(function(item))
                bar.update()
    return results
