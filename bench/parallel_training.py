"""Training runs side by side (``make run``'s step before the notebooks) against one after the other.

The work: ``runs`` teach-preset trainings of ``steps`` steps each (Baseline, the trainer's own step on an in-memory
batch: :func:`bench.step_time_cpu.make_trainer`), every one in a fresh process. Side by side: all at once, each on
``cores // runs`` threads, as :mod:`dmmlib.suite.pretrain` runs them. One after the other: each on every core, as the
notebooks train when ``make run JOBS=1``. Rounds alternate the order. The figure is the median per-round ratio of
wall times, side by side / one after the other (goal: at most 0.85 on 2 cores). On an idle 2-core machine it
measured 0.88 and 0.99 in two runs: the steps alone gain little; ``make run``'s end-to-end gain is larger
(:mod:`dmmlib.suite.pretrain` gives both).

    .venv/bin/python -m bench.parallel_training [--runs 2] [--steps 30] [--rounds 3]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.common import WALL_CLOCK, command_line, record, round_ratios, rounded
from dmmlib.suite import presets, provenance

GOAL = 0.85


def train_steps(steps: int, threads: int, start_together: Any = None) -> float:
    """Worker: ``steps`` teach-preset Baseline steps on ``threads`` threads after two warm-up steps; their seconds.
    ``start_together``: a barrier the side-by-side workers pass together before their first timed step."""
    import torch

    from bench.step_time_cpu import make_trainer, step_function

    torch.set_num_threads(threads)
    train = dict(presets.PRESETS["teach"].train)
    size, backbone, batch = tuple(train.pop("input_size")), train.pop("backbone"), train.pop("batch_size")
    trainer, data = make_trainer("Baseline", batch, size=size, backbone=backbone, **train)
    step = step_function(trainer, data)
    for _ in range(2):
        step()
    if start_together is not None:
        start_together.wait()
    started = WALL_CLOCK()
    for _ in range(steps):
        step()
    return WALL_CLOCK() - started


def side_by_side(runs: int, steps: int, cores: int) -> float:
    """Wall seconds until all ``runs`` trainings have done their steps, all started at once."""
    threads = max(1, cores // runs)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, ProcessPoolExecutor(runs, mp_context=spawn) as pool:
        barrier = manager.Barrier(runs)
        return max(pool.map(train_steps, [steps] * runs, [threads] * runs, [barrier] * runs))


def one_after_another(runs: int, steps: int, cores: int) -> float:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return sum(pool.submit(train_steps, steps, cores).result() for _ in range(runs))


def entry(times: dict[str, list[float]], runs: int, steps: int, cores: int) -> dict[str, Any]:
    ratios = round_ratios(times["side by side"], times["one after another"])
    return record(
        statistics.median(ratios), GOAL, "<=",
        meaning=f"wall time of {runs} teach trainings of {steps} steps, side by side / one after another",
        raw={"seconds": {k: rounded(v, 2) for k, v in times.items()}, "round_ratios": rounded(ratios, 4),
             "runs": runs, "steps": steps, "cores": cores,
             "clock": "wall (perf_counter) of the steps in each process (side by side: from a common start), start-up "
                      "and warm-up excluded"},
        note=f"side by side {statistics.median(times['side by side']):.1f} s, one after another "
             f"{statistics.median(times['one after another']):.1f} s on {cores} core(s)",
    )  # fmt: skip


def run(runs: int = 2, steps: int = 30, rounds: int = 3) -> dict[str, Any]:
    cores = provenance.usable_cores()
    works = {"side by side": side_by_side, "one after another": one_after_another}
    times: dict[str, list[float]] = {name: [] for name in works}
    for r in range(rounds):
        for name in works if r % 2 == 0 else reversed(works):
            times[name].append(works[name](runs, steps, cores))
    return entry(times, runs, steps, cores)


def main(argv: list[str] | None = None) -> int:
    return command_line("parallel_training", run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
