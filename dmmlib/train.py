"""Algorithm 1 of the paper: SGD on the joint loss (Eq. 3) with, every P iterations, one pass over the whole
validation set that updates the thresholds (Eq. 6) and then the attribute weights (Eq. 4).

::

    loop = 0, t = 1
    while loop < M:                       # the paper writes loop <= M, i.e. M + 1 steps; we run exactly M
        if loop % P == 0:
            validation losses (Eq. 2), FP and FN counts   <- one pass, :func:`dmmlib.validation.validate`
            update tau (Eq. 6) with l = current epoch; update lambda (Eq. 4); lr plateau step; t += 1
        joint loss (Eq. 3); SGD step; loop += 1

Around it: a learning-rate plateau schedule (lr x ``lr_factor`` when the mean validation loss stops decreasing,
stepped at each update), DWA's once-per-epoch update from epoch-mean training losses, AW's per-iteration update from a
few validation images (``TrainConfig.aw_schedule="iteration"``, He et al. 2017), atomic checkpoints with every state
needed to resume exactly, a NaN/inf guard, a warning when the attribute terms of Eq. 3 collapse
(:class:`AttributeShareWarning`), and a ``history.json`` with one entry per update.

Data order: epoch e visits ``randperm(N)`` drawn from a generator seeded with ``(seed, e)``, so the order is a
function of the iteration number alone and a resumed run sees the very batches an uninterrupted run would.
(Random augmentation inside DataLoader workers is outside this guarantee.)

Crash safety: every ``checkpoint_interval`` iterations (and at the end) the whole state is written atomically
(:mod:`dmmlib.checkpoint`), so after a crash or ``kill -9`` at any point, the same call resumes from the last
checkpoint and ends with exactly the weights, lambda, tau and history of an uninterrupted run (CPU, no random
augmentation in workers). A NaN or inf training loss stops the run with :class:`NonFiniteLossError` naming the
iteration; no checkpoint is written from then on, so the last good one stays.

Under ``torchrun`` (:mod:`dmmlib.distributed`) the model is wrapped in DDP, each rank trains on its piece of the
global batch, validation is sharded with identical results on every rank, and only rank 0 writes files.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from dmmlib import distributed
from dmmlib.attributes import NUM_ATTRIBUTES
from dmmlib.checkpoint import CHECKPOINT_NAME, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from dmmlib.config import TrainConfig
from dmmlib.data import source as data_source
from dmmlib.data.transforms import dataset_length
from dmmlib.device import autocast, move_images, resolve_device, seed_everything, use_channels_last
from dmmlib.files import atomic
from dmmlib.losses import attribute_losses, joint_loss, landmark_loss
from dmmlib.model import DMMNet, build_model_from_config, load_pretrained
from dmmlib.thresholds import FixedThresholds, make_thresholds
from dmmlib.validation import ValidationResult, landmark_mask, predict_dataset, validate, validation_loader
from dmmlib.variants import get_variant
from dmmlib.weighting import UniformWeighting, make_weighting

__all__ = ["AttributeShareWarning", "TrainResult", "ValidationResult", "load_run", "predict_dataset", "train",
           "validate"]

HISTORY_NAME = "history.json"
CONFIG_NAME = "config.json"
#: the key of ``config.json`` that records the training data (:func:`dmmlib.data.source.record`; None when the
#: dataset cannot say); the other keys are the TrainConfig's
DATASET_KEY = "dataset"
#: Fields that may differ between a checkpoint's config and the config that resumes it.
RESUMABLE_CHANGES = frozenset(
    {"epochs", "device", "amp", "channels_last", "compile", "num_workers", "persistent_workers", "fused_optimizer",
     "checkpoint_interval", "log_interval", "val_batch_size", "pretrained", "collapse_warning_share",
     "image_cache_mb"}
)  # fmt: skip


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or inf, first at ``iteration``."""

    def __init__(self, message: str, iteration: int = -1) -> None:
        super().__init__(message)
        self.iteration = iteration


class AttributeShareWarning(UserWarning):
    """The attribute terms of Eq. 3 fell below ``TrainConfig.collapse_warning_share`` of the joint loss."""


