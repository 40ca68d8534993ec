"""The guard against hours of unannounced CPU work (dmmlib.suite.cpu_guard): who it stops, what it says, how to pass.

Notebook 10 stopped by it under the paper preset is in tests/test_paper_check.py; the paper-check suite there passes
it by ``DMM_TRAIN_ON_CPU=1``.
"""

from __future__ import annotations

import pytest

from dmmlib.config import TrainConfig
from dmmlib.suite import cpu_guard, presets, session

pytestmark = pytest.mark.skipif(presets.cuda_available(), reason="the guard acts only without CUDA")

#: the paper-check network, on two images: a real measurement in a few seconds
SMALL = TrainConfig(**presets.PRESETS["paper-check"].train)


def test_the_cpu_presets_train_without_a_measurement(tmp_path, monkeypatch):
    monkeypatch.delenv(cpu_guard.ENV, raising=False)

    def no_measurement(*args, **kwargs):
        raise AssertionError("a CPU preset's run was measured")

    monkeypatch.setattr(cpu_guard, "measure", no_measurement)  # a condition, not a timer: nothing is measured
    for name in ("smoke", "teach"):
        preset = presets.PRESETS[name]
        assert cpu_guard.check(preset, TrainConfig(**preset.train), 10**6, 10**5, what="x", models_dir=tmp_path) is None


def test_a_gpu_preset_on_the_cpu_stops_with_an_estimate_from_measured_steps(tmp_path, monkeypatch):
    monkeypatch.delenv(cpu_guard.ENV, raising=False)
    with pytest.raises(cpu_guard.CPUTrainingStopped) as stopped:
        cpu_guard.check(presets.PRESETS["paper-check"], SMALL, 162_770, 19_867, what="run X", models_dir=tmp_path)
    estimate = stopped.value.estimate
    assert estimate.forward_backward > 0 and estimate.optimizer > 0 and estimate.forward_per_image > 0
    assert estimate.iterations == 162_770 // 4 + 1 and estimate.validation_passes == estimate.iterations // 3 + 1
    message = str(stopped.value)
    assert message.startswith("run X was not started: the paper-check preset's recipe is meant for a GPU")
    assert str(tmp_path) in message and "TRAIN_ON_CPU=True" in message and f"{cpu_guard.ENV}=1" in message


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_the_environment_variable_lets_it_train(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv(cpu_guard.ENV, value)
    assert cpu_guard.check(presets.PRESETS["paper"], SMALL, 10**6, 10**5, what="run X", models_dir=tmp_path) is None
    assert f"as {cpu_guard.ENV}={value} asks" in capsys.readouterr().out


def test_the_notebook_parameter_lets_it_train(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cpu_guard.ENV, "0")  # not a yes
    assert cpu_guard.check(presets.PRESETS["paper"], SMALL, 10**6, 10**5, what="run X", models_dir=tmp_path,
                           allowed=True) is None  # fmt: skip
    assert "as TRAIN_ON_CPU=True asks" in capsys.readouterr().out


def test_the_estimate_adds_steps_scaled_to_the_batch_validation_passes_and_aw_samples():
    estimate = cpu_guard.Estimate(measured_batch=2, forward_backward=1.0, optimizer=0.5, forward_per_image=0.1,
                                  batch_size=64, iterations=100, validation_passes=3, validation_images=50,
                                  aw_images=10)  # fmt: skip
    assert estimate.step_seconds == 32.5
    assert estimate.training_seconds == pytest.approx(100 * (32.5 + 1.0))
    assert estimate.validation_seconds == pytest.approx(15.0)
    assert "about 56 min in all" in estimate.sentence()


def test_train_on_cpu_must_be_a_bool():
    with pytest.raises(session.ParameterError, match="TRAIN_ON_CPU must be True or False, got 'yes'"):
        session.start("nb", PRESET="smoke", TRAIN_ON_CPU="yes")
    assert session.start("nb", PRESET="smoke", TRAIN_ON_CPU=True).train_on_cpu is True
