"""No hours of CPU work unannounced: a GPU preset's run on a machine without CUDA stops first, with an estimate.

The ``paper`` preset trains ResNet-50 on CelebA at 218 x 178, batch 64, for 15 epochs: hours on a GPU, days on a
CPU. A notebook that asks for such a run (:func:`dmmlib.suite.pipeline.ensure_trained`, ``ensure_scheme``,
``ensure_finetuned_lfwa``) on a machine without CUDA would start it without a word. So, for presets with
``needs_gpu`` and a run that resolves to the CPU, :func:`check` first times a few of the run's own training steps
on a couple of in-memory images (the trainer's step: forward, Eq. 3, backward, SGD), scales them to the run's batch,
iterations and whole-validation passes, and raises :class:`CPUTrainingStopped` with that estimate and the ways out:
a GPU, runs trained elsewhere (or ``CHECKPOINT=`` in notebook 10), or an explicit "train here anyway" (the notebook
parameter ``TRAIN_ON_CPU=True`` or ``DMM_TRAIN_ON_CPU=1`` in the environment). The smoke and teach presets are made
for a CPU and never reach the measurement.

The estimate is rough and says so: a step of ``b`` images is scaled to ``B`` images linearly in its forward and
backward part (larger batches run somewhat faster per image) and once in its optimizer step.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Dataset

from dmmlib.attributes import NUM_ATTRIBUTES
from dmmlib.config import TrainConfig
from dmmlib.device import autocast, move_images, resolve_device
from dmmlib.suite.guide import format_duration

if TYPE_CHECKING:
    from dmmlib.suite.presets import Preset

#: The environment variable that says "train here anyway" (any of :data:`YES`); ``make paper`` passes it on.
ENV = "DMM_TRAIN_ON_CPU"
YES = ("1", "true", "yes", "on")
#: images per measured step, and the steps timed after one warm-up (few: under the paper preset a step of one
#: image takes seconds on a CPU, and the guard should answer within seconds)
MEASURED_BATCH = 1
MEASURED_STEPS = 1


class CPUTrainingStopped(RuntimeError):
    """A GPU preset's run was not started on a machine without CUDA; the message holds the estimate and the ways
    out. ``estimate`` is the :class:`Estimate` it rests on."""

    def __init__(self, message: str, estimate: Estimate) -> None:
        super().__init__(message)
        self.estimate = estimate


def allowed_by_environment() -> bool:
    """Whether ``DMM_TRAIN_ON_CPU`` says "train here anyway"."""
    return os.environ.get(ENV, "").strip().lower() in YES


class _Images(Dataset):
    """``n`` random samples in the trainer's batch format (uint8 images of ``size``, +1/-1 labels, landmarks)."""

    def __init__(self, n: int, size: tuple[int, int], num_landmarks: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.batch = {
            "image": torch.randint(0, 256, (n, 3, *size), dtype=torch.uint8, generator=g),
            "attributes": (torch.randint(0, 2, (n, NUM_ATTRIBUTES), generator=g) * 2 - 1).to(torch.int8),
            "landmarks": torch.rand(n, 2 * num_landmarks, generator=g) * 2 - 1,
            "landmark_source": torch.zeros(n, dtype=torch.int64),
        }

    def __len__(self) -> int:
        return len(self.batch["image"])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[index] for key, value in self.batch.items()}


@dataclass(frozen=True)
class Estimate:
    """A run's time on this machine, from measured steps (all times in seconds)."""

    measured_batch: int  #: images per measured step
    forward_backward: float  #: forward, Eq. 3 and backward of one measured step
    optimizer: float  #: one SGD step (independent of the batch)
    forward_per_image: float  #: one image through the network without gradients (validation)
    batch_size: int
    iterations: int
    validation_passes: int
    validation_images: int  #: images per validation pass (Algorithm 1: the whole set)
    aw_images: int  #: images AW reads per iteration (``aw_schedule="iteration"``), 0 otherwise

    @property
    def step_seconds(self) -> float:
        """One training step at the run's batch."""
        return self.forward_backward * self.batch_size / self.measured_batch + self.optimizer

    @property
    def training_seconds(self) -> float:
        return self.iterations * (self.step_seconds + self.aw_images * self.forward_per_image)

    @property
    def validation_seconds(self) -> float:
        return self.validation_passes * self.validation_images * self.forward_per_image

    @property
    def total_seconds(self) -> float:
        return self.training_seconds + self.validation_seconds

    def sentence(self) -> str:
        """The estimate in words, with what it rests on."""
        return (
            f"one training step of {self.measured_batch} image(s) took {self.forward_backward + self.optimizer:.2f} s "
            f"here, so a step of {self.batch_size} takes about {self.step_seconds:.1f} s; {self.iterations:,} "
            f"iterations take about {format_duration(self.training_seconds)} and {self.validation_passes:,} "
            f"whole-validation passes over {self.validation_images:,} images about "
            f"{format_duration(self.validation_seconds)}: about {format_duration(self.total_seconds)} in all on this "
            "CPU (a rough estimate: steps measured on a few random images, scaled linearly)"
        )


