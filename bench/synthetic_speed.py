"""Generation speed of the synthetic CelebA-format dataset, in images per second per core (CPU time).

Run: ``python bench/synthetic_speed.py [--num 1000]``. Prints drawing-only and full-pipeline (draw + JPEG + files)
rates side by side, measured in one run. CPU time, not wall time, because the machine may be shared.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from dmmlib.data.synthetic import generate
from dmmlib.data.synthetic_face import CELEBA_FRAMING, LFW_FRAMING, draw_face
from dmmlib.data.synthetic_labels import sample_labels


def per_core_rate(count: int, work) -> float:
    start = time.process_time()
    work()
    return count / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=1000)
    args = parser.parse_args()
    labels = sample_labels(args.num, seed=0).clean

    def draw(framing):
        def work():
            for i, row in enumerate(labels):
                image, _ = draw_face(row, np.random.default_rng([0, i]), framing)
                image.save(io.BytesIO(), "JPEG", quality=90)

        return work

    with tempfile.TemporaryDirectory() as tmp:
        full = per_core_rate(args.num, lambda: generate(Path(tmp) / "d", args.num, progress=False))
    rows = [
        ("CelebA 178x218: draw + JPEG encode", per_core_rate(args.num, draw(CELEBA_FRAMING))),
        ("CelebA 178x218: generate() incl. files", full),
        ("LFW 250x250: draw + JPEG encode", per_core_rate(args.num, draw(LFW_FRAMING))),
    ]
    for name, rate in rows:
        print(f"{name:42s} {rate:7.0f} images/s/core")
    print(f"target: 300 images/s/core; generate() / target = {full / 300:.2f}")


if __name__ == "__main__":
    main()
