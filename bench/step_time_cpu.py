"""One training step of DMM-CNN vs Baseline (ResNet-50 with 40 outputs), same 218 x 178 input, batch and device.

The step is the trainer's own (:meth:`dmmlib.train._Trainer.step`: joint loss of Eq. 3, backward, SGD with
momentum and weight decay), timed on both models in the same process in alternating rounds; the figure is the
median of the per-round ratios DMM-CNN / Baseline (goal: at most 1.10). On CPU a small batch keeps it short;
the GPU figure at batch 64 comes from ``bench/gpu_check.py``.

    .venv/bin/python -m bench.step_time_cpu [--batch 8] [--rounds 4]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from bench.common import (
    CPU_CLOCK,
    TensorFaces,
    command_line,
    interleaved,
    median_ratio,
    op_differences,
    record,
    rounded,
    single_thread,
    torch_op_seconds,
)
from dmmlib.config import TrainConfig
from dmmlib.train import _Trainer

PAPER_INPUT = (218, 178)
GOAL = 1.10


def make_trainer(
    variant: str, batch: int, size: tuple[int, int] = PAPER_INPUT, backbone: str = "resnet50",
    device: str = "cpu", run_dir: Path | None = None, **overrides: Any,
) -> tuple[_Trainer, TensorFaces]:  # fmt: skip
    """The trainer of a run (model, optimiser, weights) on ``batch`` in-memory samples; nothing is written."""
    cfg = TrainConfig(variant=variant, backbone=backbone, batch_size=batch, input_size=size, device=device,
                      **overrides)  # fmt: skip
    data = TensorFaces(max(batch, 1), size, cfg.num_landmarks)
    trainer = _Trainer(cfg, data, data, run_dir or Path(tempfile.gettempdir()))
    trainer.weights = trainer.weighting.weights.to(trainer.device)
    trainer.model.train()
    return trainer, data


def step_function(trainer: _Trainer, data: TensorFaces, optimizer_seconds: list[float] | None = None):
    """``trainer.step`` on a fixed batch; with ``optimizer_seconds`` the CPU time of each ``optimizer.step``
    is appended to it (the rest of the step is forward, loss and backward)."""
    batch = data.batch(trainer.cfg.batch_size)
    if optimizer_seconds is not None:
        original = trainer.optimizer.step

        def timed_step(*args: Any, **kwargs: Any) -> Any:
            started = CPU_CLOCK()
            out = original(*args, **kwargs)
            optimizer_seconds.append(CPU_CLOCK() - started)
            return out

        trainer.optimizer.step = timed_step

    def step() -> None:
        trainer.step(batch)

    return step


def extrapolate(small_s: float, large_s: float, small: int, large: int, target: int) -> float:
    """Step time at batch ``target`` on the line through (small, small_s) and (large, large_s): a per-step cost
    (the SGD pass over every parameter, gradient allocation, the FC weights read per batch) plus a per-image one."""
    return large_s + (large_s - small_s) / (large - small) * (target - large)


def run(batch: int = 8, rounds: int = 4, backbone: str = "resnet50", size: tuple[int, int] = PAPER_INPUT,
        small_batch: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Steps of both models at ``batch`` (the goal figure) and at ``small_batch`` (default batch / 2), which
    separates per-step from per-image costs for the extrapolation to the paper's batch 64."""
    single_thread()
    small = small_batch or max(1, batch // 2)
    works, params, optimizer = {}, {}, {}
    for variant in ("DMM-CNN", "Baseline"):
        trainer, data = make_trainer(variant, batch, size, backbone)
        optimizer[variant] = []
        large_step = step_function(trainer, data, optimizer[variant])
        small_batch_data = data.batch(small)
        works[f"{variant}@{batch}"] = large_step
        works[f"{variant}@{small}"] = lambda t=trainer, b=small_batch_data: t.step(b)
        params[variant] = sum(p.numel() for p in trainer.model.parameters())
    times = interleaved(works, rounds, warmup=1, clock=CPU_CLOCK)
    optimizer = {k: v[-rounds:] for k, v in optimizer.items()}  # drop the warm-up's (copies: profiling adds on)
    # the evidence for where DMM-CNN's extra time goes: one profiled step of each, operator by operator
    ops = {v: torch_op_seconds(works[f"{v}@{batch}"]) for v in params}
    extra = op_differences(ops["DMM-CNN"], ops["Baseline"])
    profiled = {v: round(sum(ops[v].values()), 4) for v in params}
    big = {v: times[f"{v}@{batch}"] for v in params}
    ratio = median_ratio(big["DMM-CNN"], big["Baseline"])
    small_ratio = median_ratio(times[f"DMM-CNN@{small}"], times[f"Baseline@{small}"])
    forward_backward = {k: [s - o for s, o in zip(big[k], optimizer[k])] for k in big}
    fb_ratio = median_ratio(forward_backward["DMM-CNN"], forward_backward["Baseline"])
    at64 = {v: [extrapolate(a, b, small, batch, 64) for a, b in zip(times[f"{v}@{small}"], big[v])] for v in big}
    ratio64 = median_ratio(at64["DMM-CNN"], at64["Baseline"])
    share = statistics.median(o / s for o, s in zip(optimizer["DMM-CNN"], big["DMM-CNN"]))
    return record(
        ratio, GOAL, "<=",
        meaning=f"training step DMM-CNN / Baseline ({backbone}, {size[0]}x{size[1]}, batch {batch}, CPU)",
        raw={"seconds": {k: rounded(v) for k, v in times.items()},
             "optimizer_step_seconds": {k: rounded(v) for k, v in optimizer.items()},
             f"ratio_batch{small}": round(small_ratio, 4), "forward_backward_ratio": round(fb_ratio, 4),
             "extrapolated_batch64_ratio": round(ratio64, 4), "dmm_optimizer_share_of_step": round(share, 4),
             "parameters": params, "batch": batch, "small_batch": small, "rounds": rounds, "backbone": backbone,
             "input": list(size), "clock": "process_time, 1 thread",
             "profile": {"profiled_step_self_cpu_s": profiled, "ops_with_most_extra_time": extra}},
        note=f"batch {small}: {small_ratio:.3f}; without the SGD step (forward+loss+backward) at batch {batch}: "
             f"{fb_ratio:.3f}; SGD step = {100 * share:.0f}% of DMM-CNN's step ({params['DMM-CNN'] / 1e6:.1f}M vs "
             f"{params['Baseline'] / 1e6:.1f}M parameters). Per-step + per-image fit through batches {small} and "
             f"{batch}, extrapolated to batch 64: {ratio64:.3f}. Profiled: "
             + "; ".join(f"{row['op']} +{row['extra_s']:.3f} s" for row in extra[:4])
             + ". Batch 64 measured on a GPU: make gpu-check",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line("step_time", run, __doc__, argv)


if __name__ == "__main__":
    torch.manual_seed(0)
    sys.exit(main())
