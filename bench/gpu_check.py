"""GPU check (``make gpu-check``): the training path at the paper's settings on a CUDA device, in under five minutes.

Prints, for ResNet-50 at 218 x 178, batch 64, bf16 autocast and channels_last (the trainer's CUDA defaults):

- training images per second of Baseline and DMM-CNN (the trainer's own step; a warm-up, then timed steps in
  alternating rounds, each round synchronised) and their step-time ratio (goal: at most 1.10);
- the time of one Algorithm 1 update: one :func:`dmmlib.validation.validate` pass over ``--val-images`` in-memory
  synthetic images through the DataLoader (pinned memory), extrapolated to CelebA's V = 19,867, and its share of
  the P training steps between two updates (goal: at most 5%);
- peak GPU memory (``torch.cuda.max_memory_allocated``) of each model's training steps and of the validation pass.

Without a CUDA device it prints "no CUDA device: nothing to check" and exits with status 3, so that it is never
mistaken for a pass. ``--device cpu --tiny`` runs the same logic on a tiny model on the CPU (used by the tests).
Writes ``build/bench/gpu_check.json``.

    .venv/bin/python -m bench.gpu_check [--batch 64] [--steps 10] [--rounds 3] [--val-images 2560] [--compile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from bench.common import TensorFaces, median_ratio, rounded
from bench.step_time_cpu import PAPER_INPUT, make_trainer
from dmmlib.config import CELEBA_VALIDATION_SIZE, TrainConfig
from dmmlib.files import atomic
from dmmlib.suite import paths
from dmmlib.validation import validate

NO_CUDA_EXIT = 3
NO_CUDA_MESSAGE = "no CUDA device: nothing to check"
STEP_GOAL = 1.10
SHARE_GOAL = 0.05


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def timed_steps(trainer, batch: dict[str, torch.Tensor], steps: int) -> float:
    device = trainer.device
    synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        trainer.step(batch)
    synchronize(device)
    return time.perf_counter() - started


def check(
    device: str = "cuda", batch: int = 64, steps: int = 10, rounds: int = 3, warmup: int = 3,
    val_images: int = 2560, val_batch: int = 256, backbone: str = "resnet50",
    size: tuple[int, int] = PAPER_INPUT, compile_model: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Run the check on ``device``; returns the results (see the module docstring)."""
    dev = torch.device(device)
    trainers, batches, memory = {}, {}, {}
    for variant in ("Baseline", "DMM-CNN"):
        before = torch.cuda.memory_allocated(dev) if dev.type == "cuda" else 0
        reset_peak(dev)
        trainer, data = make_trainer(variant, batch, size, backbone, device=device, compile=compile_model,
                                     val_batch_size=val_batch)  # fmt: skip
        on_device = {k: v.to(dev) for k, v in data.batch(batch).items()}
        timed_steps(trainer, on_device, warmup)
        peak = peak_gib(dev)
        memory[variant] = None if peak is None else round(peak - before / 2**30, 3)
        trainers[variant], batches[variant] = trainer, on_device
    seconds: dict[str, list[float]] = {v: [] for v in trainers}
    for r in range(rounds):
        for variant in trainers if r % 2 == 0 else reversed(list(trainers)):
            seconds[variant].append(timed_steps(trainers[variant], batches[variant], steps))
    images_per_second = {v: statistics.median(batch * steps / t for t in ts) for v, ts in seconds.items()}
    step_ratio = median_ratio(seconds["DMM-CNN"], seconds["Baseline"])

    dmm = trainers["DMM-CNN"]
    val_set = TensorFaces(val_images, size, dmm.cfg.num_landmarks, seed=1)
    warm_set = TensorFaces(min(val_batch, val_images), size, dmm.cfg.num_landmarks, seed=2)
    tau = dmm.thresholds.tau
    validate(dmm.model, warm_set, dmm.cfg, tau, device=dev)  # warm-up: kernels, pinned buffers
    reset_peak(dev)
    synchronize(dev)
    started = time.perf_counter()
    validate(dmm.model, val_set, dmm.cfg, tau, device=dev)
    synchronize(dev)
    val_seconds = time.perf_counter() - started
    update_seconds = val_seconds * CELEBA_VALIDATION_SIZE / val_images
    interval = TrainConfig().update_interval
    step_seconds = statistics.median(seconds["DMM-CNN"]) / steps
    share = update_seconds / (interval * step_seconds)
    return {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "settings": {"backbone": backbone, "input": list(size), "batch": batch, "steps": steps, "rounds": rounds,
                     "warmup": warmup, "amp": "bf16 autocast" if dev.type == "cuda" else "off",
                     "channels_last": dmm.channels_last, "compile": compile_model, "val_images": val_images,
                     "val_batch": val_batch, "update_interval": interval},
        "images_per_second": {k: round(v, 1) for k, v in images_per_second.items()},
        "step_seconds": {k: rounded(v) for k, v in seconds.items()},
        "step_ratio": {"value": round(step_ratio, 4), "goal": f"<= {STEP_GOAL:g}", "met": step_ratio <= STEP_GOAL},
        "update": {"validate_seconds": round(val_seconds, 5), "images": val_images,
                   "seconds_at_V": round(update_seconds, 2), "V": CELEBA_VALIDATION_SIZE,
                   "share_of_training": round(share, 4), "goal": f"<= {SHARE_GOAL:g}", "met": share <= SHARE_GOAL},
        "peak_memory_gib": {**memory, "validate": None if peak_gib(dev) is None else round(peak_gib(dev), 3)},
    }  # fmt: skip


