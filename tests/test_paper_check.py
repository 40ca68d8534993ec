"""The paper path in ``make test``: every notebook of the manifest, headless under papermill, with the paper's code
paths on small real-format data, as ``make paper DATA_DIR=... LFWA_DIR=... WEIGHTS=...`` runs them.

The ``paper-check`` preset is the ``paper`` preset with its sizes shrunk by :func:`dmmlib.suite.presets.shrunk` and
nothing else changed (checked here field by field). The data are drawn by the generator and written in the formats
as released, without the files only synthetic copies carry (:func:`data_fixtures.real_format_copies`): CelebA in the
official layout with its images in ``Img/img_align_celeba.zip``, LFWA with its ``.mat`` files and both image
folders. The trunk starts from a ResNet-50 state dict written here (``DMM_WEIGHTS``, as ``make paper WEIGHTS=...``
sets it), loaded and checked as a downloaded file would be. Training on this CPU is asked for explicitly
(``DMM_TRAIN_ON_CPU=1``): without it the paper presets stop before training, which the last test shows on notebook
10 under the ``paper`` preset itself.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import papermill
import pytest
import torch

from dmmlib.config import TrainConfig
from dmmlib.data.celeba import CelebA
from dmmlib.data.transforms import eval_transform
from dmmlib.suite import cpu_guard, manifest, paths, pipeline, presets, runner

sys.path.insert(0, str(Path(__file__).parent))
from data_fixtures import imagenet_style_resnet50, real_format_copies  # noqa: E402

PAPER, CHECK = presets.PRESETS["paper"], presets.PRESETS["paper-check"]
#: what names a derived preset and bounds its time (shrunk's keyword arguments); everything else must equal paper's
NAMING = {"name", "description", "where", "budget", "cell_timeout", "caveat"}


# --- paper-check is paper with smaller sizes, and nothing else ------------------------------------------------------
def _configs(preset: presets.Preset) -> dict[str, TrainConfig]:
    return {"train": TrainConfig(**preset.train), "finetune": TrainConfig(**{**preset.train, **preset.finetune})}


def test_paper_check_differs_from_paper_only_in_sizes_and_naming():
    for part, config in _configs(CHECK).items():
        paper = _configs(PAPER)[part].to_dict()
        changed = {k for k, v in config.to_dict().items() if v != paper[k]}
        assert changed and changed <= presets.SIZE_FIELDS, f"{part}: {sorted(changed - presets.SIZE_FIELDS)}"
    preset_fields = {f.name for f in dataclasses.fields(presets.Preset)} - NAMING - {"train", "finetune"}
    assert {f: getattr(CHECK, f) for f in preset_fields} == {f: getattr(PAPER, f) for f in preset_fields}
    assert CHECK.data == "real" and CHECK.needs_gpu


def test_paper_check_only_shrinks():
    for part, config in _configs(CHECK).items():
        paper = _configs(PAPER)[part]
        for name in presets.SIZE_FIELDS:
            assert presets._no_larger(getattr(config, name), getattr(paper, name)), (part, name)


def test_shrunk_refuses_a_method_choice_and_a_size_that_grows():
    with pytest.raises(ValueError, match="train field 'dynamic_normalise' is not a size"):
        presets.shrunk(PAPER, "x", {"dynamic_normalise": True}, {}, description="", where="", budget="",
                       cell_timeout=None, caveat="")  # fmt: skip
    with pytest.raises(ValueError, match="finetune epochs=6 does not shrink paper's 5"):
        presets.shrunk(PAPER, "x", {}, {"epochs": 6}, description="", where="", budget="", cell_timeout=None,
                       caveat="")  # fmt: skip
    with pytest.raises(ValueError, match="subjective_hidden=\\(32,\\) does not shrink"):  # a layer fewer: not a size
        presets.shrunk(PAPER, "x", {"subjective_hidden": (32,)}, {}, description="", where="", budget="",
                       cell_timeout=None, caveat="")  # fmt: skip


# --- the data, the weights and the whole suite --------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_data(tmp_path_factory) -> dict[str, Path]:
    """Real-format CelebA (40 images: 32 / 4 / 4) and LFWA (24 identities), and the initial weights file."""
    root = tmp_path_factory.mktemp("paper-check")
    celeba, lfwa = real_format_copies(root, celeba_images=40, lfwa_images=24)
    train = CelebA(celeba, "train", eval_transform(CHECK.train["input_size"]))
    images = torch.stack([train[i]["image"] for i in range(len(train))])
    weights = imagenet_style_resnet50(root / "resnet50-initial.pth", images)
    return {"celeba": celeba, "lfwa": lfwa, "weights": weights, "root": root}


@pytest.fixture
def isolated(real_data, monkeypatch):
    """Runs, executed notebooks and the command line of the records under the test's folder; no preset override."""
    monkeypatch.setenv("DMM_RUNS_DIR", str(real_data["root"] / "runs"))
    monkeypatch.setenv("DMM_BUILD_DIR", str(real_data["root"] / "build"))
    monkeypatch.setenv("DMM_COMMAND", "pytest tests/test_paper_check.py")
    monkeypatch.delenv("DMM_PRESET", raising=False)
    monkeypatch.delenv(cpu_guard.ENV, raising=False)
    monkeypatch.delenv("DMM_WEIGHTS", raising=False)
    return real_data


