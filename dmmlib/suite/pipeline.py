"""The artefacts the notebooks share, each made on first use: datasets, trained runs, evaluations.

A notebook never assumes an earlier notebook ran: it asks for what it needs (``celeba_root(ctx)``,
``ensure_trained(ctx, "DMM-CNN")``, ...) and gets the existing artefact or a freshly made one. Everything lives
under ``runs/<preset>/``: ``data/`` (synthetic datasets), ``cache/`` (landmarks of real data), ``models/<run>/``
(checkpoint, history, config, evaluations). A run folder's name carries a hash of its training configuration, so
two notebooks asking for the same run share it, and a changed setting never reuses a stale model.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dmmlib import metrics
from dmmlib.config import TrainConfig
from dmmlib.data import transforms
from dmmlib.data.celeba import CelebA
from dmmlib.data.lfwa import LFWA
from dmmlib.files import atomic, lock
from dmmlib.model import describe_initialisation as model_initialisation
from dmmlib.model import initialisation_key
from dmmlib.suite import cpu_guard, evidence, presets, provenance, twins, weights
from dmmlib.suite.session import Session
from dmmlib.weighting import describe_aw as weighting_aw

#: Config fields that do not change what a run computes (and so do not enter its folder name).
_NOT_IN_KEY = frozenset({"device", "num_workers", "log_interval", "checkpoint_interval", "val_batch_size",
                         "compile", "epochs", "collapse_warning_share", "image_cache_mb"})  # fmt: skip
#: Config fields added after runs were cached, whose default reproduces what those runs computed: they enter a
#: run's key only when set to something else, so the runs cached before they existed keep their names. A field
#: added later goes here when its default keeps the old behaviour (tests/test_presets.py pins some names).
_KEY_ONLY_IF_CHANGED = frozenset({"flip_probability", "lfwa_crop_to_aspect", "aw_schedule", "aw_sample_size",
                                  "trunk_widths", "final_lr_fraction", "lfwa_train_versions"})  # fmt: skip
#: their defaults as :meth:`TrainConfig.to_dict` writes them (a tuple default becomes a list there)
_DEFAULTS = {k: v for k, v in TrainConfig().to_dict().items() if k in _KEY_ONLY_IF_CHANGED}
COMPLETE = "complete.json"
#: marks a run whose training diverged (:class:`RunDiverged`); the evidence export reads it
DIVERGED = evidence.DIVERGED_MARKER


# --------------------------------------------------------------------------------------------------- datasets
def celeba_root(ctx: Session, progress: bool = True) -> Path:
    """Real CelebA (``DATA_DIR``) for the paper preset; else the synthetic set, generated on first use."""
    if ctx.preset.data == "real":
        assert ctx.data_dir is not None  # session.start guarantees it for the paper preset
        return ctx.data_dir
    from dmmlib.data import synthetic

    out = ctx.run_dir / "data" / "celeba"
    return synthetic.generate(out, ctx.preset.num_images, seed=presets.DATA_SEED, workers=provenance.usable_cores(),
                              progress=progress, **ctx.data_knobs)  # fmt: skip


def lfwa_root(ctx: Session, progress: bool = True) -> Path:
    """Real LFWA (``LFWA_DIR``) for the paper preset; else the synthetic LFWA-format set."""
    if ctx.preset.data == "real":
        if ctx.lfwa_dir is None:
            raise ValueError("the paper preset fine-tunes on real LFWA: set LFWA_DIR to the folder of lfw_att_40.mat")
        return ctx.lfwa_dir
    from dmmlib.data import synthetic

    out = ctx.run_dir / "data" / "lfwa"
    return synthetic.generate_lfwa(out, ctx.preset.num_lfwa_images, seed=presets.DATA_SEED, workers=provenance.usable_cores(),
                                   progress=progress)  # fmt: skip


def celeba_split(ctx: Session, split: str, cfg: TrainConfig, *, train: bool = False,
                 progress: bool = True) -> CelebA:
    """One CelebA split with the preset's input size (flip augmentation when ``train``) and 68 landmarks."""
    transform = (transforms.train_transform(cfg.input_size, cfg.flip_probability) if train
                 else transforms.eval_transform(cfg.input_size))  # fmt: skip
    root = celeba_root(ctx, progress=progress)
    if ctx.preset.data == "real":
        return CelebA(root, split, transform, landmarks="build", landmark_cache_dir=ctx.run_dir / "cache",
                      landmark_workers=provenance.usable_cores(), cache_mb=cfg.image_cache_mb)  # fmt: skip
    return CelebA(root, split, transform, landmarks="file", cache_mb=cfg.image_cache_mb)


