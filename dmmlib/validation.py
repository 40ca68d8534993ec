"""One pass over a validation set without autograd: the per-attribute losses (Eq. 2), the landmark loss (Eq. 1)
and the false positive / negative counts that Eqs. 4 and 6 need, all from the same forward passes.

Every sum is kept per validation batch on the device and reduced in one place (:func:`_reduce`): under DDP
(:mod:`dmmlib.distributed`) each rank computes its round-robin share of the very batches a single process would
use, the per-batch sums are all-reduced, and the rows are accumulated in batch order. So the result is
bit-identical on every rank and to a single-process pass. Nothing is read back to the host until the pass is over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from dmmlib import distributed
from dmmlib.attributes import NUM_ATTRIBUTES
from dmmlib.config import TrainConfig
from dmmlib.data.transforms import dataset_length, make_loader
from dmmlib.device import autocast, move_images, resolve_device, use_channels_last
from dmmlib.landmarks.schema import LandmarkSource
from dmmlib.losses import landmark_squared_distances, squared_errors
from dmmlib.metrics import false_positive_negative_counts


@dataclass
class ValidationResult:
    attr_losses: torch.Tensor  #: (J,) Eq. 2 on the whole set
    landmark_loss: float | None  #: Eq. 1 on the whole set; None without a landmark branch
    mean_loss: float  #: mean of attr_losses: "the validation loss" that drives the lr schedule
    false_positives: torch.Tensor  #: (J,) int64 at the thresholds passed in
    false_negatives: torch.Tensor  #: (J,) int64
    num_samples: int  #: V of Eq. 6
    accuracy: torch.Tensor  #: (J,) at the thresholds passed in
    #: (J,) at tau = 0 (Eq. 5 with the FIX variants' thresholds), from the same outputs: what a FIX twin of an
    #: adaptive-threshold run measures at this update (:mod:`dmmlib.suite.twins`); ``accuracy`` when tau is all 0
    accuracy_at_zero: torch.Tensor
    outputs: torch.Tensor | None = None  #: (V, J) raw outputs when asked for

    @property
    def mean_accuracy(self) -> float:
        return float(self.accuracy.mean())


def landmark_mask(batch: dict[str, torch.Tensor], device: torch.device, enabled: bool) -> torch.Tensor | None:
    """True for images whose landmarks are measurements (used only when ``enabled``)."""
    if not enabled:
        return None
    return (batch["landmark_source"] != int(LandmarkSource.MEAN_SHAPE)).to(device)


def _reduce(sums: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Totals from per-batch sums (one row per single-process batch): all-reduced over ranks under DDP, then
    accumulated in batch order (:func:`dmmlib.distributed.reduce_batch_sums`)."""
    return {name: distributed.reduce_batch_sums(value) for name, value in sums.items()}


def validation_loader(dataset: Dataset, cfg: TrainConfig, device: torch.device) -> DataLoader:
    """The loader of one validation pass: this rank's share of ``cfg.val_batch_size`` batches in file order.

    Built once by the trainer and passed to every :func:`validate` call, its workers (``cfg.num_workers > 0``
    with ``cfg.persistent_workers``) stay alive between the passes of Algorithm 1.
    """
    where = distributed.info()
    mine = distributed.validation_batches(dataset_length(dataset), cfg.val_batch_size, where.rank, where.world_size)
    return DataLoader(dataset, batch_sampler=mine, num_workers=cfg.num_workers, pin_memory=device.type == "cuda",
                      persistent_workers=cfg.keeps_workers)  # fmt: skip


