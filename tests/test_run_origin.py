"""Notebook 10's CHECKPOINT: which run folder it names, and what data that run's model was trained on."""

from __future__ import annotations

import pytest

from dmmlib.config import TrainConfig
from dmmlib.suite import paths, presets, run_origin
from dmmlib.suite.session import ParameterError


def preset_config(name: str) -> TrainConfig:
    return TrainConfig(**presets.PRESETS[name].train)


def run_folder(root, *parts) -> object:
    folder = root.joinpath(*parts)
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"")
    return folder


def test_checkpoint_accepts_a_run_folder_or_its_file_and_empty_means_the_presets_run(tmp_path, monkeypatch):
    folder = run_folder(tmp_path, "somewhere", "DMM-CNN-abc")
    assert run_origin.resolve_checkpoint("") is None
    assert run_origin.resolve_checkpoint(str(folder)) == folder.resolve()
    assert run_origin.resolve_checkpoint(str(folder / "checkpoint.pt")) == folder.resolve()
    monkeypatch.setenv("DMM_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path / "somewhere")  # relative paths: the working folder first, then the repository root
    assert run_origin.resolve_checkpoint("DMM-CNN-abc") == folder.resolve()
    assert run_origin.resolve_checkpoint("somewhere/DMM-CNN-abc") == folder.resolve()
    assert paths.repo_root() == tmp_path.resolve()


@pytest.mark.parametrize("value", ["/no/such/run", "."])
def test_a_checkpoint_that_is_not_there_fails_naming_the_parameter(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match=r"parameter CHECKPOINT=.*checkpoint\.pt"):
        run_origin.resolve_checkpoint(value)


@pytest.mark.parametrize(("preset", "data"), [("smoke", "synthetic"), ("teach", "synthetic"), ("paper", "real")])
def test_a_run_in_a_presets_folder_has_that_presets_data(tmp_path, preset, data):
    folder = run_folder(tmp_path, "runs", preset, "models", "DMM-CNN-abc")
    found = run_origin.origin(folder, TrainConfig())  # the folder decides, whatever the network
    assert (found.data, found.preset) == (data, preset)
    assert f"{preset} preset" in found.evidence


@pytest.mark.parametrize(("preset", "data"), [("smoke", "synthetic"), ("teach", "synthetic"), ("paper", "real")])
def test_a_run_elsewhere_is_known_by_its_presets_network(tmp_path, preset, data):
    found = run_origin.origin(run_folder(tmp_path, "copied"), preset_config(preset))
    assert (found.data, found.preset) == (data, preset)
    assert "network" in found.evidence


def test_the_statement_says_plainly_when_the_faces_were_synthetic_and_admits_ignorance(tmp_path):
    synthetic = run_origin.origin(run_folder(tmp_path, "runs", "teach", "models", "a"), preset_config("teach"))
    assert synthetic.synthetic and "TRAINED ON SYNTHETIC DRAWN FACES" in synthetic.statement()
    real = run_origin.origin(run_folder(tmp_path, "runs", "paper", "models", "a"), preset_config("paper"))
    assert not real.synthetic and "real CelebA photographs" in real.statement()
    odd = run_origin.origin(run_folder(tmp_path, "mine"), TrainConfig(backbone="resnet-small", input_size=(120, 100)))
    assert odd.data == "unknown" and "not known" in odd.statement()