def lfwa_split(ctx: Session, split: str, cfg: TrainConfig, *, train: bool = False) -> LFWA:
    """One LFWA split (train: the copies of ``cfg.lfwa_train_versions``, by default original + deep-funneled, the
    paper's protocol; test: original) with 68 landmarks: the drawn ones of synthetic data, dlib's (detector path,
    cached in ``runs/<preset>/cache``) for real LFWA."""
    from dmmlib.data import lfwa

    crop = cfg.lfwa_crop_to_aspect
    transform = (transforms.train_transform(cfg.input_size, cfg.flip_probability, crop_to_aspect=crop) if train
                 else transforms.eval_transform(cfg.input_size, crop_to_aspect=crop))  # fmt: skip
    versions = cfg.lfwa_train_versions if split == "train" else None
    root = lfwa_root(ctx)
    if ctx.preset.data == "real":
        return LFWA(root, split, transform=transform, landmarks="build", landmark_cache_dir=ctx.run_dir / "cache",
                    landmark_workers=provenance.usable_cores(), cache_mb=cfg.image_cache_mb,
                    versions=versions)  # fmt: skip
    return LFWA(root, split, transform=transform, landmarks=lfwa.synthetic_landmarks(root),
                cache_mb=cfg.image_cache_mb, versions=versions)  # fmt: skip


# ------------------------------------------------------------------------------------------------------ runs
@dataclass
class Run:
    """A trained (or training) run: its folder, configuration and Algorithm 1 history."""

    name: str
    run_dir: Path
    cfg: TrainConfig
    history: list[dict[str, Any]]


def train_config(ctx: Session, **overrides: Any) -> TrainConfig:
    """The preset's TrainConfig with SEED, the initial weights of ``DMM_WEIGHTS`` if set (:mod:`dmmlib.suite.weights`)
    and any overrides (e.g. ``variant="DMM-FAC"``)."""
    settings = {**ctx.preset.train, **weights.from_environment(), "seed": ctx.seed, **overrides}
    return TrainConfig(**settings)


def run_name(cfg: TrainConfig) -> str:
    """``<variant>[-<weighting>]-<hash of everything that changes the result>``."""
    key = {k: v for k, v in cfg.to_dict().items()
           if k not in _NOT_IN_KEY and not (k in _KEY_ONLY_IF_CHANGED and v == _DEFAULTS[k])}  # fmt: skip
    key["epochs"] = cfg.epochs  # the budget changes the result, but stays readable below
    key["pretrained"] = initialisation_key(cfg.pretrained, cfg.backbone)  # what the weights are, not where they lie
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    scheme = f"-{cfg.weighting}" if cfg.weighting else ""
    return f"{cfg.variant}{scheme}-{digest}"


