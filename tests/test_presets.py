"""Preset resolution (DESIGN section 4) and notebook parameter validation."""

from __future__ import annotations

import pytest

from dmmlib.suite import presets, session


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
    assert [row["preset"] for row in presets.table()] == ["smoke", "teach", "paper"]


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
