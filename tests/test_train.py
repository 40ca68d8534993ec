"""Algorithm 1 on a tiny learnable dataset: updates every P iterations, one validation pass each, learning,
exact resume in a fresh process, checkpoints, fine-tuning and the config that drives it all."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import dmmlib.train
import dmmlib.validation
from dmmlib.config import TrainConfig
from dmmlib.losses import attribute_losses
from dmmlib.metrics import false_positive_negative_counts
from dmmlib.train import NonFiniteLossError, load_run, predict_dataset, train, validate

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

ITERATIONS, P = 200, 25


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One DMM-CNN run of 200 iterations with P = 25, counting the calls of ``validate``."""
    calls = []

    def counting_validate(*args, **kwargs):
        calls.append(1)
        return validate(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dmmlib.train, "validate", counting_validate)
        result = train(
            tiny_config(update_interval=P), TinyFaces(256), TinyFaces(64, seed=1),
            tmp_path_factory.mktemp("run"), max_iterations=ITERATIONS, progress=False,
        )  # fmt: skip
    return result, len(calls)


def test_an_update_happens_every_p_iterations_from_iteration_zero(run):
    result, _ = run
    assert [h["iteration"] for h in result.history] == list(range(0, ITERATIONS, P))
    assert [h["t"] for h in result.history] == list(range(1, ITERATIONS // P + 1))


def test_exactly_one_validation_pass_per_update(run):
    result, calls = run
    assert calls == result.validation_passes == len(result.history)
    assert [h["validation_passes"] for h in result.history] == list(range(1, len(result.history) + 1))


def test_history_has_lambda_tau_and_losses_per_attribute(run):
    entry = run[0].history[-1]
    for key in ("lambda", "tau", "val_attr_losses", "val_accuracy"):
        assert len(entry[key]) == 40
    assert entry["val_landmark_loss"] is not None and entry["lr"] > 0


def test_mean_validation_loss_falls(run):
    losses = [h["val_mean_loss"] for h in run[0].history]
    assert losses[-1] < 0.9 * losses[0]


def test_lambda_is_one_until_the_second_update_then_follows_eq4(run):
    first, second = run[0].history[:2]
    assert first["lambda"] == [1.0] * 40
    expected = [abs(b - a) / a for a, b in zip(first["val_attr_losses"], second["val_attr_losses"])]
    assert second["lambda"] == pytest.approx(expected, rel=1e-5)


def test_tau_moves_by_eq6_with_the_epoch_as_factor(run):
    result, _ = run
    # 256 images / batch 16 = 16 iterations per epoch; l counts from 1
    assert [h["epoch"] for h in result.history] == [1 + it // 16 for it in range(0, ITERATIONS, P)]
    assert any(t != 0.0 for t in result.history[0]["tau"])


def test_history_json_and_checkpoint_are_written(run):
    result, _ = run
    saved = json.loads((result.run_dir / "history.json").read_text())
    assert [h["iteration"] for h in saved] == [h["iteration"] for h in result.history]
    assert (result.run_dir / "checkpoint.pt").exists()


def test_checkpoint_loads_weights_only(run):
    ckpt = torch.load(run[0].run_dir / "checkpoint.pt", weights_only=True)
    assert ckpt["state"]["iteration"] == ITERATIONS


def test_load_run_gives_the_trained_model_and_thresholds(run):
    result, _ = run
    model, tau, cfg, history = load_run(result.run_dir)
    assert (
        torch.equal(tau, result.thresholds.tau)
        and cfg.update_interval == P
        and len(history) == len(result.history)
    )
    assert torch.equal(model.trunk.conv1.weight, result.model.trunk.conv1.weight)


def test_validate_matches_eq2_and_the_counts_on_all_outputs(run):
    result, _ = run
    val_set = TinyFaces(40, seed=2)
    tau = torch.linspace(-0.2, 0.2, 40)
    val = validate(result.model, val_set, tiny_config(val_batch_size=16), tau, return_outputs=True)
    targets = val_set.attributes
    fp, fn = false_positive_negative_counts(val.outputs, targets, tau)
    assert val.attr_losses.tolist() == pytest.approx(
        attribute_losses(val.outputs, targets).tolist(), rel=1e-5
    )
    assert val.false_positives.tolist() == fp.tolist() and val.false_negatives.tolist() == fn.tolist()
    assert val.num_samples == 40


def test_predict_dataset_returns_outputs_in_dataset_order(run):
    result, _ = run
    dataset = TinyFaces(10, seed=3)
    outputs = predict_dataset(result.model, dataset, batch_size=4)
    with torch.no_grad():
        direct = result.model.eval()(dataset.images).attributes
    assert outputs.shape == (10, 40) and torch.allclose(torch.from_numpy(outputs), direct, atol=1e-5)


RESUME_SCRIPT = """
import sys
import torch
torch.set_num_threads(1)  # as in the test process: the same thread count gives the same float reductions
sys.path.insert(0, {tests!r})
from core_helpers import TinyFaces, tiny_config
from dmmlib.train import train
train(tiny_config(update_interval=10), TinyFaces(96), TinyFaces(32, seed=1), {run_dir!r},
      max_iterations={total}, progress=False)
"""


def test_resume_in_a_fresh_process_continues_exactly(tmp_path):
    total, cfg = 40, tiny_config(update_interval=10)  # 96 / 16 = 6 iterations per epoch: resumes mid-epoch
    straight = train(
        cfg, TinyFaces(96), TinyFaces(32, seed=1), tmp_path / "a", max_iterations=total, progress=False
    )
    train(
        cfg, TinyFaces(96), TinyFaces(32, seed=1), tmp_path / "b", max_iterations=total // 2, progress=False
    )
    script = RESUME_SCRIPT.format(tests=str(Path(__file__).parent), run_dir=str(tmp_path / "b"), total=total)
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True)

    resumed = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert resumed["state"]["iteration"] == total
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed["model"][name], value), name
    assert torch.equal(resumed["weighting"]["weights"], straight.weighting.weights)
    assert torch.equal(resumed["thresholds"]["tau"], straight.thresholds.tau)


def test_resume_refuses_a_changed_model_config(tmp_path):
    train(tiny_config(), TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=1, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train(tiny_config(lr=0.5), TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=2, progress=False)


def test_a_checkpoint_older_than_a_config_field_resumes_under_the_fields_default(tmp_path):
    train(tiny_config(), TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=1, progress=False)
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    del checkpoint["config"]["flip_probability"], checkpoint["config"]["lfwa_crop_to_aspect"]  # fields added later
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    assert train(tiny_config(), TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=2, progress=False).iterations == 2
    with pytest.raises(ValueError, match="flip_probability"):
        train(tiny_config(flip_probability=0.0), TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=3,
              progress=False)  # fmt: skip


def test_without_a_validation_set_updates_use_the_update_set(tmp_path):
    data = TinyFaces(32)
    result = train(tiny_config(update_interval=2), data, None, tmp_path, update_set=data, max_iterations=3,
                   progress=False)  # fmt: skip
    assert [h["iteration"] for h in result.history] == [0, 2]


def test_train_needs_a_validation_or_update_set(tmp_path):
    with pytest.raises(ValueError, match="update_set"):
        train(tiny_config(), TinyFaces(32), None, tmp_path, max_iterations=1, progress=False)


def test_dwa_updates_once_per_epoch_from_training_losses(tmp_path):
    # 32 images / batch 16 = 2 iterations per epoch; DWA weights change after epoch 2, i.e. from iteration 4
    result = train(tiny_config(weighting="dwa", update_interval=2), TinyFaces(32), TinyFaces(16), tmp_path,
                   max_iterations=7, progress=False)  # fmt: skip
    lambdas = {h["iteration"]: h["lambda"] for h in result.history}
    assert lambdas[0] == lambdas[2] == [1.0] * 40
    assert lambdas[4] != [1.0] * 40 and sum(lambdas[4]) == pytest.approx(40.0, rel=1e-5)


def test_init_from_copies_model_weights_only(tmp_path, run):
    source = run[0]
    result = train(tiny_config(update_interval=P), TinyFaces(32), TinyFaces(16), tmp_path, init_from=source.run_dir,
                   max_iterations=0, progress=False)  # fmt: skip
    assert torch.equal(result.model.trunk.conv1.weight, source.model.trunk.conv1.weight)
    assert result.history == [] and result.thresholds.tau.tolist() == [0.0] * 40


class _NaNLandmarks(TinyFaces):
    def __getitem__(self, i):
        item = super().__getitem__(i)
        item["landmarks"] = torch.full_like(item["landmarks"], float("nan"))
        return item


def test_a_nan_loss_stops_training_naming_the_iteration_and_writes_no_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match="iteration 0"):
        train(tiny_config(), _NaNLandmarks(32), TinyFaces(16), tmp_path, max_iterations=3, progress=False)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_config_round_trips_through_json():
    cfg = TrainConfig(variant="DMM-SPP", objective_hidden=(7,), input_size=(64, 52))
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


def test_config_rejects_unknown_fields():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_default_update_interval_keeps_validation_within_5_percent_of_training():
    cfg = TrainConfig()
    # one validation image costs one forward pass, one training image three (forward + backward)
    assert 19_867 / (cfg.update_interval * cfg.batch_size * 3) <= 0.05
    assert cfg.update_interval == 2100


def _counting_loaders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each DataLoader the trainer and the validation pass build ("train" / "validation")."""
    built: list[str] = []

    def counting(module, name):
        class Counting(torch.utils.data.DataLoader):
            def __init__(self, *args, **kwargs):
                built.append(name)
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(module, "DataLoader", Counting)

    counting(dmmlib.train, "train")
    counting(dmmlib.validation, "validation")
    return built


def test_persistent_workers_serve_every_epoch_and_update_from_one_loader_each(tmp_path, monkeypatch):
    built = _counting_loaders(monkeypatch)
    # 32 images / batch 16: 3 epochs of 2 iterations, an update every 2 iterations
    cfg = tiny_config(update_interval=2, num_workers=1, persistent_workers=True)
    train(cfg, TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=6, progress=False)
    assert sorted(built) == ["train", "validation"]


def test_without_persistent_workers_each_epoch_builds_its_training_loader(tmp_path, monkeypatch):
    built = _counting_loaders(monkeypatch)
    cfg = tiny_config(update_interval=2, num_workers=1, persistent_workers=False)
    train(cfg, TinyFaces(32), TinyFaces(16), tmp_path, max_iterations=6, progress=False)
    assert built.count("train") == 3


def test_a_run_fed_by_persistent_workers_equals_one_fed_by_the_main_process(tmp_path):
    results = [
        train(tiny_config(update_interval=2, num_workers=workers), TinyFaces(32), TinyFaces(16),
              tmp_path / str(workers), max_iterations=6, progress=False)
        for workers in (0, 1)
    ]  # fmt: skip
    for (name, a), b in zip(results[0].model.state_dict().items(), results[1].model.state_dict().values()):
        assert torch.equal(a, b), name
    assert results[0].thresholds.tau.tolist() == results[1].thresholds.tau.tolist()


def test_each_update_records_the_gradient_norms_both_parts_of_eq3_send_to_the_trunk(run):
    """Both norms at every update; both positive at the first, where every unit of the fresh heads is alive.

    Later a norm may be exactly 0: in this tiny run the 32 ReLU units of the landmark branch can all die (on one
    machine they did from iteration 100 on, one thread; on another they did not), and then Eq. 1 sends the trunk
    nothing. That is what the run did, not a fault of the measurement, so only the first update is held to > 0.
    """
    history = run[0].history
    for entry in history:
        for part in ("grad_norm_attributes", "grad_norm_landmarks"):
            assert math.isfinite(entry[part]) and entry[part] >= 0, (entry["iteration"], part, entry[part])
    assert history[0]["grad_norm_attributes"] > 0 and history[0]["grad_norm_landmarks"] > 0


def test_measuring_the_gradient_norms_leaves_the_run_unchanged(tmp_path, monkeypatch):
    def short_run(folder: Path):
        return train(tiny_config(update_interval=10), TinyFaces(64), TinyFaces(32, seed=1), folder,
                     max_iterations=30, progress=False)  # fmt: skip

    measured = short_run(tmp_path / "measured")
    monkeypatch.setattr(dmmlib.train._Trainer, "_keep_trunk_output", lambda *args: None)
    plain = short_run(tmp_path / "plain")
    assert "grad_norm_attributes" in measured.history[-1] and "grad_norm_attributes" not in plain.history[-1]
    for a, b in zip(measured.model.state_dict().values(), plain.model.state_dict().values()):
        assert torch.equal(a, b)


def test_a_run_without_a_landmark_branch_records_only_the_attribute_part(tmp_path):
    result = train(tiny_config(variant="Baseline", update_interval=10), TinyFaces(64), TinyFaces(32, seed=1),
                   tmp_path, max_iterations=20, progress=False)  # fmt: skip
    assert all("grad_norm_landmarks" not in h and h["grad_norm_attributes"] > 0 for h in result.history)


def test_the_final_lr_fraction_cuts_the_lr_once_at_its_share_of_the_budget(tmp_path):
    # 32 images / batch 16 = 2 iterations per epoch, 5 epochs = 10 iterations; the last 0.4 start at iteration 6
    cfg = tiny_config(epochs=5, update_interval=1, final_lr_fraction=0.4, lr=0.01, lr_factor=0.1)
    result = train(cfg, TinyFaces(32), TinyFaces(16), tmp_path, progress=False)
    lrs = {h["iteration"]: h["lr"] for h in result.history}
    assert [lrs[i] for i in range(10)] == pytest.approx([0.01] * 6 + [0.001] * 4)


@pytest.mark.parametrize("stop", [4, 8])  # interrupted before the cut (at iteration 6) and after it
def test_a_resumed_run_cuts_the_lr_exactly_as_an_uninterrupted_one(tmp_path, stop):
    cfg = tiny_config(epochs=5, update_interval=2, final_lr_fraction=0.4)
    straight = train(cfg, TinyFaces(32), TinyFaces(16), tmp_path / "a", progress=False)
    train(cfg, TinyFaces(32), TinyFaces(16), tmp_path / "b", max_iterations=stop, progress=False)
    resumed = train(cfg, TinyFaces(32), TinyFaces(16), tmp_path / "b", progress=False)
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_config_refuses_a_final_lr_fraction_outside_0_to_1():
    with pytest.raises(ValueError, match="final_lr_fraction"):
        tiny_config(final_lr_fraction=1.0)
