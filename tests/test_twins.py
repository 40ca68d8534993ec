"""A FIX variant is written from its AT twin's run instead of trained (dmmlib/suite/twins.py): tau never enters
training, so the two trainings are the same. These tests train a FIX variant both ways and compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from dmmlib.checkpoint import load_checkpoint
from dmmlib.suite import pipeline, twins
from dmmlib.train import train

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

ITERATIONS, P = 100, 25


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """DMM-EQ-AT and DMM-EQ-FIX trained separately (gamma 2, so Eq. 6 moves tau far), and the FIX run written
    from the AT run."""
    root = tmp_path_factory.mktemp("twins")
    with one_thread():
        for variant in ("DMM-EQ-AT", "DMM-EQ-FIX"):
            result = train(tiny_config(variant=variant, update_interval=P, gamma=2.0), TinyFaces(256),
                           TinyFaces(64, seed=1), root / variant, max_iterations=ITERATIONS, progress=False)  # fmt: skip
            pipeline.mark_complete(root / variant, result)
    twins.write_fixed_twin(root / "DMM-EQ-AT", root / "written", "DMM-EQ-FIX")
    return root


def test_each_fix_variant_with_eq6_as_its_only_difference_has_a_twin():
    assert twins.adaptive_twin("DMM-EQ-FIX") == "DMM-EQ-AT"
    assert twins.adaptive_twin("DMM-DW-FIX") == "DMM-CNN"
    assert twins.adaptive_twin("Baseline") is None  # no linear-head variant has Eq. 6
    assert twins.adaptive_twin("DMM-CNN") is None  # an AT variant is trained, never written


def test_the_at_run_moved_tau_so_the_accuracies_at_tau_and_at_zero_differ(trained):
    history = json.loads((trained / "DMM-EQ-AT" / "history.json").read_text())
    assert any(abs(t) > 0.01 for entry in history for t in entry["tau"])
    assert any(entry["val_accuracy"] != entry[twins.ACCURACY_AT_ZERO] for entry in history)


def test_the_written_run_has_the_weights_of_the_fix_run_trained_itself(trained):
    written, itself = (load_checkpoint(trained / name) for name in ("written", "DMM-EQ-FIX"))
    assert written["model"].keys() == itself["model"].keys()
    for key, value in itself["model"].items():
        assert torch.equal(written["model"][key], value), key
    assert torch.equal(written["thresholds"]["tau"], itself["thresholds"]["tau"])
    assert written["config"]["variant"] == "DMM-EQ-FIX"


def test_the_written_run_has_the_history_of_the_fix_run_trained_itself(trained):
    def without_timing(path: Path) -> list[dict]:
        return [{k: v for k, v in entry.items() if k != "val_seconds"} for entry in json.loads(path.read_text())]

    written = without_timing(trained / "written" / "history.json")
    assert written == without_timing(trained / "DMM-EQ-FIX" / "history.json")
    assert len(written) == ITERATIONS // P


def test_the_written_run_names_the_run_it_shares_its_training_with(trained):
    config = json.loads((trained / "written" / "config.json").read_text())
    assert config["variant"] == "DMM-EQ-FIX" and config[twins.TRAINED_AS] == "DMM-EQ-AT"


def test_a_run_of_another_variant_or_without_the_accuracies_at_zero_gives_no_twin(trained, tmp_path):
    with pytest.raises(ValueError, match="not of 'DMM-CNN'"):
        twins.write_fixed_twin(trained / "DMM-EQ-AT", tmp_path / "x", "DMM-DW-FIX")
    old = [{k: v for k, v in entry.items() if k != twins.ACCURACY_AT_ZERO}
           for entry in json.loads((trained / "DMM-EQ-AT" / "history.json").read_text())]  # fmt: skip
    assert not twins.can_give_twin(old) and not twins.can_give_twin([])
