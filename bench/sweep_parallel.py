"""Parallel batch sweeps: wall time of a 4-point smoke sweep with ``--jobs 2`` over the same points one at a time.

Both sweeps run the points of ``sweeps/smoke-seeds.yml`` (notebook 06, smoke preset, two variants, one epoch) with
four seeds, each into a fresh temporary build folder whose shared dataset is generated before the clock starts, as
``python -m dmmlib.suite sweep`` processes (so the numbers include papermill, kernel start-up and imports, as a
user's sweep does). ``--jobs 2`` gives each point half the cores (``OMP_NUM_THREADS``); ``--jobs 1`` gives the one
running point all of them. Rounds alternate the order. The figure is the median per-round ratio jobs-2 / jobs-1
(goal: at most 0.65 on 2 cores: the two points of a pair share nothing but the CPU).

    .venv/bin/python -m bench.sweep_parallel [--points 4] [--rounds 1]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.common import WALL_CLOCK, command_line, record, round_ratios, rounded
from dmmlib.suite import paths, provenance, sweep

GOAL = 0.65
JOBS = (2, 1)


def spec_file(folder: Path, points: int) -> Path:
    """smoke-seeds.yml with ``points`` seeds."""
    data = yaml.safe_load((paths.repo_root() / "sweeps" / "smoke-seeds.yml").read_text())
    data.update(name="bench-parallel", grid={"SEED": list(range(points))})
    path = folder / "bench-parallel.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def time_sweep(spec: Path, jobs: int, build: Path) -> float:
    """Wall seconds of one sweep command into ``build`` (its shared data made beforehand, off the clock)."""
    env = {**os.environ, "DMM_BUILD_DIR": str(build), "DMM_RUNS_DIR": str(build / "runs")}
    loaded = sweep.load_spec(spec)
    sweep.prepare_shared(loaded, build / "sweeps" / loaded.name, progress=False)
    command = [sys.executable, "-m", "dmmlib.suite", "sweep", str(spec), "--jobs", str(jobs), "--no-progress"]
    started = WALL_CLOCK()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = WALL_CLOCK() - started
    if result.returncode != 0:
        raise RuntimeError(f"sweep --jobs {jobs} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return seconds


def entry(times: dict[int, list[float]], points: int, cores: int) -> dict[str, Any]:
    """The summary entry from per-round wall seconds of each jobs setting."""
    ratios = round_ratios(times[2], times[1])
    ratio = statistics.median(ratios)
    return record(
        ratio, GOAL, "<=",
        meaning=f"wall time of a {points}-point smoke sweep, --jobs 2 / --jobs 1",
        raw={"seconds": {f"jobs {j}": rounded(v, 2) for j, v in times.items()}, "round_ratios": rounded(ratios, 4),
             "points": points, "cores": cores, "clock": "wall (perf_counter), sweep command as a subprocess"},
        note=f"jobs 2: {statistics.median(times[2]):.1f} s, jobs 1: {statistics.median(times[1]):.1f} s on {cores} "
             f"core(s)",
    )  # fmt: skip


def run(points: int = 4, rounds: int = 1, scratch_parent: Path | None = None) -> dict[str, Any]:
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="dmm-bench-sweep-", dir=scratch_parent))
    times: dict[int, list[float]] = {j: [] for j in JOBS}
    try:
        spec = spec_file(scratch, points)
        for r in range(rounds):
            for jobs in JOBS if r % 2 == 0 else reversed(JOBS):
                times[jobs].append(time_sweep(spec, jobs, scratch / f"round{r}-jobs{jobs}"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return entry(times, points, provenance.usable_cores())


def main(argv: list[str] | None = None) -> int:
    return command_line("sweep_parallel", run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
