"""One SGD training step of DMM-CNN vs Baseline (ResNet-50, 218 x 178, CPU), measured side by side.

Both models are timed in the same process, in alternating rounds, so machine load affects both alike; the script
prints each median and their ratio. The ratio is the number to quote: absolute CPU times depend on the machine.

    .venv/bin/python bench/step_time_cpu.py [--batch 8] [--rounds 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from dmmlib.losses import attribute_losses, joint_loss, landmark_loss
from dmmlib.model import build_model


def make_step(variant: str, batch: int, size: tuple[int, int], num_landmarks: int):
    torch.manual_seed(0)
    model = build_model(variant, backbone="resnet50", num_landmarks=num_landmarks).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    images = torch.randint(0, 256, (batch, 3, *size), dtype=torch.uint8)
    targets = torch.randint(0, 2, (batch, 40)).float() * 2 - 1
    landmarks = torch.rand(batch, 2 * num_landmarks) * 2 - 1
    weights = torch.ones(40)

    def step() -> float:
        started = time.perf_counter()
        out = model(images)
        fld = landmark_loss(out.landmarks, landmarks) if out.landmarks is not None else None
        loss = joint_loss(attribute_losses(out.attributes, targets), weights, fld, 0.5)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - started

    params = sum(p.numel() for p in model.parameters())
    return step, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--landmarks", type=int, default=72, help="T; the paper's head has T = 72")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    steps, times = {}, {}
    for variant in ("DMM-CNN", "Baseline"):
        steps[variant], params = make_step(variant, args.batch, (218, 178), args.landmarks)
        times[variant] = []
        print(f"{variant:9s} {params:,} parameters ({params * 4 / 1e6:.0f} MB fp32)")
    for step in steps.values():
        step()  # warm-up: allocator, oneDNN kernel selection
    for _ in range(args.rounds):
        for variant, step in steps.items():
            times[variant].append(step())
    print(
        f"batch {args.batch}, 218x178, {torch.get_num_threads()} thread(s), {args.rounds} alternating rounds"
    )
    medians = {variant: statistics.median(t) for variant, t in times.items()}
    for variant, t in times.items():
        print(f"{variant:9s} median {medians[variant]:.3f} s/step  (all: {', '.join(f'{x:.3f}' for x in t)})")
    print(f"DMM-CNN / Baseline step time: {medians['DMM-CNN'] / medians['Baseline']:.3f} (ratio of medians)")
    ratios = [a / b for a, b in zip(times["DMM-CNN"], times["Baseline"])]
    print(f"per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
