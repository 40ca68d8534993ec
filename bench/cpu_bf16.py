"""A training step of the teach preset's models with bf16 autocast on the CPU against float32, side by side.

``TrainConfig.amp = "auto"`` keeps the CPU in float32. On a CPU with native bf16 arithmetic (Intel AMX or
AVX512-BF16) oneDNN runs bf16 convolutions much faster; the teach preset uses it there (``amp="native"``), which is
what lets it train on twice the images within the lab's 30 minutes. The figure is the median over interleaved rounds of bf16 step time / float32 step time for DMM-CNN
and Baseline at the teach preset's input, batch and head sizes, one thread. No goal: a speed-up says nothing about
accuracy, which a switch of precision changes and which only trained runs can show.

    .venv/bin/python -m bench.cpu_bf16 [--batch 64] [--rounds 5]
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from bench.common import CPU_CLOCK, command_line, interleaved, median_ratio, record, rounded, single_thread
from bench.step_time_cpu import make_trainer
from dmmlib.device import native_bf16_flags
from dmmlib.suite import presets


def run(batch: int = 64, rounds: int = 5) -> dict[str, Any]:
    single_thread()
    teach = presets.PRESETS["teach"].train
    sizes = {k: teach[k] for k in ("backbone", "objective_hidden", "subjective_hidden", "landmark_hidden")}
    works = {}
    for variant in ("DMM-CNN", "Baseline"):
        for amp in (False, True):
            trainer, data = make_trainer(
                variant, batch, tuple(teach["input_size"]), device="cpu", amp=amp, **sizes
            )
            fixed = data.batch(batch)
            works[f"{variant} {'bf16' if amp else 'fp32'}"] = lambda t=trainer, b=fixed: t.step(b)
    times = interleaved(works, rounds, warmup=1, clock=CPU_CLOCK)
    ratios = {v: median_ratio(times[f"{v} bf16"], times[f"{v} fp32"]) for v in ("DMM-CNN", "Baseline")}
    flags = native_bf16_flags()
    return record(
        ratios["DMM-CNN"], None, "<=",
        meaning=f"training step bf16 autocast / float32, teach DMM-CNN ({teach['input_size'][0]}x"
                f"{teach['input_size'][1]}, batch {batch}, CPU, 1 thread)",
        raw={"seconds": {k: rounded(v) for k, v in times.items()}, "ratios": {k: round(v, 4) for k, v in ratios.items()},
             "native_bf16_flags": flags, "batch": batch, "rounds": rounds, "torch": torch.__version__},
        note=f"Baseline: {ratios['Baseline']:.3f}. CPU bf16 flags: {', '.join(flags) or 'none'}"
             " (without them bf16 is emulated and expected slower). Speed only: accuracy under bf16 needs trained runs.",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line("cpu_bf16", run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
