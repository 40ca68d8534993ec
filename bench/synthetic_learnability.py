"""Is the synthetic dataset learnable, and are subjective attributes harder, as the paper argues?

Generates (or reuses) 5,000 synthetic CelebA-format images, trains a small standalone CNN for a few CPU minutes
at a reduced input size, and prints mean test accuracy per group next to the majority-class baseline (the
training split's most frequent label per attribute). Subjective accuracy is also scored against the clean labels
(recomputed from the seed), which shows how much of the gap is label noise and how much subtle cues.

Run: ``python -m bench.synthetic_learnability [--num 5000] [--minutes 3] [--out runs/bench/synthetic_5000]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dmmlib.attributes import ATTRIBUTES, OBJECTIVE, SUBJECTIVE
from dmmlib.data.celeba import CelebA
from dmmlib.data.synthetic import generate
from dmmlib.data.synthetic_labels import sample_labels
from dmmlib.data.transforms import eval_transform
from dmmlib.suite import paths

SIZE = (64, 52)


def load(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    dataset = CelebA(root, split, transform=eval_transform(SIZE))
    images = torch.stack([dataset[i]["image"] for i in range(len(dataset))])
    return images, dataset.attributes.float(), dataset.indices


def small_cnn() -> nn.Module:
    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.MaxPool2d(2))  # fmt: skip

    return nn.Sequential(block(3, 24), block(24, 48), block(48, 96), block(96, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, len(ATTRIBUTES)))  # fmt: skip


def to_input(batch: torch.Tensor) -> torch.Tensor:
    return batch.float().div(127.5).sub(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    root = args.out or paths.runs_dir() / "bench" / f"synthetic_{args.num}_seed{args.seed}"
    start = time.time()
    generate(root, args.num, args.seed, workers=args.workers, progress=False)
    print(f"dataset at {root} ({time.time() - start:.0f} s)")
    x_train, y_train, _ = load(root, "train")
    x_eval, y_eval, eval_index = (torch.cat(p) if i < 2 else np.concatenate(p)
                                  for i, p in enumerate(zip(load(root, "valid"), load(root, "test"))))  # fmt: skip
    clean = torch.from_numpy(sample_labels(args.num, args.seed).clean[eval_index]).float()
    model = small_cnn()
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    deadline, epoch = time.time() + 60 * args.minutes, 0
    while time.time() < deadline:
        model.train()
        order = torch.randperm(len(x_train))
        for k in range(0, len(order), 64):
            idx = order[k : k + 64]
            images = to_input(x_train[idx])
            flip = torch.rand(len(idx)) < 0.5
            images[flip] = images[flip].flip(-1)
            loss = loss_fn(model(images), (y_train[idx] > 0).float())
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epoch += 1
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(to_input(x_eval[k : k + 256])) for k in range(0, len(x_eval), 256)]).sign()
    accuracy = (predicted == y_eval).float().mean(0).numpy()
    accuracy_clean = (predicted == clean).float().mean(0).numpy()
    majority = torch.where((y_train > 0).float().mean(0) >= 0.5, 1.0, -1.0)
    baseline = (y_eval == majority).float().mean(0).numpy()
    print(f"trained {epoch} epochs on {len(x_train)} images at {SIZE[0]}x{SIZE[1]}; evaluated on {len(x_eval)}")
    print(f"{'group':12s} {'accuracy':>9s} {'majority':>9s} {'gain':>6s} {'vs clean labels':>16s}")
    for group, names in (("objective", OBJECTIVE), ("subjective", SUBJECTIVE)):
        j = [ATTRIBUTES.index(n) for n in names]
        acc, base, acc_clean = accuracy[j].mean(), baseline[j].mean(), accuracy_clean[j].mean()
        print(f"{group:12s} {100 * acc:8.2f}% {100 * base:8.2f}% {100 * (acc - base):+5.2f} {100 * acc_clean:15.2f}%")
    print("per attribute (accuracy / majority):")
    for j, name in enumerate(ATTRIBUTES):
        print(f"  {name:20s} {100 * accuracy[j]:6.2f} / {100 * baseline[j]:6.2f}")


if __name__ == "__main__":
    main()