def test_notebook_00_passes_with_both_data_dir_and_lfwa_dir_under_the_paper_preset(isolated, tmp_path):
    out = tmp_path / "00.ipynb"
    papermill.execute_notebook(
        str(paths.notebooks_dir() / "00_setup_check.ipynb"), str(out), kernel_name="python3",
        parameters={"PRESET": "paper", "DATA_DIR": str(isolated["celeba"]), "LFWA_DIR": str(isolated["lfwa"])},
        cwd=str(paths.notebooks_dir()), progress_bar=False,
    )  # fmt: skip
    report = json.loads((isolated["root"] / "runs" / "paper" / "results" / "00_setup_check.json").read_text())
    assert report["results"]["datasets"] == {"celeba": str(isolated["celeba"]), "lfwa": str(isolated["lfwa"])}


@pytest.fixture(scope="module")
def suite(real_data) -> dict:
    """Every notebook of the manifest with the paper-check preset, as ``make run PRESET=paper-check DATA_DIR=...
    LFWA_DIR=...`` runs them (:func:`dmmlib.suite.runner.run_suite`), training on this CPU by ``DMM_TRAIN_ON_CPU=1``
    and starting from the weights file by ``DMM_WEIGHTS``. Records its wall time."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMM_RUNS_DIR", str(real_data["root"] / "runs"))
        mp.setenv("DMM_BUILD_DIR", str(real_data["root"] / "build"))
        mp.setenv("DMM_WEIGHTS", str(real_data["weights"]))
        mp.setenv(cpu_guard.ENV, "1")
        mp.setenv("DMM_COMMAND", "pytest tests/test_paper_check.py")
        mp.delenv("DMM_PRESET", raising=False)
        started = time.perf_counter()
        try:
            executed = runner.run_suite("paper-check", str(real_data["celeba"]), str(real_data["lfwa"]), jobs=1)
        except SystemExit as failure:  # the runner names the notebook and cell that failed
            pytest.fail(str(failure))
        seconds = time.perf_counter() - started
    print(f"paper-check suite: {seconds:.0f} s")
    runs = real_data["root"] / "runs" / "paper-check"
    results = {p.stem: json.loads(p.read_text()) for p in (runs / "results").glob("*.json")}
    return {"executed": executed, "runs": runs, "results": results, "seconds": seconds, **real_data}


def _saved_configs(runs: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (runs / "models").glob("*/config.json")}


def test_every_notebook_of_the_manifest_finishes(suite):
    timings = json.loads((suite["executed"] / "suite.json").read_text())["notebooks"]
    assert list(timings) == [entry.file for entry in manifest.load()]
    assert set(suite["results"]) == {entry.stem for entry in manifest.load()}, "each notebook saved its results"


def test_every_record_says_real_data_and_the_paper_check_preset(suite):
    for name, record in suite["results"].items():
        provenance = record["provenance"]
        assert provenance["preset"] == "paper-check", name
        assert provenance["dataset"] == f"real CelebA from {suite['celeba']}", name


def test_the_runs_keep_the_paper_presets_choices(suite):
    saved = _saved_configs(suite["runs"])
    celeba_runs = {name: c for name, c in saved.items() if not name.startswith("LFWA-")}
    assert len(celeba_runs) == 10, sorted(saved)  # seven Table 1 variants, and DWA, AW, rescaled Eq. 4 for Table 2
    weights = str(suite["weights"].resolve())
    for name, config in saved.items():
        assert config["backbone"] == "resnet50" and config["pretrained"] == weights, name
        assert tuple(config["input_size"]) == CHECK.train["input_size"], name
    rescaled = [n for n, c in celeba_runs.items() if c["dynamic_normalise"]]
    assert len(rescaled) == 1 and rescaled[0].startswith("DMM-CNN-"), "Eq. 4 as printed, but for Table 2's extra row"
    (aw,) = [c for c in celeba_runs.values() if c["weighting"] == "aw"]
    assert (aw["aw_schedule"], aw["aw_sample_size"]) == ("iteration", 10), "AW every iteration from 10 images"


def test_the_runs_started_from_the_given_weights_file(suite):
    record = (suite["runs"] / "results" / "03_build_model.json").read_text()
    assert f"the local weights file {suite['weights'].resolve()}" in record


def test_table2_has_its_five_rows(suite):
    summary = suite["results"]["07_compare_weighting"]["results"]["summary"]
    assert list(summary) == [f"{row} mean accuracy" for row in ("UW", "DWA", "AW", "ours", pipeline.TABLE2_RESCALED)]
    assert suite["results"]["07_compare_weighting"]["results"]["diverged"] == {}


def test_lfwa_fine_tuning_ran_on_dlibs_detector_with_placeholders_masked(suite):
    (tuned,) = [c for n, c in _saved_configs(suite["runs"]).items() if n.startswith("LFWA-from-DMM-CNN-")]
    assert tuned["mask_placeholder_landmarks"] is True and tuned["lfwa_crop_to_aspect"] is True
    assert suite["results"]["08_finetune_lfwa"]["results"]["lfwa"] == "real LFWA"
    assert list((suite["runs"] / "cache").glob("*.npz")), "dlib's landmarks of the real-format data were cached"


def test_notebook_09_labels_the_run_as_real_data(suite):
    results = suite["results"]["09_paper_tables"]["results"]
    label = "this run (real data, preset paper-check)"
    assert results["summary"]["data"] == label
    columns = set().union(*(row.keys() for row in results["tables"]["table 2"]))
    assert f"{label}: CelebA-format (%)" in columns and f"{label}: LFWA-format (%)" in columns
    assert not any("ceiling" in column for column in columns), "real data have no known ceiling"


def test_notebook_10_says_its_model_was_trained_on_real_data(suite):
    assert suite["results"]["10_predict_your_photo"]["results"]["summary"]["model trained on"] == "real"


# --- no hours of CPU work unannounced -----------------------------------------------------------------------------
def test_notebook_10_under_the_paper_preset_on_a_cpu_stops_with_the_estimate_and_the_ways_out(isolated, tmp_path):
    if presets.cuda_available():
        pytest.skip("this machine has CUDA: the paper preset trains here")
    started = time.perf_counter()
    with pytest.raises(papermill.PapermillExecutionError) as stopped:
        papermill.execute_notebook(
            str(paths.notebooks_dir() / "10_predict_your_photo.ipynb"), str(tmp_path / "10.ipynb"),
            kernel_name="python3", parameters={"PRESET": "paper", "DATA_DIR": str(isolated["celeba"])},
            cwd=str(paths.notebooks_dir()), progress_bar=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"notebook 10 stopped after {seconds:.0f} s")
    error = stopped.value
    assert error.ename == "CPUTrainingStopped"
    assert "preset's recipe is meant for a GPU" in error.evalue and "in all on this CPU" in error.evalue
    for way_out in ("train on a GPU", "CHECKPOINT=", "TRAIN_ON_CPU=True", f"{cpu_guard.ENV}=1"):
        assert way_out in error.evalue, way_out
    models = isolated["root"] / "runs" / "paper" / "models"
    assert not list(models.glob("*/checkpoint.pt")), "nothing was trained"
