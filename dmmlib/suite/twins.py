"""Runs that differ only in their thresholds share one training: a FIX variant is written from its AT twin's run.

Why this is exact: tau enters Algorithm 1 only at line 5 (Eq. 6, from the false-positive and false-negative counts
of a validation pass) and at prediction (Eq. 5). A training step's loss (Eqs. 1-3) compares the raw outputs with
the labels, lambda (Eq. 4) reads the validation losses and the plateau rule their mean, so no gradient, weight or
learning rate ever depends on tau. A variant with fixed thresholds therefore trains, step for step, the network
of the variant that differs from it only by Eq. 6: DMM-EQ-FIX that of DMM-EQ-AT, DMM-DW-FIX that of DMM-CNN
(:func:`adaptive_twin`). The stored teach record shows it: DMM-EQ-AT and DMM-EQ-FIX have the same validation
losses at every update.

So instead of a second training of the same network, :func:`write_fixed_twin` writes the FIX run from the AT run:
the same weights, optimiser state and Algorithm 1 history, with tau = 0 everywhere and, for each update, the
validation accuracies at tau = 0 that the AT run measured beside its own (history key
:data:`ACCURACY_AT_ZERO`, from the same forward passes). ``tests/test_twins.py`` trains a FIX variant both ways and
finds the same weights and history. It saves one training in five of the suite's runs (two of ten in notebooks
05-07). An AT run trained before its history carried that key cannot give a twin; the FIX run then trains itself.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from dmmlib import distributed
from dmmlib.attributes import NUM_ATTRIBUTES
from dmmlib.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from dmmlib.files import atomic
from dmmlib.thresholds import make_thresholds
from dmmlib.variants import VARIANTS, get_variant

#: the history key of the validation accuracies at tau = 0 (:attr:`dmmlib.validation.ValidationResult.accuracy_at_zero`)
ACCURACY_AT_ZERO = "val_accuracy_tau0"
#: the key of a derived run's ``config.json`` naming the run whose training it shares
TRAINED_AS = "trained_as"


def adaptive_twin(variant: str) -> str | None:
    """The variant that differs from ``variant`` only by Eq. 6 (adaptive thresholds where it has fixed ones),
    or None: ``DMM-EQ-FIX`` -> ``DMM-EQ-AT``, ``DMM-DW-FIX`` -> ``DMM-CNN``; Baseline has none (no linear-head
    variant has Eq. 6)."""
    spec = get_variant(variant)
    if spec.thresholds != "fixed":
        return None
    for other in VARIANTS.values():
        if other.thresholds == "adaptive" and dataclasses.replace(
            other, name=spec.name, note=spec.note, thresholds="fixed"
        ) == spec:
            return other.name
    return None


def can_give_twin(history: list[dict[str, Any]]) -> bool:
    """Whether a run's history has, at every update, the accuracies at tau = 0 that its FIX twin needs."""
    return bool(history) and all(ACCURACY_AT_ZERO in entry for entry in history)


def fixed_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history a FIX variant would have written: tau 0 and the accuracies at tau 0; all else as it is."""
    entries = []
    for entry in history:
        at_zero = torch.tensor(entry[ACCURACY_AT_ZERO], dtype=torch.float32)  # float32, as the trainer's mean is
        entries.append({**entry, "tau": [0.0] * len(entry["tau"]), "val_accuracy": at_zero.tolist(),
                        "val_mean_accuracy": float(at_zero.mean())})  # fmt: skip
    return entries


def write_fixed_twin(source_dir: Path, target_dir: Path, variant: str) -> SimpleNamespace:
    """Write the run of FIX ``variant`` into ``target_dir`` from its AT twin's finished run in ``source_dir``;
    returns what :func:`dmmlib.suite.pipeline.mark_complete` records (iterations, validation passes).

    Every file is written whole (atomically). Under DDP the main process reads and writes (the other machines need
    no shared folder) and every rank gets the counts.
    """
    counts = _write_fixed_twin(source_dir, target_dir, variant) if distributed.is_main() else None
    counts = distributed.broadcast_object(counts)
    assert counts is not None
    return counts


def _write_fixed_twin(source_dir: Path, target_dir: Path, variant: str) -> SimpleNamespace:
    from dmmlib import train

    twin = adaptive_twin(variant)
    ckpt = load_checkpoint(source_dir / CHECKPOINT_NAME)
    if twin is None or ckpt["config"].get("variant") != twin:
        raise ValueError(f"{source_dir}: a run of {ckpt['config'].get('variant')!r}, not of {twin!r}, the variant "
                         f"whose training {variant!r} shares")  # fmt: skip
    state = ckpt["state"]
    if not can_give_twin(state["history"]):
        raise ValueError(f"{source_dir}: its history lacks {ACCURACY_AT_ZERO!r} (trained before runs recorded it); "
                         f"train {variant} itself")  # fmt: skip
    target_dir.mkdir(parents=True, exist_ok=True)
    ckpt["config"] = {**ckpt["config"], "variant": variant}
    ckpt["thresholds"] = make_thresholds("fixed", NUM_ATTRIBUTES).state_dict()
    state["history"] = fixed_history(state["history"])
    config = json.loads((source_dir / train.CONFIG_NAME).read_text())
    config.update(variant=variant, **{TRAINED_AS: source_dir.name})
    atomic.write_json(target_dir / train.CONFIG_NAME, config)
    atomic.write_json(target_dir / train.HISTORY_NAME, state["history"])
    save_checkpoint(target_dir / CHECKPOINT_NAME, ckpt)
    return SimpleNamespace(iterations=state["iteration"], validation_passes=state["validation_passes"])


def trained_as(run_dir: Path) -> str | None:
    """The run whose training the run in ``run_dir`` shares (it was written from it), or None: trained itself."""
    from dmmlib import train

    try:
        config = json.loads((Path(run_dir) / train.CONFIG_NAME).read_text())
    except (OSError, ValueError):
        return None
    value = config.get(TRAINED_AS)
    return value if isinstance(value, str) else None
