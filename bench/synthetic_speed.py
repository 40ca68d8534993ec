"""Generation speed of the synthetic CelebA-format dataset, in images per second per core (CPU time).

Works, in alternating rounds in one process: ``generate()`` in full (draw, JPEG encode, files, annotation files)
into a fresh folder, drawing plus JPEG encoding in memory, and drawing alone. The figure is the median per-round
rate of ``generate()`` (goal: at least 300 images/s/core); the other two show where the time goes.

    .venv/bin/python -m bench.synthetic_speed [--num 400] [--rounds 5]
"""

from __future__ import annotations

import io
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CPU_CLOCK, command_line, interleaved, record, rounded
from dmmlib.data.synthetic import JPEG_QUALITY, generate
from dmmlib.data.synthetic_face import CELEBA_FRAMING, draw_face
from dmmlib.data.synthetic_labels import sample_labels

GOAL = 300.0


def run(num: int = 400, rounds: int = 5, scratch_parent: Path | None = None) -> dict[str, Any]:
    labels = sample_labels(num, seed=0).clean
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="dmm-bench-synthetic-", dir=scratch_parent))
    counter = iter(range(10**6))

    def full() -> None:  # each round writes a new folder; all are removed after the timings
        generate(scratch / f"d{next(counter)}", num, progress=False)

    def draw(encode: bool):
        def work() -> None:
            for i, row in enumerate(labels):
                image, _ = draw_face(row, np.random.default_rng([0, i]), CELEBA_FRAMING)
                if encode:
                    image.save(io.BytesIO(), "JPEG", quality=JPEG_QUALITY)

        return work

    try:
        times = interleaved({"generate": full, "draw_encode": draw(True), "draw": draw(False)}, rounds,
                            warmup=1, clock=CPU_CLOCK)  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rates = {k: [num / t for t in v] for k, v in times.items()}
    rate = statistics.median(rates["generate"])
    return record(
        rate, GOAL, ">=",
        meaning="synthetic generate() images/s/core (178x218 JPEG, files included)",
        raw={"images_per_second_per_core": {k: rounded(v, 1) for k, v in rates.items()},
             "median_rates": {k: round(statistics.median(v), 1) for k, v in rates.items()},
             "seconds": {k: rounded(v) for k, v in times.items()}, "images": num, "rounds": rounds,
             "clock": "process_time (one process)"},
        note="draw+encode {:.0f}/s, draw alone {:.0f}/s".format(
            statistics.median(rates["draw_encode"]), statistics.median(rates["draw"])),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line("synthetic_speed", run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
