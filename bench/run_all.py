"""The benchmark suite (``make bench`` = ``python -m bench``): every benchmark in turn, one summary file.

Each benchmark prints its figure, its goal and whether it is met; together they write ``build/bench/summary.json``
atomically (:func:`dmmlib.files.atomic.write_json`): benchmark name -> ratio (or rate / seconds, as its ``meaning``
says), goal, met (true, false, or null when not measured), raw timings, and a note. Every figure is measured side
by side in one process (:mod:`bench.common`), so a shared machine's load affects both sides alike. A benchmark
that fails is recorded with its error and the others still run; the exit status is then 1.

    .venv/bin/python -m bench [--only NAME ...] [--quick] [--out build/bench/summary.json]

Budget: under 15 minutes on 2 shared CPU cores. The notebook suite is not run here: its timings are read from
``make run``'s summaries (``bench/notebook_suite.py``); the GPU figures come from ``make gpu-check``.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bench import (
    cpu_bf16,
    data_pipeline,
    decoded_cache,
    landmark_scale,
    notebook_suite,
    parallel_training,
    step_time_cpu,
    sweep_parallel,
    synthetic_speed,
    validation_overhead,
)
from bench.common import print_entry, single_thread
from dmmlib.files import atomic
from dmmlib.suite import paths


def benchmarks(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    """name -> a call returning its summary entry; ``quick`` shrinks rounds and sizes (a smoke run of the suite,
    not figures to quote)."""
    q = quick
    scratch = paths.build_dir() / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    return {
        "step_time": lambda: step_time_cpu.run(batch=2 if q else 8, rounds=2 if q else 9),
        # the lever for a retune of the teach preset: bf16 autocast on CPUs with native bf16 (speed only)
        "cpu_bf16": lambda: cpu_bf16.run(batch=8 if q else 64, rounds=2 if q else 5),
        "validation_overhead": lambda: validation_overhead.run(
            train_batch=2 if q else 8, val_batch=4 if q else 16, rounds=2 if q else 5
        ),
        "data_pipeline": lambda: data_pipeline.run(num=24 if q else 96, rounds=2 if q else 15),
        # the share of a teach training spent decoding the same images again, which the cache removes
        "decoded_cache": lambda: decoded_cache.run(num=24 if q else 256, batch=8 if q else 64, rounds=2 if q else 5),
        # what a replicator waits for: dlib's landmarks of all CelebA / LFWA images through the cache, in minutes on
        # 2 cores (measured at two sizes on real faces, extrapolated per image: bench/landmark_scale.py)
        "landmarks_celeba": lambda: landmark_scale.celeba(*((40, 80) if q else (400, 3200)), scratch=scratch),
        "landmarks_lfwa": lambda: landmark_scale.lfwa(*((20, 40) if q else (100, 800)), scratch=scratch),
        "synthetic_generation": lambda: synthetic_speed.run(
            num=48 if q else 400, rounds=2 if q else 9, scratch_parent=paths.build_dir() / "bench"
        ),
        # make run trains the runs of notebooks 05-07 side by side first (dmmlib/suite/pretrain.py): the gain
        "parallel_training": lambda: parallel_training.run(runs=2, steps=4 if q else 60, rounds=1 if q else 3),
        "sweep_parallel": lambda: sweep_parallel.run(points=2 if q else 4, rounds=1,
                                                     scratch_parent=paths.build_dir() / "bench"),
        "notebooks_smoke": lambda: notebook_suite.run("smoke"),
        "notebooks_teach": lambda: notebook_suite.run("teach"),
    }


def run(names: list[str] | None = None, quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    single_thread()
    suite = benchmarks(quick)
    chosen = names or list(suite)
    unknown = sorted(set(chosen) - set(suite))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {', '.join(suite)}")
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name in chosen:
        print(f"--> {name}", flush=True)
        t0 = time.perf_counter()
        try:
            entry = suite[name]()
        except Exception as error:  # record it and go on: one broken benchmark must not hide the others
            traceback.print_exc()
            entry = {"ratio": None, "goal": None, "met": None, "meaning": name, "raw": {},
                     "note": "", "error": f"{type(error).__name__}: {error}"}  # fmt: skip
        entry["wall_seconds"] = round(time.perf_counter() - t0, 1)
        results[name] = entry
        print_entry(name, entry)
        gc.collect()
    summary = {
        "benchmarks": results,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "quick": quick,
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": __import__("os").cpu_count(), "torch": torch.__version__,
                    "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    target = out or paths.build_dir() / "bench" / "summary.json"
    atomic.write_json(target, summary)
    print_table(summary)
    print(f"wrote {target} ({summary['wall_seconds']:.0f} s)")
    return summary


def print_table(summary: dict[str, Any]) -> None:
    print("\nbenchmark               measured       goal        verdict")
    for name, entry in summary["benchmarks"].items():
        value = "error" if entry.get("error") else "n/a" if entry["ratio"] is None else f"{entry['ratio']:.3f}"
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[entry["met"]]
        print(f"{name:23s} {value:>10s}   {entry['goal'] or '-':10s}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=None, help="benchmark names (default: all)")
    parser.add_argument("--quick", action="store_true", help="few rounds, small sizes: checks the suite runs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    summary = run(args.only, args.quick, args.out)
    return 1 if any(e.get("error") for e in summary["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
