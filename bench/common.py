"""Shared pieces of the benchmark suite: side-by-side timing in interleaved rounds, result records, tiny data.

Every figure the suite reports is a *ratio* of two things measured in the same process, in alternating rounds
(the order flips each round), so the load of a shared machine hits both alike; the reported ratio is the median
of the per-round ratios. Single-threaded benchmarks time with ``time.process_time`` (CPU seconds of this
process: a per-core cost that waiting for a busy CPU does not inflate).
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from dmmlib.attributes import NUM_ATTRIBUTES

Clock = Callable[[], float]
CPU_CLOCK: Clock = time.process_time
WALL_CLOCK: Clock = time.perf_counter


def single_thread() -> None:
    """One torch thread: benchmarks measure per-core costs (a shared machine has no spare core to give)."""
    torch.set_num_threads(1)


def timed(work: Callable[[], Any], clock: Clock = CPU_CLOCK) -> float:
    started = clock()
    work()
    return clock() - started


def interleaved(
    works: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1, clock: Clock = CPU_CLOCK
) -> dict[str, list[float]]:
    """Seconds of each work per round; every round runs each work once, the order reversed every other round."""
    names = list(works)
    for _ in range(warmup):
        for name in names:
            works[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(timed(works[name], clock))
    return times


def round_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def median_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    return statistics.median(round_ratios(numerator, denominator))


def record(
    ratio: float | None,
    goal: float | None,
    direction: str,
    *,
    meaning: str,
    raw: dict[str, Any],
    note: str = "",
) -> dict[str, Any]:
    """One entry of ``summary.json``: ``direction`` is "<=" (at most ``goal``) or ">=" (at least ``goal``)."""
    if direction not in ("<=", ">="):
        raise ValueError(f"direction must be '<=' or '>=', got {direction!r}")
    if ratio is None or goal is None:
        met = None
    else:
        met = bool(ratio <= goal) if direction == "<=" else bool(ratio >= goal)
    return {
        "ratio": None if ratio is None else round(float(ratio), 4),
        "goal": None if goal is None else f"{direction} {goal:g}",
        "met": met,
        "meaning": meaning,
        "raw": raw,
        "note": note,
    }


def verdict(entry: dict[str, Any]) -> str:
    return {True: "met", False: "NOT MET", None: "no goal / not measured"}[entry["met"]]


def print_entry(name: str, entry: dict[str, Any]) -> None:
    ratio = "n/a" if entry["ratio"] is None else f"{entry['ratio']:.3f}"
    goal = entry["goal"] or "-"
    print(f"[{name}] {entry['meaning']}: {ratio} (goal {goal}): {verdict(entry)}", flush=True)
    if entry.get("note"):
        print(f"[{name}]   {entry['note']}", flush=True)


def command_line(name: str, run: Callable[..., dict[str, Any]], description: str,
                 argv: Sequence[str] | None = None) -> int:
    """The command line of a benchmark: ``--<option> N`` for each keyword of ``run`` whose default is an integer
    (that default kept); prints the raw per-round figures, then the verdict line."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    for option in inspect.signature(run).parameters.values():
        if type(option.default) is int:
            parser.add_argument(f"--{option.name.replace('_', '-')}", type=int, default=option.default)
    entry = run(**vars(parser.parse_args(argv)))
    for figure, values in entry.get("raw", {}).items():
        if isinstance(values, dict):
            for label, numbers in values.items():
                print(f"{label:14s} {figure}: {numbers}")
    print_entry(name, entry)
    return 0


def rounded(values: Sequence[float], digits: int = 5) -> list[float]:
    return [round(float(v), digits) for v in values]


class TensorFaces(Dataset):
    """``n`` random CelebA-like samples (uint8 images, +1/-1 attributes, normalised landmarks) held in memory,
    in the dict format of :class:`dmmlib.data.celeba.CelebA`; no disk, no decoding."""

    def __init__(self, n: int, size: tuple[int, int], num_landmarks: int = 68, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.images = torch.randint(0, 256, (n, 3, *size), dtype=torch.uint8, generator=g)
        self.attributes = (torch.randint(0, 2, (n, NUM_ATTRIBUTES), generator=g) * 2 - 1).to(torch.int8)
        self.landmarks = torch.rand(n, 2 * num_landmarks, generator=g) * 2 - 1
        self.sources = torch.zeros(n, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {
            "image": self.images[index],
            "attributes": self.attributes[index],
            "landmarks": self.landmarks[index],
            "landmark_source": self.sources[index],
        }

    def batch(self, size: int) -> dict[str, torch.Tensor]:
        """The first ``size`` samples collated, as a DataLoader would."""
        return {
            "image": self.images[:size],
            "attributes": self.attributes[:size],
            "landmarks": self.landmarks[:size],
            "landmark_source": self.sources[:size],
        }


def percentiles(values: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(array)), "min": float(array.min()), "max": float(array.max())}


def python_profile(work: Callable[[], Any], top: int = 8) -> list[dict[str, Any]]:
    """cProfile of one call of ``work``: the ``top`` functions by own (self) time, with their share of the total.

    The evidence behind a goal that is not met: it shows where the time of the measured path goes. Times are CPU
    seconds of this process, so a busy machine that pauses it does not charge the pause to whatever ran then.
    """
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [
        {"function": f"{Path(file).name}:{line}({name})", "calls": calls, "self_s": round(own, 4),
         "share": round(own / total, 4)}
        for (file, line, name), (_, calls, own, _, _) in rows
    ]  # fmt: skip


def torch_op_seconds(work: Callable[[], Any]) -> dict[str, float]:
    """torch.profiler of one call of ``work`` on the CPU: self CPU seconds per operator (``aten::...``)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        work()
    return {event.key: event.self_cpu_time_total / 1e6 for event in prof.key_averages()}


def op_differences(more: dict[str, float], less: dict[str, float], top: int = 10) -> list[dict[str, Any]]:
    """Operators ranked by how many more self seconds they take in ``more`` than in ``less``."""
    total_extra = sum(more.values()) - sum(less.values())
    keys = sorted(set(more) | set(less), key=lambda k: more.get(k, 0.0) - less.get(k, 0.0), reverse=True)[:top]
    return [
        {"op": k, "extra_s": round(more.get(k, 0.0) - less.get(k, 0.0), 4), "dmm_s": round(more.get(k, 0.0), 4),
         "baseline_s": round(less.get(k, 0.0), 4),
         "share_of_extra": round((more.get(k, 0.0) - less.get(k, 0.0)) / total_extra, 4) if total_extra else None}
        for k in keys
    ]  # fmt: skip
