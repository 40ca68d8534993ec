"""A linear probe on the input pixels: is an attribute's cue in the images a model sees, at the size it sees them?

:func:`dmmlib.lab.bounds.fit_diagnosis` calls an attribute "not learnt" when a run answers the majority class even
on its own training images, and leaves two causes open: the cue is too faint at the input size, or the model did
not pick it up. The probe separates them in one direction. A logistic regression on the input pixels (average-pooled
``pool`` x ``pool``, itself a linear map of the input, so whatever it finds a linear function of the input finds)
that beats the majority class on *test* images shows that the cue is in the input at this size, and linearly so.
A convolutional network that stays at the majority class on such an attribute has not learnt what a linear model
can: more capacity or training is what it lacks, not resolution. A probe at the majority class proves nothing
(the cue may need a non-linear detector, or more images than a linear model on thousands of pixels has).

The probe works on any dataset (real CelebA too): it needs the images and their written labels only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.transforms import dataset_length

#: Settings of the probe (ours; none is tuned per dataset): pixels pooled 2 x 2, full-batch Adam on the logistic
#: loss with an L2 penalty on the weights, zero start, so the fit is deterministic.
POOL, STEPS, LEARNING_RATE, L2 = 2, 300, 1e-3, 1e-3
#: The probe "finds" a cue when its test accuracy exceeds the majority rate by more than this many standard errors
#: of an accuracy at that rate on the test split (binomial).
STANDARD_ERRORS = 2.0


def input_pixels(
    dataset: Dataset, pool: int = POOL, progress: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of a dataset as the model sees them, pooled: ``(n, 3 * H/pool * W/pool)`` floats in [0, 1], and
    its labels ``(n, 40)`` +1/-1. ``dataset[i]`` is a dict with a uint8 ``"image"`` (3, H, W) and ``"attributes"``
    (as :class:`dmmlib.data.celeba.CelebA` with its evaluation transform)."""
    if pool < 1:
        raise ValueError(f"pool must be a positive integer, got {pool}")
    images, labels = [], []
    for i in tqdm(range(dataset_length(dataset)), desc="probe pixels", disable=not progress):
        item = dataset[i]
        image = item["image"].to(torch.float32).unsqueeze(0) / 255.0
        images.append(F.avg_pool2d(image, pool).flatten())
        labels.append(torch.as_tensor(item["attributes"]))
    return torch.stack(images), torch.stack(labels).to(torch.float32)


def fit(train_x: torch.Tensor, train_y: torch.Tensor, steps: int = STEPS, lr: float = LEARNING_RATE,
        l2: float = L2) -> torch.nn.Module:  # fmt: skip
    """Logistic regression of every attribute on standardised pixels: a module mapping pixels to logits (+ = yes).

    ``train_y`` holds +1/-1 labels. The pixel mean and spread of the training images are part of the module."""
    mean, spread = train_x.mean(0), train_x.std(0) + 1e-3
    linear = torch.nn.Linear(train_x.shape[1], train_y.shape[1])
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    x, y = (train_x - mean) / spread, (train_y > 0).to(torch.float32)
    optimiser = torch.optim.Adam(linear.parameters(), lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(linear(x), y) + l2 * linear.weight.square().sum()
        loss.backward()
        optimiser.step()

    class Probe(torch.nn.Module):
        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return linear((pixels - mean) / spread)

    return Probe().eval()


def accuracy_table(train: Dataset, test: Dataset, pool: int = POOL, steps: int = STEPS,
                   names: Sequence[str] = ATTRIBUTES, progress: bool = False) -> pd.DataFrame:  # fmt: skip
    """Per attribute: the probe's accuracy on the training and the test images, the test split's majority rate,
    and whether the probe finds the cue (test accuracy above the majority rate by more than
    :data:`STANDARD_ERRORS` binomial standard errors)."""
    train_x, train_y = input_pixels(train, pool, progress)
    test_x, test_y = input_pixels(test, pool, progress)
    probe = fit(train_x, train_y, steps)
    with torch.no_grad():
        train_hit = ((probe(train_x) > 0) == (train_y > 0)).to(torch.float64).mean(0).numpy()
        test_hit = ((probe(test_x) > 0) == (test_y > 0)).to(torch.float64).mean(0).numpy()
    positive = (test_y > 0).to(torch.float64).mean(0).numpy()
    majority = np.maximum(positive, 1.0 - positive)
    margin = STANDARD_ERRORS * np.sqrt(majority * (1.0 - majority) / max(len(test_x), 1))
    return pd.DataFrame({"probe train accuracy": train_hit, "probe test accuracy": test_hit,
                         "test majority": majority, "probe finds cue": test_hit > majority + margin},
                        index=pd.Index(list(names), name="attribute"))  # fmt: skip


def probe_sentence(
    diagnosis: pd.DataFrame, probe: pd.DataFrame, input_size: tuple[int, int], pool: int = POOL
) -> str:
    """Which attributes a run did not learn (``diagnosis`` of :func:`dmmlib.lab.bounds.fit_diagnosis`) have a cue
    the linear probe finds in the input pixels, in words."""
    not_learnt = diagnosis.index[diagnosis["diagnosis"] == "not learnt"]
    if not len(not_learnt):
        return "The run learnt every attribute above its majority rate on its training images."
    found = [a for a in not_learnt if bool(probe.loc[a, "probe finds cue"])]
    size = f"{input_size[0]} x {input_size[1]} input pooled {pool} x {pool}"
    head = (f"Of the {len(not_learnt)} attributes this run did not learn, a linear model on the pixels "
            f"({size}) beats the majority class on the test images for {len(found)}")  # fmt: skip
    if not found:
        return head + ": for these the probe cannot tell a faint cue from one a linear model cannot read."
    listed = ", ".join(f"{a} ({100 * probe.loc[a, 'probe test accuracy']:.1f}% vs "
                       f"{100 * probe.loc[a, 'test majority']:.1f}%)" for a in found)  # fmt: skip
    return (
        head + f": {listed}. Their cues are in the input at this size; the network did not learn them "
        "(capacity or training length, not resolution)."
    )