def report(result: dict[str, Any]) -> None:
    s = result["settings"]
    print(f"device: {result['device']}; {s['backbone']} {s['input'][0]}x{s['input'][1]}, batch {s['batch']}, "
          f"{s['amp']}, channels_last={s['channels_last']}, compile={s['compile']}")  # fmt: skip
    for variant, rate in result["images_per_second"].items():
        memory = result["peak_memory_gib"][variant]
        print(f"  {variant:9s} {rate:9.1f} images/s" + ("" if memory is None else f", peak {memory:.2f} GiB"))
    step = result["step_ratio"]
    print(f"  step time DMM-CNN / Baseline: {step['value']:.3f} (goal {step['goal']}): "
          f"{'met' if step['met'] else 'NOT MET'}")  # fmt: skip
    u = result["update"]
    print(f"  Algorithm 1 update: validate() over {u['images']:,} images in {u['validate_seconds']:.2f} s -> "
          f"{u['seconds_at_V']:.1f} s for V = {u['V']:,}; share of training {100 * u['share_of_training']:.2f}% "
          f"(goal {u['goal']}): {'met' if u['met'] else 'NOT MET'}")  # fmt: skip
    if result["peak_memory_gib"]["validate"] is not None:
        print(f"  validation pass peak memory: {result['peak_memory_gib']['validate']:.2f} GiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu (with --tiny)")
    parser.add_argument("--tiny", action="store_true", help="tiny model and sizes: checks the logic in seconds")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--val-images", type=int, default=2560, help="images of the measured validation pass")
    parser.add_argument("--compile", action="store_true", help="TrainConfig.compile (torch.compile)")
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default build/bench/gpu_check.json)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(NO_CUDA_MESSAGE, flush=True)
        return NO_CUDA_EXIT
    options: dict[str, Any] = {"device": args.device, "batch": args.batch, "steps": args.steps,
                               "rounds": args.rounds, "val_images": args.val_images, "compile_model": args.compile}
    if args.tiny:
        options.update(backbone="resnet-small", size=(64, 52), batch=min(args.batch, 4), steps=min(args.steps, 2),
                       rounds=min(args.rounds, 2), warmup=1, val_images=min(args.val_images, 8), val_batch=4)
    if args.device == "cpu":
        torch.set_num_threads(1)
    started = time.perf_counter()
    result = check(**options)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    report(result)
    out = args.out or paths.build_dir() / "bench" / "gpu_check.json"
    atomic.write_json(out, result)
    print(f"wrote {out} ({result['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