def is_complete(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` finished and was marked (:func:`mark_complete`)."""
    return (run_dir / COMPLETE).exists()


def mark_complete(run_dir: Path, result: Any, **extra: Any) -> None:
    """Mark a finished run (the main process only, under DDP), so that later calls load it instead of training."""
    from dmmlib import distributed

    if distributed.is_main():
        atomic.write_json(run_dir / COMPLETE, {"iterations": result.iterations,
                                               "validation_passes": result.validation_passes, **extra})  # fmt: skip


class RunDiverged(RuntimeError):
    """A run whose training loss became NaN or inf: an outcome of its settings, reported rather than hidden.

    Training stops there (:class:`dmmlib.train.NonFiniteLossError`) and keeps the last good checkpoint; the run's
    folder gets :data:`DIVERGED`, so asking for the same run again reports the divergence at once instead of
    training into it again (delete that file to retry). ``info`` holds the iteration, the message and, from the
    last update before it, the learning rate and the largest and mean Eq. 4 weight.
    """

    def __init__(self, name: str, run_dir: Path, info: dict[str, Any]) -> None:
        self.name, self.run_dir, self.info = name, run_dir, info
        super().__init__(self.sentence())

    def sentence(self) -> str:
        text = f"{self.name} diverged: training loss NaN or inf at iteration {self.info.get('iteration', '?')}"
        if "lambda_max" in self.info:
            text += (f"; at the update before, the largest Eq. 4 weight was {self.info['lambda_max']:.3g} (mean "
                     f"{self.info['lambda_mean']:.3g}) at lr {self.info['lr']:.3g}")  # fmt: skip
        return text + f" (run {self.run_dir.name}; delete {DIVERGED} there to train it again)"


def divergence_info(error: Exception, run_dir: Path) -> dict[str, Any]:
    """What :data:`DIVERGED` records: the iteration, the message, and the last update's lr and lambda spread."""
    from dmmlib import train

    info: dict[str, Any] = {"iteration": int(getattr(error, "iteration", -1)), "error": str(error)}
    history_path = run_dir / train.HISTORY_NAME
    history = json.loads(history_path.read_text()) if history_path.is_file() else []
    if history:
        last = history[-1]
        weights = [float(w) for w in last.get("lambda", [])]
        info.update({"last_update_iteration": int(last["iteration"]), "lr": float(last["lr"])})
        if weights:
            info.update({"lambda_max": max(weights), "lambda_mean": sum(weights) / len(weights)})
    return info


def _train_once(name: str, run_dir: Path, cfg: TrainConfig, train_run: Callable[[Path], Any]) -> Run:
    """The run in ``run_dir``: trained by ``train_run(run_dir)`` unless complete, marked, its history read.
    Raises :class:`RunDiverged` when training diverges, or diverged before.

    One process trains a run at a time: another that asks for the same run meanwhile (a second notebook, a sweep
    point, a test worker) waits for it and then reads the finished run. Under ``torchrun`` the ranks train together
    and take no lock (they would wait on each other)."""
    from dmmlib import distributed

    if distributed.info().world_size > 1 or os.environ.get("WORLD_SIZE", "1") != "1":
        return _train_unlocked(name, run_dir, cfg, train_run)
    with lock.exclusive(lock.lock_path(run_dir), what=f"the run {name}, which another process trains"):
        return _train_unlocked(name, run_dir, cfg, train_run)


def _train_unlocked(name: str, run_dir: Path, cfg: TrainConfig, train_run: Callable[[Path], Any]) -> Run:
    from dmmlib import distributed, train

    if not is_complete(run_dir):
        if (run_dir / DIVERGED).is_file():
            raise RunDiverged(name, run_dir, json.loads((run_dir / DIVERGED).read_text()))
        try:
            result = train_run(run_dir)
        except train.NonFiniteLossError as error:
            info = divergence_info(error, run_dir)
            if distributed.is_main():
                atomic.write_json(run_dir / DIVERGED, info)
            raise RunDiverged(name, run_dir, info) from error
        mark_complete(run_dir, result)
    return Run(name, run_dir, cfg, json.loads((run_dir / train.HISTORY_NAME).read_text()))


def run_folder(ctx: Session, name: str) -> Path:
    """Where the run called ``name`` (see :func:`run_name`) of this session's preset and seed lies."""
    return ctx.run_dir / "models" / name


def ensure_trained(ctx: Session, variant: str = "DMM-CNN", *, weighting: str | None = None, progress: bool = True,
                   **overrides: Any) -> Run:
    """The finished run of ``variant`` (and Table 2 ``weighting``) for this preset and seed; trains it if needed.

    An interrupted run resumes from its checkpoint. Training uses the CelebA train split and one whole pass of
    the valid split per update (Algorithm 1). A FIX variant with an AT twin (DMM-EQ-FIX, DMM-DW-FIX) is written
    from its twin's run, which this trains first if needed: tau never enters training (:mod:`dmmlib.suite.twins`).
    """
    from dmmlib import train

    cfg = train_config(ctx, variant=variant, weighting=weighting, **overrides)
    name = run_name(cfg)
    folder = run_folder(ctx, name)
    twin = twins.adaptive_twin(variant)
    if twin is not None and not is_complete(folder) and not (folder / DIVERGED).exists():
        source = ensure_trained(ctx, twin, weighting=weighting, progress=progress, **overrides)
        if twins.can_give_twin(source.history):
            return _train_once(name, folder, cfg, lambda run_dir: twins.write_fixed_twin(source.run_dir, run_dir, variant))

    def train_run(run_dir: Path) -> Any:
        train_set = celeba_split(ctx, "train", cfg, train=True, progress=progress)
        val_set = celeba_split(ctx, "valid", cfg, progress=progress)
        guard_cpu(ctx, cfg, len(train_set), len(val_set), name)
        return train.train(cfg, train_set, val_set, run_dir, progress=progress)

    return _train_once(name, folder, cfg, train_run)


def guard_cpu(ctx: Session, cfg: TrainConfig, train_size: int, update_size: int, name: str) -> None:
    """Before training run ``name``: stop with an estimate when a GPU preset would train on the CPU without the
    notebook's ``TRAIN_ON_CPU`` or ``DMM_TRAIN_ON_CPU`` (:func:`dmmlib.suite.cpu_guard.check`)."""
    cpu_guard.check(ctx.preset, cfg, train_size, update_size, what=f"run {name}", models_dir=ctx.run_dir / "models",
                    allowed=ctx.train_on_cpu)  # fmt: skip


#: The name results give DMM-CNN trained with Eq. 4 as printed (``dynamic_normalise=False``) where the preset rescales
#: it: notebook 05 trains it beside the preset's run, and sweeps over seeds collect it under this name.
EQ4_AS_PRINTED = "DMM-CNN, Eq. 4 as printed"

#: Table 2's weighting schemes as (variant, weighting override). UW on the full network is exactly the DMM-EQ-AT
#: variant of Table 1 and "ours" is DMM-CNN, so asking for them by variant name shares their runs.
TABLE2_SCHEMES: dict[str, tuple[str, str | None]] = {
    "UW": ("DMM-EQ-AT", None), "DWA": ("DMM-CNN", "dwa"), "AW": ("DMM-CNN", "aw"), "ours": ("DMM-CNN", None),
}


#: Table 2's extra row for presets that keep Eq. 4 as printed (the paper preset): DMM-CNN with Eq. 4's weights
#: rescaled to mean 1 (``TrainConfig.dynamic_normalise``), so that one run of the suite shows both readings of the
#: equation side by side (as printed, Eq. 4 collapsed on the synthetic data: see :mod:`dmmlib.suite.presets`).
TABLE2_RESCALED = "ours (rescaled)"


def table2_schemes(preset: presets.Preset) -> list[str]:
    """The Table 2 rows a preset trains: :data:`TABLE2_SCHEMES`, plus :data:`TABLE2_RESCALED` where the preset keeps
    Eq. 4 as printed (``dynamic_normalise`` False)."""
    rescales = preset.train.get("dynamic_normalise", TrainConfig.dynamic_normalise)
    return list(TABLE2_SCHEMES) + ([] if rescales else [TABLE2_RESCALED])


def ensure_scheme(ctx: Session, scheme: str, progress: bool = True, **overrides: Any) -> Run:
    """The finished DMM-CNN run under one of Table 2's weighting schemes ("UW", "DWA", "AW", "ours", and
    :data:`TABLE2_RESCALED`)."""
    if scheme == TABLE2_RESCALED:
        return ensure_trained(ctx, "DMM-CNN", progress=progress, **{"dynamic_normalise": True, **overrides})
    if scheme not in TABLE2_SCHEMES:
        raise ValueError(f"unknown weighting scheme {scheme!r}; Table 2 has {list(TABLE2_SCHEMES) + [TABLE2_RESCALED]}")
    variant, weighting = TABLE2_SCHEMES[scheme]
    return ensure_trained(ctx, variant, weighting=weighting, progress=progress, **overrides)


def saved_config(run: Run) -> dict[str, Any]:
    """The configuration training saved in ``run``'s folder (``config.json``): what the run really used."""
    from dmmlib import train

    return {**TrainConfig().to_dict(), **json.loads((run.run_dir / train.CONFIG_NAME).read_text())}


def describe_initialisation(run: Run) -> str:
    """What ``run``'s trunk started from (ImageNet, a local file, from scratch), from its saved configuration."""
    saved = saved_config(run)
    return model_initialisation(saved["pretrained"], saved["backbone"])


def describe_aw(run: Run) -> str:
    """How AW ran in ``run`` (every iteration from a sample, or per validation pass), from its saved configuration."""
    saved = saved_config(run)
    return weighting_aw(saved["aw_schedule"], saved["aw_sample_size"], saved["aw_window"])


def ensure_finetuned_lfwa(ctx: Session, source: Run, progress: bool = True, **overrides: Any) -> Run:
    """Fine-tune ``source`` on LFWA (FACTS §1): no validation set, so lambda and tau update on the training set.

    ``overrides`` change the fine-tuning's TrainConfig after the preset's ``finetune`` settings, and so its run
    name: e.g. ``lfwa_train_versions=("original",)`` trains on the original images only, and ``epochs=`` keeps its
    number of iterations equal to the paper protocol's (exercise 08.1)."""
    from dmmlib import train

    cfg = source.cfg.replace(**{**ctx.preset.finetune, **overrides})
    name = f"LFWA-from-{source.name}-{run_name(cfg).rsplit('-', 1)[1]}"

    def train_run(run_dir: Path) -> Any:
        train_set, update_set = lfwa_split(ctx, "train", cfg, train=True), lfwa_split(ctx, "train", cfg)
        guard_cpu(ctx, cfg, len(train_set), len(update_set), name)
        return train.train(cfg, train_set, None, run_dir, update_set=update_set, init_from=source.run_dir,
                           progress=progress)  # fmt: skip

    return _train_once(name, run_folder(ctx, name), cfg, train_run)


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate(ctx: Session, run: Run, split: str = "test", dataset: str = "celeba") -> pd.DataFrame:
    """Per-attribute metrics of ``run`` on a split (Eq. 5 with the run's final tau); cached in the run folder."""
    from dmmlib import train, validation

    cache = run.run_dir / f"eval_{dataset}_{split}.csv"
    if cache.exists():
        table = pd.read_csv(cache, index_col="attribute")
    else:
        model, tau, cfg, _ = train.load_run(run.run_dir)
        data = celeba_split(ctx, split, cfg) if dataset == "celeba" else lfwa_split(ctx, split, cfg)
        outputs = validation.predict_dataset(model, data, batch_size=cfg.val_batch_size)
        targets = data.attributes.numpy() if hasattr(data, "attributes") else _labels(data)
        table = metrics.attribute_table(outputs, targets, tau, cfg.groups)
        atomic.write_text(cache, table.to_csv())
    ceiling = ceiling_accuracy(ctx, split, dataset)
    return table if ceiling is None else table.assign(ceiling_accuracy=[ceiling[a] for a in table.index])


def ceiling_accuracy(ctx: Session, split: str = "test", dataset: str = "celeba") -> dict[str, float] | None:
    """The best accuracy any model can reach per attribute on a synthetic CelebA or LFWA split (None for real
    data): :func:`dmmlib.data.synthetic.ceiling_accuracy`, an upper bound for inputs smaller than the stored
    images (a looser one for LFWA's smaller faces)."""
    if ctx.preset.data == "real":
        return None
    from dmmlib.data import synthetic

    root = celeba_root(ctx, progress=False) if dataset == "celeba" else lfwa_root(ctx, progress=False)
    return synthetic.ceiling_accuracy(root, split)


def _labels(dataset: LFWA) -> Any:
    import numpy as np

    return np.stack([dataset.labels[i] for _, i in dataset.items])