@torch.no_grad()
def validate(
    model: torch.nn.Module,
    dataset: Dataset,
    cfg: TrainConfig,
    tau: torch.Tensor,
    *,
    device: torch.device | None = None,
    return_outputs: bool = False,
    loader: DataLoader | None = None,
) -> ValidationResult:
    """One pass over ``dataset`` in eval mode with ``cfg.val_batch_size``; the model's mode is restored after.

    Under DDP each rank computes its share of the batches and all ranks get the same totals (module docstring);
    ``return_outputs`` is then refused, as each rank holds only its own batches' outputs. ``loader``, from
    :func:`validation_loader` for the same dataset and config, is reused instead of building one per pass.
    """
    device = device or next(model.parameters()).device
    channels_last = use_channels_last(device, cfg.channels_last)
    tau_dev = torch.as_tensor(tau, dtype=torch.float32, device=device)
    where = distributed.info()
    if return_outputs and where.enabled:
        raise ValueError("validate(return_outputs=True) needs a single process; under DDP use predict_dataset "
                         "on rank 0")  # fmt: skip
    num_batches = -(-dataset_length(dataset) // cfg.val_batch_size)
    if loader is None:
        loader = validation_loader(dataset, cfg, device)
    mine = loader.batch_sampler
    if mine is None:
        raise ValueError("validate: the loader must batch by a batch sampler, as validation_loader's does")

    def rows(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        return torch.zeros((num_batches, *shape), dtype=dtype, device=device)

    sums = {
        "squared": rows((NUM_ATTRIBUTES,), torch.float64),
        "fp": rows((NUM_ATTRIBUTES,), torch.int64),
        "fn": rows((NUM_ATTRIBUTES,), torch.int64),
        "count": rows((), torch.int64),
        "landmark_squared": rows((), torch.float64),
        "landmark_count": rows((), torch.float64),
    }
    at_zero = bool(tau_dev.any())  # a second count at tau = 0, needed only where tau has moved
    zero = torch.zeros_like(tau_dev)
    if at_zero:
        for name in ("fp_at_zero", "fn_at_zero"):
            sums[name] = rows((NUM_ATTRIBUTES,), torch.int64)
    outputs = []
    was_training = model.training
    model.eval()
    try:
        for indices, batch in zip(mine, loader):
            b = indices[0] // cfg.val_batch_size
            images = move_images(batch["image"], device, channels_last)
            targets = batch["attributes"].to(device, non_blocking=True).float()
            with autocast(device, cfg.amp):
                out = model(images)
            pred = out.attributes.float()
            sums["squared"][b] = squared_errors(pred, targets).sum(dim=0, dtype=torch.float64)
            sums["fp"][b], sums["fn"][b] = false_positive_negative_counts(pred, targets, tau_dev)
            if at_zero:
                sums["fp_at_zero"][b], sums["fn_at_zero"][b] = false_positive_negative_counts(pred, targets, zero)
            sums["count"][b] = len(pred)
            if out.landmarks is not None:
                per_image = landmark_squared_distances(out.landmarks, batch["landmarks"].to(device).float())
                mask = landmark_mask(batch, device, cfg.mask_placeholder_landmarks)
                weight = torch.ones_like(per_image) if mask is None else mask.to(per_image.dtype)
                sums["landmark_squared"][b] = (per_image * weight).sum(dtype=torch.float64)
                sums["landmark_count"][b] = weight.sum(dtype=torch.float64)
            if return_outputs:
                outputs.append(pred.cpu())
        spec = getattr(model, "spec", None)
        has_landmarks = spec is None or spec.landmark_task
    finally:
        model.train(was_training)
    totals = _reduce(sums)
    n = int(totals["count"])
    if n == 0:
        raise ValueError("validate: the dataset is empty")
    attr_losses = (totals["squared"] / n).float()
    landmark = None
    if has_landmarks and float(totals["landmark_count"]) > 0:
        landmark = float(totals["landmark_squared"] / totals["landmark_count"])
    accuracy = (1.0 - (totals["fp"] + totals["fn"]).double() / n).float()
    accuracy_at_zero = accuracy
    if at_zero:
        accuracy_at_zero = (1.0 - (totals["fp_at_zero"] + totals["fn_at_zero"]).double() / n).float()
    return ValidationResult(
        attr_losses=attr_losses, landmark_loss=landmark, mean_loss=float(attr_losses.mean()),
        false_positives=totals["fp"], false_negatives=totals["fn"], num_samples=n,
        accuracy=accuracy, accuracy_at_zero=accuracy_at_zero,
        outputs=torch.cat(outputs) if return_outputs else None,
    )  # fmt: skip


@torch.no_grad()
def predict_dataset(
    model: torch.nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    amp: str | bool = "auto",
    num_workers: int = 0,
) -> np.ndarray:
    """Raw attribute outputs ``(N, 40)`` (float32, CelebA order) for every image of ``dataset``, in order."""
    device = resolve_device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for batch in make_loader(dataset, batch_size, num_workers=num_workers, pin_memory=device.type == "cuda"):
            with autocast(device, amp):
                out = model(move_images(batch["image"], device, use_channels_last(device)))
            outputs.append(out.attributes.float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs).numpy()
