"""A run whose training loss becomes NaN is an outcome: reported with its iteration and Eq. 4 weights, marked in its
folder so that asking again does not train into it again, and skipped by the loops that compare variants."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dmmlib.suite import pipeline
from dmmlib.train import train

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402
from test_nan_and_checkpoints import BAD_ITERATION, BATCH, TurnsBad  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


def diverging(run_dir: Path):
    cfg = tiny_config(batch_size=BATCH, update_interval=3, epochs=2, dynamic_normalise=True)
    return train(cfg, TurnsBad(64, after=BAD_ITERATION * BATCH, value=float("nan")), TinyFaces(16, seed=1), run_dir,
                 progress=False)  # fmt: skip


def test_a_diverging_run_is_reported_with_its_iteration_and_last_weights(tmp_path):
    with pytest.raises(
        pipeline.RunDiverged, match=rf"DMM-CNN diverged: .* iteration {BAD_ITERATION}\b"
    ) as caught:
        pipeline._train_once("DMM-CNN", tmp_path, tiny_config(), diverging)
    info = caught.value.info
    assert info["iteration"] == BAD_ITERATION and info["last_update_iteration"] == 6
    assert info["lambda_mean"] == pytest.approx(1.0) and info["lambda_max"] >= 1.0 and info["lr"] > 0
    assert json.loads((tmp_path / pipeline.DIVERGED).read_text()) == info
    assert not pipeline.is_complete(tmp_path)


def test_asking_again_reports_the_divergence_without_training(tmp_path):
    with pytest.raises(pipeline.RunDiverged):
        pipeline._train_once("DMM-CNN", tmp_path, tiny_config(), diverging)

    def must_not_train(run_dir: Path):
        raise AssertionError("a diverged run was trained again")

    with pytest.raises(pipeline.RunDiverged, match=f"delete {pipeline.DIVERGED}"):
        pipeline._train_once("DMM-CNN", tmp_path, tiny_config(), must_not_train)
