"""Table 2 as the paper preset runs it: AW updated every iteration from 10 validation images (He et al. 2017, as the
paper describes AW), the guard that warns while Eq. 4 collapses, and the extra row of Eq. 4 rescaled beside Eq. 4
as printed. The small presets keep their recorded settings (AW from whole-validation passes, no extra row)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

import dmmlib.train
from dmmlib.config import TrainConfig
from dmmlib.losses import attribute_losses
from dmmlib.suite import pipeline, presets, train_cli
from dmmlib.train import AttributeShareWarning, attribute_share, aw_sample_indices, train
from dmmlib.weighting import make_weighting

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402


class Recording(Dataset):
    """A dataset that records every index it is asked for, in order."""

    def __init__(self, inner: Dataset) -> None:
        self.inner, self.asked = inner, []

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int):
        self.asked.append(int(index))
        return self.inner[index]


def aw_by_hand(prev: torch.Tensor, cur: torch.Tensor) -> torch.Tensor:
    """AW with a window of one (FACTS §4): trend = |cur - prev| / cur; weight ~ trend / mean * cur / mean, mean 1."""
    trend = (cur - prev).abs() / cur
    raw = (trend / trend.mean()) * (cur / cur.mean())
    return raw / raw.mean()


def run_aw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_size: int, iterations: int = 4):
    """A tiny DMM-CNN run under AW per iteration; returns what each AW update saw and fed, the weights each step of
    Eq. 3 used, and the validation indices asked for."""
    fed, used = [], []
    aw_update = dmmlib.train._Trainer.aw_update

    def spy(self, batch):
        self.model.eval()
        with torch.no_grad():  # Eq. 2 of the current model on this sample, computed here independently
            expected = attribute_losses(self.model(batch["image"]).attributes, batch["attributes"].float())
        self.model.train()
        losses = aw_update(self, batch)
        fed.append({"size": len(batch["image"]), "losses": losses, "expected": expected,
                    "weights": self.weighting.weights.clone()})  # fmt: skip
        return losses

    def joint_loss(attr, weights, fld, beta):
        used.append(weights.detach().clone())
        return original_joint_loss(attr, weights, fld, beta)

    original_joint_loss = dmmlib.train.joint_loss
    monkeypatch.setattr(dmmlib.train._Trainer, "aw_update", spy)
    monkeypatch.setattr(dmmlib.train, "joint_loss", joint_loss)
    validation = Recording(TinyFaces(40, seed=1))
    cfg = tiny_config(weighting="aw", aw_schedule="iteration", aw_sample_size=sample_size, aw_window=1,
                      update_interval=1000)  # fmt: skip
    with one_thread():
        train(cfg, TinyFaces(64), validation, tmp_path, max_iterations=iterations, progress=False)
    return cfg, fed, used, validation.asked


# --- AW as the paper describes it -------------------------------------------------------------------------------
def test_aw_updates_every_iteration_from_ten_validation_images(tmp_path, monkeypatch):
    cfg, fed, used, asked = run_aw(tmp_path, monkeypatch, sample_size=10)
    assert [f["size"] for f in fed] == [10, 10, 10, 10], "one update per iteration, 10 images each"
    # the whole-validation pass at iteration 0 reads the 40 images once; then each iteration its own sample
    samples = [asked[40 + 10 * t: 50 + 10 * t] for t in range(4)]
    assert asked[:40] == list(range(40)) and len(asked) == 80
    assert samples == [aw_sample_indices(40, 10, cfg.seed, t) for t in range(4)]
    assert all(len(set(s)) == 10 for s in samples) and len({tuple(s) for s in samples}) == 4
    for f in fed:  # what AW is fed is Eq. 2 on the sample, per attribute
        torch.testing.assert_close(f["losses"], f["expected"], rtol=1e-5, atol=1e-6)
    assert fed[0]["weights"].tolist() == [1.0] * 40, "the first sample only records its losses"
    for t in (1, 2, 3):
        torch.testing.assert_close(fed[t]["weights"], aw_by_hand(fed[t - 1]["losses"], fed[t]["losses"]))
        assert not torch.equal(fed[t]["weights"], fed[t - 1]["weights"]), f"the weights changed at iteration {t}"
    for t in range(4):  # and each step of Eq. 3 used the weights of its own iteration's update
        torch.testing.assert_close(used[t].cpu(), fed[t]["weights"])


def test_aw_honours_the_sample_size(tmp_path, monkeypatch):
    _, fed, _, asked = run_aw(tmp_path, monkeypatch, sample_size=7, iterations=2)
    assert [f["size"] for f in fed] == [7, 7] and len(asked) == 40 + 2 * 7


def test_a_resumed_aw_run_draws_the_same_samples_and_ends_with_the_same_weights(tmp_path):
    cfg = tiny_config(weighting="aw", aw_schedule="iteration", aw_window=2, update_interval=3, checkpoint_interval=2)
    data = (TinyFaces(64), TinyFaces(40, seed=1))
    with one_thread():
        straight = train(cfg, *data, tmp_path / "straight", max_iterations=5, progress=False)
        train(cfg, *data, tmp_path / "resumed", max_iterations=2, progress=False)
        resumed = train(cfg, *data, tmp_path / "resumed", max_iterations=5, progress=False)
    assert torch.equal(straight.weighting.weights, resumed.weighting.weights)
    assert not torch.equal(straight.weighting.weights, torch.ones(40)), "AW acted from iteration 3 on"
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_aw_samples_depend_on_seed_and_iteration_only():
    assert aw_sample_indices(19_867, 10, 0, 5) == aw_sample_indices(19_867, 10, 0, 5)
    assert aw_sample_indices(19_867, 10, 0, 5) != aw_sample_indices(19_867, 10, 0, 6)
    assert aw_sample_indices(19_867, 10, 1, 5) != aw_sample_indices(19_867, 10, 0, 5)
    assert aw_sample_indices(6, 10, 0, 0) == [0, 1, 2, 3, 4, 5], "a set smaller than the sample is taken whole"


def test_the_paper_preset_runs_aw_per_iteration_and_the_small_presets_per_validation_pass():
    paper = TrainConfig(**presets.PRESETS["paper"].train, weighting="aw")
    assert make_weighting("aw", 40, paper).schedule == "iteration" and paper.aw_sample_size == 10
    for name in ("smoke", "teach"):
        assert make_weighting("aw", 40, TrainConfig(**presets.PRESETS[name].train)).schedule == "validation"


# --- the guard: the attribute terms' share of Eq. 3 ---------------------------------------------------------------
def test_attribute_share_by_hand():
    # sum_j lambda_j L_j = 0.5 * 0.4 + 0.1 * 0.2 = 0.22; beta L_FLD = 0.5 * 1.0; share = 0.22 / 0.72
    share = attribute_share(torch.tensor([0.5, 0.1]), torch.tensor([0.4, 0.2]), 1.0, beta=0.5)
    assert share == pytest.approx(0.22 / 0.72)
    assert attribute_share(torch.tensor([0.5]), torch.tensor([0.4]), None, beta=0.5) is None, "no landmark term"


def test_training_warns_naming_the_iteration_when_the_attribute_terms_collapse(tmp_path):
    # a constructed collapse: Eq. 4 as printed (weighting "dynamic", no rescaling) starting from lambda = 1e-4, as
    # its weights stand after they collapsed; Eq. 4's first update only records, so lambda stays 1e-4
    cfg = tiny_config(weighting="dynamic", initial_lambda=1e-4, update_interval=2)
    with one_thread(), pytest.warns(AttributeShareWarning, match=r"^iteration 0 \(update t = 1\): the attribute "
                                                                 r"terms of Eq. 3 are 0\.\d\d% of the joint loss"):
        result = train(cfg, TinyFaces(64), TinyFaces(32, seed=1), tmp_path, max_iterations=1, progress=False)
    entry = result.history[0]
    attributes, landmarks = 1e-4 * sum(entry["val_attr_losses"]), 0.5 * entry["val_landmark_loss"]
    assert entry["attribute_share"] == pytest.approx(attributes / (attributes + landmarks), rel=1e-5)
    assert entry["attribute_share"] < cfg.collapse_warning_share == 0.05


def test_eq4_as_printed_collapses_on_a_tiny_run_and_the_guard_names_the_update(tmp_path):
    # Eq. 4 as printed on the tiny data: two iterations between updates change the losses by ~1.5%, so the weights
    # of the second update average ~0.016 and the attribute terms fall from ~80% to ~6% of Eq. 3
    cfg = tiny_config(update_interval=2, collapse_warning_share=0.10)
    with one_thread(), pytest.warns(AttributeShareWarning, match=r"^iteration 2 \(update t = 2\)") as caught:
        result = train(cfg, TinyFaces(64), TinyFaces(32, seed=1), tmp_path, max_iterations=3, progress=False)
    assert len(caught) == 1, "the first update (lambda = 1) does not warn"
    first, second = (h["attribute_share"] for h in result.history)
    assert first > 0.5 and second < 0.10


def test_eq4_rescaled_keeps_the_attribute_terms_and_does_not_warn(tmp_path):
    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("error", AttributeShareWarning)
        result = train(tiny_config(update_interval=2, dynamic_normalise=True), TinyFaces(64), TinyFaces(32, seed=1),
                       tmp_path, max_iterations=3, progress=False)  # fmt: skip
    assert all(h["attribute_share"] > 0.5 for h in result.history)


# --- Table 2's rows --------------------------------------------------------------------------------------------
def test_the_paper_preset_adds_eq4_rescaled_to_table2_and_the_small_presets_do_not():
    assert pipeline.table2_schemes(presets.PRESETS["paper"]) == ["UW", "DWA", "AW", "ours", "ours (rescaled)"]
    assert pipeline.table2_schemes(presets.PRESETS["teach"]) == ["UW", "DWA", "AW", "ours"]
    assert pipeline.table2_schemes(presets.PRESETS["smoke"]) == ["UW", "DWA", "AW", "ours"]


def test_ensure_scheme_trains_the_rescaled_row_as_dmm_cnn_with_dynamic_normalise(monkeypatch):
    asked = []
    monkeypatch.setattr(pipeline, "ensure_trained", lambda ctx, variant, **kw: asked.append((variant, kw)))
    pipeline.ensure_scheme(None, pipeline.TABLE2_RESCALED, progress=False, epochs=1)
    assert asked == [("DMM-CNN", {"progress": False, "dynamic_normalise": True, "epochs": 1})]
    with pytest.raises(ValueError, match=r"Table 2 has \['UW', 'DWA', 'AW', 'ours', 'ours \(rescaled\)'\]"):
        pipeline.ensure_scheme(None, "GradNorm")


def test_the_training_cli_trains_the_rows_of_the_preset():
    args = argparse.Namespace(variant=None, all=False, table1=False, table2=True, weighting=None)
    paper = train_cli.jobs(args, presets.PRESETS["paper"])
    assert ("DMM-CNN", None, (("dynamic_normalise", True),)) in paper and len(paper) == 5
    assert len(train_cli.jobs(args, presets.PRESETS["teach"])) == 4


def test_notebooks_say_which_aw_and_which_initial_weights_a_run_used_from_its_saved_config(tmp_path):
    paper = TrainConfig(**presets.PRESETS["paper"].train, weighting="aw")
    (tmp_path / "config.json").write_text(json.dumps(paper.to_dict()))
    run = pipeline.Run("AW", tmp_path, paper, [])
    assert pipeline.describe_aw(run).startswith("AW (He et al. 2017) as the paper describes it: updated every "
                                                "iteration from 10 validation images")
    assert "ResNet50_Weights.IMAGENET1K_V1" in pipeline.describe_initialisation(run)
    (tmp_path / "config.json").write_text(json.dumps({"variant": "DMM-CNN", "weighting": "aw"}))  # an older run
    assert "whole-validation passes" in pipeline.describe_aw(run) and "from scratch" in pipeline.describe_initialisation(run)