def attribute_share(
    weights: torch.Tensor, attr_losses: torch.Tensor, landmark_loss: float | None, beta: float
) -> float | None:
    """The attribute terms' share of Eq. 3: ``sum_j lambda_j L_j / (sum_j lambda_j L_j + beta L_FLD)``.

    None without a landmark term (the attribute terms are then the whole loss). At the validation losses of an
    update it shows a collapse of Eq. 4: as its weights fall towards zero, the share falls towards zero while
    ``beta L_FLD`` keeps its size, and the landmark task alone drives the shared trunk.
    """
    if landmark_loss is None:
        return None
    attributes = float((weights.double().cpu() * attr_losses.double().cpu()).sum())
    total = attributes + beta * float(landmark_loss)
    return attributes / total if total > 0 else None


def aw_sample_indices(size: int, sample_size: int, seed: int, iteration: int) -> list[int]:
    """The validation images AW's per-iteration update at ``iteration`` uses (``aw_schedule="iteration"``):
    ``min(sample_size, size)`` distinct indices of ``range(size)``, drawn from a generator seeded with ``(seed,
    iteration)`` alone, so a resumed run, and every rank under DDP, draws the very samples an uninterrupted run
    would."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, iteration, 0xA3]))  # 0xA3: AW's own stream
    return sorted(int(i) for i in rng.choice(size, size=min(sample_size, size), replace=False))


class _AWSamples(Sampler[list[int]]):
    """One AW validation sample per iteration ``start .. stop - 1`` (:func:`aw_sample_indices`)."""

    def __init__(self, size: int, sample_size: int, seed: int, start: int, stop: int) -> None:
        self.size, self.sample_size, self.seed, self.start, self.stop = size, sample_size, seed, start, stop

    def __iter__(self) -> Iterator[list[int]]:
        for iteration in range(self.start, self.stop):
            yield aw_sample_indices(self.size, self.sample_size, self.seed, iteration)

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


@dataclass
class TrainResult:
    model: DMMNet
    history: list[dict[str, Any]]
    weighting: UniformWeighting
    thresholds: FixedThresholds
    run_dir: Path
    iterations: int = 0
    validation_passes: int = 0


class EpochSampler(Sampler[int]):
    """The indices of epoch ``epoch`` (a seeded permutation), starting at position ``start``."""

    def __init__(self, size: int, seed: int, epoch: int, start: int = 0) -> None:
        self.size, self.seed, self.epoch, self.start = size, seed, epoch, start

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)

    def order(self) -> list[int]:
        """The whole epoch's visiting order (``start`` ignored)."""
        return torch.randperm(self.size, generator=self.generator()).tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.start :])

    def __len__(self) -> int:
        return self.size - self.start