def measure(cfg: TrainConfig, train_size: int, update_size: int, *, measured_batch: int = MEASURED_BATCH,
            steps: int = MEASURED_STEPS) -> Estimate:  # fmt: skip
    """Time ``cfg``'s training step on ``measured_batch`` random images (the trainer's own step, one warm-up, the
    fastest of ``steps``) and a validation forward pass; scale them to ``train_size`` training images for
    ``cfg.epochs`` epochs and a whole pass over ``update_size`` images every ``cfg.update_interval`` iterations."""
    from dmmlib.train import _Trainer, iterations_per_epoch  # the very step a run takes

    measured_batch = max(1, min(measured_batch, cfg.batch_size))
    data = _Images(measured_batch, cfg.input_size, cfg.num_landmarks)
    with tempfile.TemporaryDirectory() as scratch:  # the trainer writes nothing until it checkpoints
        trainer = _Trainer(cfg.replace(pretrained=False), data, data, Path(scratch))
        trainer.weights = trainer.weighting.weights.to(trainer.device)
        optimizer_times: list[float] = []
        started: list[float] = []
        trainer.optimizer.register_step_pre_hook(lambda *_: started.append(time.perf_counter()))
        trainer.optimizer.register_step_post_hook(lambda *_: optimizer_times.append(time.perf_counter() - started[-1]))
        trainer.model.train()
        step_times = []
        for _ in range(1 + steps):
            begin = time.perf_counter()
            trainer.step(data.batch)
            step_times.append(time.perf_counter() - begin)
        fastest = min(range(1, 1 + steps), key=lambda i: step_times[i])
        optimizer = optimizer_times[fastest]
        trainer.model.eval()
        images = move_images(data.batch["image"], trainer.device, trainer.channels_last)
        forward_times = []
        with torch.no_grad(), autocast(trainer.device, cfg.amp):  # as a validation pass runs it
            for _ in range(2):  # a warm-up, then the measured pass
                begin = time.perf_counter()
                trainer.model(images)
                forward_times.append(time.perf_counter() - begin)
    iterations = cfg.epochs * iterations_per_epoch(train_size, cfg.batch_size)
    aw = cfg.weighting == "aw" and cfg.aw_schedule == "iteration"
    return Estimate(
        measured_batch=measured_batch, forward_backward=step_times[fastest] - optimizer, optimizer=optimizer,
        forward_per_image=forward_times[-1] / measured_batch, batch_size=cfg.batch_size,
        iterations=iterations, validation_passes=iterations // cfg.update_interval + 1,
        validation_images=update_size, aw_images=min(cfg.aw_sample_size, update_size) if aw else 0,
    )  # fmt: skip


def ways_out(models_dir: Path) -> str:
    """The three ways past the guard, as the error lists them."""
    return (
        "Ways out:\n"
        "  1. train on a GPU: run the notebooks (make paper ...) on a machine with CUDA;\n"
        f"  2. use runs trained elsewhere: copy their folders (runs/<preset>/models/<run>) into {models_dir}, where "
        "the notebooks find them, or pass CHECKPOINT=<run folder> to notebook 10 (predicting a photo);\n"
        "  3. train here anyway: the notebook parameter TRAIN_ON_CPU=True (papermill -p TRAIN_ON_CPU True), or "
        f"{ENV}=1 in the environment (e.g. {ENV}=1 make paper ...)."
    )


def check(preset: Preset, cfg: TrainConfig, train_size: int, update_size: int, *, what: str, models_dir: Path,
          allowed: bool = False) -> Estimate | None:  # fmt: skip
    """Stop before training ``what`` (a run's name) when ``preset`` needs a GPU, ``cfg`` resolves to the CPU and
    neither ``allowed`` (the notebook's ``TRAIN_ON_CPU``) nor ``DMM_TRAIN_ON_CPU`` says to go on: raises
    :class:`CPUTrainingStopped` with the measured estimate (:func:`measure`) and :func:`ways_out`. Returns None
    when training may go on without a word (a CPU preset, a GPU) and, when allowed on the CPU, prints a line saying
    so (and measures nothing)."""
    if not preset.needs_gpu or resolve_device(cfg.device).type != "cpu":
        return None
    if allowed or allowed_by_environment():
        how = "TRAIN_ON_CPU=True" if allowed else f"{ENV}={os.environ.get(ENV, '').strip()}"
        print(f"{what}: training the {preset.name} preset's run on the CPU, as {how} asks", flush=True)
        return None
    estimate = measure(cfg, train_size, update_size)
    raise CPUTrainingStopped(
        f"{what} was not started: the {preset.name} preset's recipe is meant for a GPU, and this machine has no "
        f"CUDA device. Its {cfg.epochs} epoch(s) over {train_size:,} images at batch {cfg.batch_size}, input "
        f"{cfg.input_size[0]} x {cfg.input_size[1]}: {estimate.sentence()}.\n{ways_out(models_dir)}",
        estimate,
    )
