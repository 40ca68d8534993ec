"""Preset resolution (DESIGN section 4), notebook parameter validation, and the run names presets give."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dmmlib.config import TrainConfig
from dmmlib.suite import pipeline, presets, session


def test_auto_without_gpu_or_data_is_teach(monkeypatch):
    monkeypatch.delenv("DMM_PRESET", raising=False)
    monkeypatch.setattr(presets, "cuda_available", lambda: False)
    assert presets.resolve_name("auto") == "teach"


def test_environment_variable_overrides_auto(monkeypatch):
    monkeypatch.setenv("DMM_PRESET", "smoke")
    assert presets.resolve_name("auto") == "smoke"


def test_explicit_preset_overrides_environment(monkeypatch):
    monkeypatch.setenv("DMM_PRESET", "smoke")
    assert presets.resolve_name("teach") == "teach"


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="'tiny' is not a preset; use one of"):
        presets.resolve_name("tiny")


def test_unknown_preset_in_environment_is_named(monkeypatch):
    monkeypatch.setenv("DMM_PRESET", "fast")
    with pytest.raises(ValueError, match="DMM_PRESET='fast'"):
        presets.resolve_name("auto")


def test_paper_preset_without_data_dir_says_what_to_set():
    with pytest.raises(ValueError, match="set DATA_DIR"):
        presets.resolve("paper", "")


def test_every_preset_has_a_table_row():
    assert [row["preset"] for row in presets.table()] == ["smoke", "teach", "paper", "paper-check"]


def test_session_rejects_a_negative_count():
    with pytest.raises(session.ParameterError, match="EPOCHS must be >= 0, got -1"):
        session.start("nb", PRESET="smoke", EPOCHS=-1)


def test_session_rejects_a_missing_data_dir(tmp_path):
    with pytest.raises(session.ParameterError, match="DATA_DIR=.*no such folder"):
        session.start("nb", PRESET="smoke", DATA_DIR=str(tmp_path / "nowhere"))


def test_session_rejects_an_unknown_preset():
    with pytest.raises(session.ParameterError, match="parameter PRESET"):
        session.start("nb", PRESET="huge")


def test_session_rejects_a_non_integer_seed():
    with pytest.raises(session.ParameterError, match="SEED must be an integer"):
        session.start("nb", PRESET="smoke", SEED="1")


def test_session_resolves_run_dir_under_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DMM_RUNS_DIR", str(tmp_path))
    ctx = session.start("nb", PRESET="smoke", SEED=3)
    assert ctx.run_dir == tmp_path / "smoke"
    assert "synthetic" in ctx.dataset_label


# --- run names: a cached run keeps its name when fields are added ---------------------------------------------------
#: Run names computed before flip_probability and lfwa_crop_to_aspect existed (their defaults reproduce those runs);
#: teach's since its retune to 15,000 images (a changed preset renames its runs, so none of the old one is reused).
NAMES_BEFORE_THE_NEW_FIELDS = {
    "default": "DMM-CNN-b7b6948eea",
    "smoke": "DMM-CNN-2a79555a65",
    "teach": "DMM-CNN-87d6a00eee",
    "teach DMM-FAC dwa": "DMM-FAC-dwa-d1b1c178a8",
    "smoke fine-tuning": "DMM-CNN-c93c0acd02",
    "teach fine-tuning": "DMM-CNN-b23ab9b1a5",
}


def names_now() -> dict[str, str]:
    smoke, teach = (TrainConfig(**presets.PRESETS[p].train, seed=0) for p in ("smoke", "teach"))
    return {
        "default": pipeline.run_name(TrainConfig()),
        "smoke": pipeline.run_name(smoke),
        "teach": pipeline.run_name(teach),
        "teach DMM-FAC dwa": pipeline.run_name(teach.replace(variant="DMM-FAC", weighting="dwa")),
        "smoke fine-tuning": pipeline.run_name(smoke.replace(**presets.PRESETS["smoke"].finetune)),
        "teach fine-tuning": pipeline.run_name(teach.replace(**presets.PRESETS["teach"].finetune)),
    }


def test_fields_added_at_their_old_behaviour_leave_cached_run_names_unchanged():
    assert names_now() == NAMES_BEFORE_THE_NEW_FIELDS


@pytest.mark.parametrize("change", [{"flip_probability": 0.0}, {"lfwa_crop_to_aspect": True},
                                    {"aw_schedule": "iteration"}, {"aw_sample_size": 5},
                                    {"lfwa_train_versions": ("original",)}])
def test_setting_a_new_field_away_from_its_default_gives_a_new_run_name(change):
    assert pipeline.run_name(TrainConfig(**change)) != NAMES_BEFORE_THE_NEW_FIELDS["default"]


class _Stop(Exception):
    """Raised by the stand-in for training once it has seen what it would train on."""


def test_lfwa_fine_tuning_overrides_reach_its_config_its_run_name_and_its_training_images(tmp_path, monkeypatch):
    """Exercise 08.1's switch: ``ensure_finetuned_lfwa(..., lfwa_train_versions=("original",), epochs=...)``."""
    from dmmlib import train
    from dmmlib.data import synthetic

    root = synthetic.generate_lfwa(tmp_path / "lfwa", 8, seed=0, progress=False)
    monkeypatch.setenv("DMM_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(pipeline, "lfwa_root", lambda ctx, progress=True: root)
    seen: dict[str, tuple] = {}

    def would_train(cfg, train_set, valid_set, run_dir, *, update_set, init_from, progress):
        seen[run_dir.name] = (cfg, train_set.versions, len(train_set), update_set.versions, len(update_set))
        raise _Stop

    monkeypatch.setattr(train, "train", would_train)
    ctx = session.start("test", PRESET="smoke")
    source = pipeline.Run("DMM-CNN-source", tmp_path / "source", pipeline.train_config(ctx), [])
    finetune = presets.PRESETS["smoke"].finetune
    for overrides in ({}, {"lfwa_train_versions": ("original",), "epochs": 2 * finetune["epochs"]}):
        with pytest.raises(_Stop):
            pipeline.ensure_finetuned_lfwa(ctx, source, progress=False, **overrides)
    (paper_name, both), (one_name, original) = seen.items()
    assert paper_name == "LFWA-from-DMM-CNN-source-" + pipeline.run_name(source.cfg.replace(**finetune)).rsplit("-")[-1]
    assert one_name != paper_name, "a fine-tuning on other images is another run"
    assert both[1] == both[3] == ("original", "deep-funneled") and both[0].lfwa_train_versions == both[1]
    assert original[1] == original[3] == ("original",), "trained and updated (lambda, tau) on the originals only"
    assert original[2] * 2 == both[2] and original[4] * 2 == both[4]
    assert original[0].lfwa_train_versions == ("original",) and original[0].epochs == 2 * finetune["epochs"]
    assert original[0].to_dict()["lfwa_train_versions"] == ["original"], "the run's saved config records it"
    with pytest.raises(ValueError, match="lfwa_train_versions"):
        TrainConfig(lfwa_train_versions=("original", "funneled"))
    with pytest.raises(ValueError, match="lfwa_train_versions"):
        TrainConfig(lfwa_train_versions="original")


def test_the_collapse_warning_threshold_changes_no_result_and_no_run_name():
    assert pipeline.run_name(TrainConfig(collapse_warning_share=0.2)) == NAMES_BEFORE_THE_NEW_FIELDS["default"]


def test_the_paper_presets_fine_tuning_settings_are_recorded_there():
    finetune = presets.PRESETS["paper"].finetune
    assert finetune["mask_placeholder_landmarks"] is True and finetune["lfwa_crop_to_aspect"] is True
    assert finetune["epochs"] * 13_144 / 64 / finetune["update_interval"] >= 5, "several lambda / tau updates"
    source = Path(presets.__file__).read_text()
    for name in finetune:  # each setting carries its reason, tagged
        assert re.search(rf"# ours: .*\n(\s+# .*\n)*\s+{name}=", source), name


def test_a_flip_probability_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="flip_probability must be in"):
        TrainConfig(flip_probability=1.5)


def test_trunk_widths_enter_a_run_name_only_when_set():
    teach = TrainConfig(**presets.PRESETS["teach"].train)
    assert teach.trunk_widths is None
    assert pipeline.run_name(teach.replace(trunk_widths=(32, 64, 128, 256))) != pipeline.run_name(teach)
