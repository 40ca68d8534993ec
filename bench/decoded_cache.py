"""A training epoch of the teach preset's Baseline with the decoded-image cache against without it, side by side.

Each epoch reads every image of a synthetic CelebA-format set through the project's loader (open, decode at a
reduced DCT scale, resize to the teach input, flip) and takes one SGD step per batch; the cached epoch reads the
resized images from memory (:mod:`dmmlib.data.decoded_cache`, filled by the warm-up epoch) and still flips at
random. Same files, same trainer, same process, alternating rounds, one thread; the figure is the median per-round
ratio cached / uncached of an epoch's CPU time. The cache changes no result (``tests/test_decoded_cache.py``), so
the ratio is the whole story: the share of a training that was spent decoding the same images again.

    .venv/bin/python -m bench.decoded_cache [--num 256] [--batch 64] [--rounds 5]
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from bench.common import CPU_CLOCK, command_line, interleaved, median_ratio, record, rounded, single_thread
from bench.data_pipeline import dataset_root
from bench.step_time_cpu import make_trainer
from dmmlib.data.celeba import CelebA
from dmmlib.data.transforms import make_loader, train_transform
from dmmlib.suite import presets

GOAL = 0.9  #: the cache must save at least a tenth of an epoch to be worth its memory


def run(num: int = 256, batch: int = 64, rounds: int = 5) -> dict[str, Any]:
    single_thread()
    teach = presets.PRESETS["teach"].train
    size = tuple(teach["input_size"])
    sizes = {k: teach[k] for k in ("backbone", "objective_hidden", "subjective_hidden", "landmark_hidden")}
    trainer, _ = make_trainer("Baseline", batch, size, **sizes)
    root = dataset_root(num)
    works = {}
    for name, cache_mb in (("uncached", 0.0), ("cached", 1024.0)):
        data = CelebA(root, "all", train_transform(size), landmarks="file", cache_mb=cache_mb)
        loader = make_loader(data, batch, shuffle=True, generator=torch.Generator().manual_seed(0))
        works[name] = lambda ld=loader: [trainer.step(b) for b in ld]
    times = interleaved(works, rounds, warmup=1, clock=CPU_CLOCK)
    ratio = median_ratio(times["cached"], times["uncached"])
    return record(
        ratio, GOAL, "<=",
        meaning=f"training epoch with the decoded-image cache / without, teach Baseline ({size[0]}x{size[1]}, "
                f"batch {batch}, {num} images, CPU, 1 thread)",
        raw={"seconds": {k: rounded(v) for k, v in times.items()}, "images": num, "batch": batch, "rounds": rounds},
        note=f"an epoch takes {100 * ratio:.0f}% of its uncached time once the images are in memory; "
             f"{100 * (1 - ratio):.0f}% of it was decoding and resizing the same images again",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line("decoded_cache", run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