class _BatchList(Sampler[list[int]]):
    """A batch sampler whose batches are replaced each epoch, so that one DataLoader, and with it its persistent
    worker processes, serves every epoch of a run."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


@dataclass
class _State:
    """Everything of a run that changes as it trains (besides module, optimiser and scheduler states)."""

    iteration: int = 0
    t: int = 1
    validation_passes: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    #: per-attribute training-loss sum and batch count of the current epoch (for DWA)
    epoch_losses: torch.Tensor = field(
        default_factory=lambda: torch.zeros(NUM_ATTRIBUTES, dtype=torch.float64)
    )
    epoch_batches: int = 0
    #: joint training-loss sum and count since the last update (for the history)
    train_loss: torch.Tensor = field(default_factory=lambda: torch.zeros((), dtype=torch.float64))
    train_batches: int = 0
    #: iteration of the first non-finite training loss, -1 while none
    first_bad: torch.Tensor = field(default_factory=lambda: torch.tensor(-1, dtype=torch.int64))

    def to(self, device: torch.device) -> _State:
        self.epoch_losses = self.epoch_losses.to(device)
        self.train_loss = self.train_loss.to(device)
        self.first_bad = self.first_bad.to(device)
        return self

    def state_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration, "t": self.t, "validation_passes": self.validation_passes,
            "history": self.history, "epoch_losses": self.epoch_losses.cpu(), "epoch_batches": self.epoch_batches,
            "train_loss": self.train_loss.cpu(), "train_batches": self.train_batches,
            "first_bad": self.first_bad.cpu(),
        }  # fmt: skip

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> _State:
        return cls(**state)


def iterations_per_epoch(num_samples: int, batch_size: int) -> int:
    """Batches per epoch, the last one partial (CelebA: 162,770 / 64 -> 2,544)."""
    return math.ceil(num_samples / batch_size)


def _write_json(path: Path, data: Any) -> None:
    """Only the main process writes (DDP); atomically, so a kill never leaves half a file."""
    if distributed.is_main():
        atomic.write_json(path, data)


def _check_config_change(saved: dict[str, Any], cfg: TrainConfig) -> None:
    current = cfg.to_dict()
    saved = {**TrainConfig().to_dict(), **saved}  # a field the checkpoint predates ran at its default
    changed = sorted(k for k in current if k not in RESUMABLE_CHANGES and saved.get(k) != current[k])
    if changed:
        raise ValueError(
            f"cannot resume: the config differs from the checkpoint's in {changed}; "
            "pass resume=False or use a new run_dir"
        )


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    """SGD with momentum and weight decay (Algorithm 1), fused where the device has the kernel and
    ``cfg.fused_optimizer`` asks for it."""
    sgd = functools.partial(torch.optim.SGD, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.fused_optimizer:
        try:
            return sgd(model.parameters(), fused=True)
        except RuntimeError:  # no fused kernel for this device or dtype
            pass
    return sgd(model.parameters())


class _Trainer:
    """The state and steps of one run; :func:`train` is its public face."""

    def __init__(self, cfg: TrainConfig, train_set: Dataset, eval_set: Dataset, run_dir: Path) -> None:
        self.cfg, self.train_set, self.eval_set, self.run_dir = cfg, train_set, eval_set, run_dir
        self.spec = get_variant(cfg.variant)
        self.dist = distributed.info()
        self.device = resolve_device(cfg.device)
        if self.dist.enabled and self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", self.dist.local_rank)
        self.channels_last = use_channels_last(self.device, cfg.channels_last)
        seed_everything(cfg.seed)
        # the initial weights (cfg.pretrained) load in train(), and only for a fresh run: a resumed run or a
        # fine-tuning overwrites them, and must not need the ImageNet file (or a network) to start
        self.model = build_model_from_config(cfg.replace(pretrained=False)).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        # the model as a training step calls it: wrapped by DDP and/or compiled (torch.compile returns a callable)
        self.step_model: Callable[..., Any] = self.model
        if self.dist.enabled:
            self.step_model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        if cfg.compile:
            self.step_model = torch.compile(self.step_model)
        self.weighting = make_weighting(cfg.weighting or self.spec.weighting, NUM_ATTRIBUTES, cfg)
        self.thresholds = make_thresholds(self.spec.thresholds, NUM_ATTRIBUTES, cfg.gamma, cfg.initial_tau)
        self.optimizer = make_optimizer(self.model, cfg)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience
        )
        self.state = _State().to(self.device)
        self.per_epoch = iterations_per_epoch(dataset_length(train_set), cfg.batch_size)
        #: the iteration that starts the low-lr tail (cfg.final_lr_fraction of the whole budget), None without one
        self.lr_cut_iteration = (round((1.0 - cfg.final_lr_fraction) * cfg.epochs * self.per_epoch)
                                 if cfg.final_lr_fraction else None)  # fmt: skip
        self.val_loader: DataLoader | None = None
        # The trunk's output of the step after each update, kept to measure what each part of Eq. 3 asks of it.
        self.trunk_output: torch.Tensor | None = None
        self.measure_next_step = False
        self.measures_gradients = not (self.dist.enabled or cfg.compile)
        if self.measures_gradients:
            self.model.trunk.register_forward_hook(self._keep_trunk_output)

    def _keep_trunk_output(self, module: torch.nn.Module, inputs: Any, output: torch.Tensor) -> None:
        if self.measure_next_step:
            self.trunk_output = output

    # --- persistence -----------------------------------------------------------------------------------------
    def checkpoint(self) -> None:
        self.check_finite()
        if not self.dist.is_main:
            return
        save_checkpoint(self.run_dir / CHECKPOINT_NAME, {
            "format": 1,
            "config": self.cfg.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "weighting": self.weighting.state_dict(),
            "thresholds": self.thresholds.state_dict(),
            "rng": rng_state(),
            "data_order": {"seed": self.cfg.seed, "epoch": self.state.iteration // self.per_epoch,
                           "position": (self.state.iteration % self.per_epoch) * self.cfg.batch_size},
            "state": self.state.state_dict(),
        })  # fmt: skip

    def restore(self, ckpt: dict[str, Any]) -> None:
        _check_config_change(ckpt["config"], self.cfg)
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.weighting.load_state_dict(ckpt["weighting"])
        self.thresholds.load_state_dict(ckpt["thresholds"])
        self.state = _State.from_state_dict(ckpt["state"]).to(self.device)
        set_rng_state(ckpt["rng"])

    def save_history(self) -> None:
        _write_json(self.run_dir / HISTORY_NAME, self.state.history)

    def check_finite(self) -> None:
        """Raise when any rank saw a non-finite loss (all ranks reach this at the same iterations)."""
        self.state.first_bad = distributed.min_non_negative(self.state.first_bad)
        bad = int(self.state.first_bad)
        if bad >= 0:
            raise NonFiniteLossError(
                f"training loss is NaN or inf at iteration {bad}; the last good checkpoint in {self.run_dir} "
                "is kept (try a lower lr)", iteration=bad,
            )  # fmt: skip

    # --- Algorithm 1 ------------------------------------------------------------------------------------------
    def epoch_number(self, iteration: int) -> int:
        """l of Eq. 6: the current epoch, counted from ``cfg.epoch_from``."""
        return iteration // self.per_epoch + self.cfg.epoch_from

    def load_initial_weights(self) -> None:
        """``cfg.pretrained`` into the model of a fresh run; the main process first (it may download the ImageNet
        file into torch's hub cache), then the others, which find it there."""
        for main_turn in (True, False):
            if self.dist.is_main == main_turn:
                load_pretrained(self.model, self.cfg.pretrained)
            distributed.barrier()

    def update(self) -> None:
        """Lines 4-7 of Algorithm 1: one validation pass, then tau (Eq. 6), then lambda (Eq. 4); t += 1.

        Then the guard against a collapse of Eq. 4: the attribute terms' share of Eq. 3 at the validation losses
        (:func:`attribute_share`) goes into the history, and below ``cfg.collapse_warning_share`` training warns
        (:class:`AttributeShareWarning`, naming the iteration) and goes on.
        """
        self.check_finite()
        st, cfg = self.state, self.cfg
        started = time.perf_counter()
        if self.val_loader is None:
            self.val_loader = validation_loader(self.eval_set, cfg, self.device)
        val = validate(self.model, self.eval_set, cfg, self.thresholds.tau, device=self.device,
                       loader=self.val_loader)  # fmt: skip
        st.validation_passes += 1
        epoch = self.epoch_number(st.iteration)
        self.thresholds.update(val.false_positives, val.false_negatives, val.num_samples, epoch)
        if self.weighting.schedule == "validation":
            self.weighting.update(val.attr_losses)
        self.scheduler.step(val.mean_loss)
        st.history.append({
            "t": st.t, "iteration": st.iteration, "epoch": epoch,
            "val_attr_losses": val.attr_losses.tolist(), "val_mean_loss": val.mean_loss,
            "val_landmark_loss": val.landmark_loss,
            "val_accuracy": val.accuracy.tolist(), "val_mean_accuracy": val.mean_accuracy,
            "val_accuracy_tau0": val.accuracy_at_zero.tolist(),
            "lambda": self.weighting.weights.tolist(), "tau": self.thresholds.tau.tolist(),
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": self.mean_over_ranks(st.train_loss) / st.train_batches if st.train_batches else None,
            "validation_passes": st.validation_passes,
            "val_seconds": time.perf_counter() - started,
        })  # fmt: skip
        share = attribute_share(self.weighting.weights, val.attr_losses, val.landmark_loss, cfg.beta)
        st.history[-1]["attribute_share"] = share
        if share is not None and share < cfg.collapse_warning_share and self.dist.is_main:
            weights = self.weighting.weights
            assert val.landmark_loss is not None  # attribute_share is None without a landmark term
            warnings.warn(AttributeShareWarning(
                f"iteration {st.iteration} (update t = {st.t}): the attribute terms of Eq. 3 are {share:.2%} of the "
                f"joint loss on the validation set, below TrainConfig.collapse_warning_share = "
                f"{cfg.collapse_warning_share:.0%} (mean lambda {float(weights.mean()):.4g}, largest "
                f"{float(weights.max()):.4g}; beta L_FLD = {cfg.beta * float(val.landmark_loss):.4g}). The attribute "
                "weights are collapsing (Eq. 4 as printed does this when the validation losses level off): the "
                "landmark task now drives the shared trunk, and the attribute accuracies will stall. Eq. 4 "
                "rescaled to mean 1 (TrainConfig.dynamic_normalise=True, Table 2's 'ours (rescaled)') avoids it."
            ), stacklevel=2)  # fmt: skip
        st.train_loss.zero_()
        st.train_batches = 0
        st.t += 1
        self.weights = self.weighting.weights.to(self.device)
        self.measure_next_step = self.measures_gradients
        self.save_history()

    def aw_update(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """AW's per-iteration update (``aw_schedule="iteration"``, He et al. 2017): Eq. 2 on this iteration's
        validation sample (:func:`aw_sample_indices`), the model in eval mode without gradients, fed to AW; the
        next step of Eq. 3 uses the new weights. Returns the ``(J,)`` losses fed (on the CPU)."""
        images = move_images(batch["image"], self.device, self.channels_last)
        targets = batch["attributes"].to(self.device, non_blocking=True).float()
        self.model.eval()
        try:
            with torch.no_grad(), autocast(self.device, self.cfg.amp):
                out = self.model(images)
        finally:
            self.model.train()
        losses = attribute_losses(out.attributes.float(), targets).cpu()
        self.weighting.update(losses)
        self.weights = self.weighting.weights.to(self.device)
        return losses

    def aw_batches(self, start: int, stop: int) -> Iterator[dict[str, torch.Tensor]] | None:
        """The validation samples of iterations ``start .. stop - 1`` for AW's per-iteration update, loaded ahead by
        the DataLoader's workers; None unless the scheme asks for them."""
        if self.weighting.schedule != "iteration":
            return None
        cfg = self.cfg
        sampler = _AWSamples(dataset_length(self.eval_set), cfg.aw_sample_size, cfg.seed, start, stop)
        return iter(DataLoader(self.eval_set, batch_sampler=sampler, num_workers=cfg.num_workers,
                               pin_memory=self.device.type == "cuda"))  # fmt: skip

    def mean_over_ranks(self, value: torch.Tensor) -> Any:
        """Sum over ranks / world size of a per-rank sum of scaled batch losses: the sum of global batch means
        (a float for a scalar, a CPU tensor otherwise). Each rank's losses carry the factor of
        :func:`dmmlib.distributed.rank_batches`, so a single process gets ``value`` back unchanged."""
        if not self.dist.enabled:
            return float(value) if value.dim() == 0 else value.cpu()
        total = distributed.all_reduce_sum(value).cpu() / self.dist.world_size
        return float(total) if total.dim() == 0 else total

    def cut_lr(self) -> None:
        """The start of the low-lr tail (``cfg.final_lr_fraction``): lr x ``cfg.lr_factor``, once; a resumed run
        past this iteration has the cut lr in its optimiser state."""
        for group in self.optimizer.param_groups:
            group["lr"] *= self.cfg.lr_factor

    def end_of_epoch(self) -> None:
        st = self.state
        if self.weighting.schedule == "epoch" and st.epoch_batches:
            self.weighting.update((self.mean_over_ranks(st.epoch_losses) / st.epoch_batches).float().cpu())
            self.weights = self.weighting.weights.to(self.device)
        st.epoch_losses.zero_()
        st.epoch_batches = 0

    def step(self, batch: dict[str, torch.Tensor], scale: float = 1.0) -> torch.Tensor:
        """Lines 9-10 of Algorithm 1: the joint loss (Eq. 3) and one SGD step; returns the detached loss.

        ``scale`` is this rank's loss factor under DDP (:func:`dmmlib.distributed.rank_batches`); 1.0 alone.
        """
        cfg, device = self.cfg, self.device
        images = move_images(batch["image"], device, self.channels_last)
        targets = batch["attributes"].to(device, non_blocking=True)
        with autocast(device, cfg.amp):
            out = self.step_model(images)
        attr = attribute_losses(out.attributes, targets)
        fld = None
        if out.landmarks is not None:
            landmarks = batch["landmarks"].to(device, non_blocking=True)
            if landmarks.shape[1] != out.landmarks.shape[1]:
                raise ValueError(
                    f"the data has {landmarks.shape[1] // 2} landmarks per image, the model "
                    f"{out.landmarks.shape[1] // 2}: set TrainConfig.num_landmarks to match"
                )
            fld = landmark_loss(
                out.landmarks, landmarks, landmark_mask(batch, device, cfg.mask_placeholder_landmarks)
            )
        loss = joint_loss(attr, self.weights, fld, cfg.beta)
        if self.trunk_output is not None:
            self.record_gradient_norms(self.trunk_output, attr, fld)
        if scale != 1.0:
            loss, attr = loss * scale, attr * scale
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

        st = self.state
        loss = loss.detach()
        st.first_bad = torch.where((st.first_bad < 0) & ~torch.isfinite(loss), st.iteration, st.first_bad)
        st.train_loss += loss
        st.train_batches += 1
        st.epoch_losses += attr.detach()
        st.epoch_batches += 1
        return loss

    def record_gradient_norms(self, features: torch.Tensor, attr: torch.Tensor, fld: torch.Tensor | None) -> None:
        """Into the last history entry: the L2 norms of the gradients that the two parts of Eq. 3,
        ``sum_j lambda_j L_j`` and ``beta L_FLD``, send to the trunk's output on the first batch after an update.

        They tell which task drives the shared features (a collapse of Eq. 4 shows as the attribute part falling
        towards zero). Measured with ``torch.autograd.grad`` on the step's own graph, so the step, its gradients
        and its result are unchanged; a single process only (not under DDP or ``torch.compile``).
        """
        self.trunk_output, self.measure_next_step = None, False
        parts = {"grad_norm_attributes": (self.weights.to(attr) * attr).sum()}
        if fld is not None:
            parts["grad_norm_landmarks"] = self.cfg.beta * fld
        entry = self.state.history[-1]
        for name, part in parts.items():
            (gradient,) = torch.autograd.grad(part, features, retain_graph=True)
            entry[name] = float(gradient.float().norm())

    def run(self, total: int, progress: bool) -> None:
        from tqdm.auto import tqdm

        cfg, st = self.cfg, self.state
        self.weights = self.weighting.weights.to(self.device)
        self.model.train()
        bar = tqdm(total=total, initial=st.iteration, disable=not (progress and self.dist.is_main),
                   desc=cfg.variant, unit="it")  # fmt: skip
        batches, loader = _BatchList(), None
        aw_samples = self.aw_batches(st.iteration, total)
        try:
            while st.iteration < total:
                epoch, offset = divmod(st.iteration, self.per_epoch)
                sampler = EpochSampler(dataset_length(self.train_set), cfg.seed, epoch)
                pieces = distributed.rank_batches(
                    sampler.order(), cfg.batch_size, self.dist.rank, self.dist.world_size
                )[offset:]
                batches.batches = [indices for indices, _ in pieces]
                if loader is None or not cfg.keeps_workers:  # persistent workers keep their first seeds
                    loader = DataLoader(
                        self.train_set, batch_sampler=batches, num_workers=cfg.num_workers,
                        pin_memory=self.device.type == "cuda", generator=sampler.generator(),
                        persistent_workers=cfg.keeps_workers,
                    )  # fmt: skip
                for (_, scale), batch in zip(pieces, loader):
                    if st.iteration >= total:
                        break
                    if st.iteration == self.lr_cut_iteration:
                        self.cut_lr()
                    if st.iteration % cfg.update_interval == 0:
                        self.update()
                    if aw_samples is not None:
                        self.aw_update(next(aw_samples))
                    loss = self.step(batch, scale)
                    st.iteration += 1
                    bar.update(1)
                    if st.iteration % self.per_epoch == 0:
                        self.end_of_epoch()
                    if st.iteration % cfg.log_interval == 0:
                        self.check_finite()
                        bar.set_postfix(loss=f"{float(loss):.4f}", lr=self.optimizer.param_groups[0]["lr"])
                    if st.iteration % cfg.checkpoint_interval == 0:
                        self.checkpoint()
        finally:
            bar.close()
            del loader, aw_samples  # persistent workers end with their loaders
            self.val_loader = None
        self.check_finite()
        self.checkpoint()
        self.save_history()
        distributed.barrier()  # the final checkpoint is on disk before any rank returns


def train(
    cfg: TrainConfig,
    train_set: Dataset,
    val_set: Dataset | None,
    run_dir: str | Path,
    *,
    update_set: Dataset | None = None,
    max_iterations: int | None = None,
    resume: bool = True,
    progress: bool = True,
    init_from: str | Path | None = None,
) -> TrainResult:
    """Run Algorithm 1 for ``cfg.epochs`` epochs (or up to ``max_iterations`` iterations in all).

    Under ``torchrun`` call :func:`dmmlib.distributed.init_from_env` first (``python -m dmmlib.suite.train_cli`` does);
    every rank then calls ``train`` with the same arguments. ``val_set`` drives the updates of lambda and tau; when it is None (LFWA has no validation split) they are
    computed on ``update_set`` instead, e.g. the training set. With ``resume`` a ``checkpoint.pt`` in ``run_dir``
    is continued exactly; ``init_from`` (a checkpoint file or run folder) initialises the model weights only,
    for fine-tuning.
    """
    eval_set = val_set if val_set is not None else update_set
    if eval_set is None:
        raise ValueError("train needs val_set, or update_set when there is no validation set (LFWA)")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = _Trainer(cfg, train_set, eval_set, run_dir)
    checkpoint_path = run_dir / CHECKPOINT_NAME
    saved = (
        load_checkpoint(checkpoint_path)
        if resume and trainer.dist.is_main and checkpoint_path.exists()
        else None
    )
    saved = distributed.broadcast_object(saved)  # rank 0's file: other machines need no shared folder
    if saved is not None:
        trainer.restore(saved)
    elif init_from is not None:
        init_path = Path(init_from)
        load_pretrained(trainer.model, init_path / CHECKPOINT_NAME if init_path.is_dir() else init_path)
    elif cfg.pretrained:
        trainer.load_initial_weights()
    _write_json(run_dir / CONFIG_NAME, {**cfg.to_dict(), DATASET_KEY: data_source.of(train_set)})
    total = cfg.epochs * trainer.per_epoch
    if max_iterations is not None:
        total = min(total, max_iterations)
    trainer.run(total, progress)
    st = trainer.state
    return TrainResult(
        model=trainer.model, history=st.history, weighting=trainer.weighting, thresholds=trainer.thresholds,
        run_dir=run_dir, iterations=st.iteration, validation_passes=st.validation_passes,
    )  # fmt: skip


def load_run(run_dir: str | Path, device: str | torch.device = "cpu"):
    """``(model, tau, cfg, history)`` of a finished or interrupted run, the model in eval mode."""
    ckpt = load_checkpoint(run_dir)
    cfg = TrainConfig.from_dict(ckpt["config"])
    model = build_model_from_config(cfg.replace(pretrained=False))
    model.load_state_dict(ckpt["model"])
    model.to(resolve_device(device)).eval()
    return model, ckpt["thresholds"]["tau"], cfg, ckpt["state"]["history"]
