"""Notebook 10's CHECKPOINT: which run folder it names, and what data that run's model was trained on."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dmmlib.config import TrainConfig
from dmmlib.suite import paths, presets, run_origin
from dmmlib.suite.session import ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import one_thread, tiny_config  # noqa: E402
from data_fixtures import synthetic_celeba, synthetic_lfwa  # noqa: E402, F401  (fixtures, used by parameter name)


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


# --- the run's own record of its data (config.json) -----------------------------------------------------------------
def test_a_run_trained_now_records_its_dataset_and_a_run_without_the_record_still_loads(synthetic_celeba, tmp_path):
    import json
    import shutil

    from dmmlib import train
    from dmmlib.data import transforms
    from dmmlib.data.celeba import CelebA

    cfg = tiny_config(update_interval=2, batch_size=8)
    sets = [CelebA(synthetic_celeba, split, transforms.eval_transform(cfg.input_size), landmarks="file")
            for split in ("train", "valid")]  # fmt: skip
    with one_thread():
        result = train.train(cfg, *sets, tmp_path / "run", max_iterations=2, progress=False)
    saved = json.loads((result.run_dir / train.CONFIG_NAME).read_text())
    assert saved[train.DATASET_KEY] == {
        "kind": "celeba", "source": "synthetic", "root": str(synthetic_celeba), "data_seed": 0, "num_images": 60,
        "knobs": {"split_fractions": saved["dataset"]["knobs"]["split_fractions"], "label_noise": 0.1,
                  "imbalance": 1.0, "geometry_strength": 1.0},
    }  # fmt: skip
    found = run_origin.origin(result.run_dir, cfg)  # its network matches no preset: only the record can tell
    assert (found.data, found.dataset_source) == ("synthetic", run_origin.RECORDED)
    assert f"synthetic CelebA-format data from {synthetic_celeba}, data seed 0" in found.evidence

    older = tmp_path / "runs" / "smoke" / "models" / "DMM-CNN-old"  # as trained before runs recorded their data
    shutil.copytree(result.run_dir, older)
    del saved[train.DATASET_KEY]
    (older / train.CONFIG_NAME).write_text(json.dumps(saved))
    model, tau, loaded_cfg, history = train.load_run(older)
    assert loaded_cfg == cfg and len(history) == len(result.history)
    guessed = run_origin.origin(older, loaded_cfg)
    assert (guessed.data, guessed.preset, guessed.dataset_source) == ("synthetic", "smoke", run_origin.GUESSED)
    assert guessed.evidence.startswith("guessed from folder layout: its folder belongs to the smoke preset")
    assert run_origin.recorded_dataset(older) is None


def test_a_real_dataset_is_recorded_as_real_with_the_root_as_given(tmp_path):
    from dmmlib.data import source

    assert source.record("celeba", "~/data/celeba", tmp_path) == {"kind": "celeba", "source": "real",
                                                                  "root": "~/data/celeba"}  # fmt: skip
    recorded = {"kind": "celeba", "source": "real", "root": "/data/CelebA"}
    (tmp_path / "config.json").write_text(__import__("json").dumps({"variant": "DMM-CNN", "dataset": recorded}))
    found = run_origin.origin(tmp_path, TrainConfig())
    assert (found.data, found.dataset_source, found.dataset) == ("real", run_origin.RECORDED, recorded)
    assert "real CelebA from /data/CelebA" in found.evidence and "real CelebA photographs" in found.statement()


def test_an_lfwa_split_records_itself_as_lfwa(synthetic_lfwa):
    from dmmlib.data import source
    from dmmlib.data.lfwa import LFWA, synthetic_landmarks

    found = source.of(LFWA(synthetic_lfwa, "test", landmarks=synthetic_landmarks(synthetic_lfwa)))
    assert (found["kind"], found["source"], found["root"], found["data_seed"]) == ("lfwa", "synthetic",
                                                                                  str(synthetic_lfwa), 0)  # fmt: skip
