"""Notebook 11's parameters: SEEDS acts only where the notebook trains its seed sweep itself, and says so elsewhere."""

from __future__ import annotations

import pytest

from dmmlib.suite import studies


def test_seeds_set_the_grid_of_the_sweep_the_smoke_preset_trains_live():
    studies.check_study_parameters("", 5, "smoke")  # honoured: the plan's sweep gets five seeds
    spec = studies.study_spec("smoke", seeds=5)
    assert spec.grid["SEED"] == [0, 1, 2, 3, 4] and spec.name == "seed-study-smoke"
    assert studies.study_spec("smoke").grid["SEED"] == [0, 1, 2], "SEEDS=0: the plan's three"
    assert spec.name == studies.study_spec("smoke").name, "one folder: five seeds reuse the three already trained"


@pytest.mark.parametrize(("sweeps", "preset", "reads"), [
    ("", "teach", "stored record evidence/evidence-teach/"),  # the course's default: a fixed three-seed record
    ("table1-seeds", "smoke", "sweeps named in SWEEP (table1-seeds)"),
    ("", "paper", "finished paper sweeps"),
])  # fmt: skip
def test_seeds_that_nothing_would_train_are_refused_with_the_ways_to_more_seeds(sweeps, preset, reads):
    with pytest.raises(ValueError, match="parameter SEEDS=5") as refused:
        studies.check_study_parameters(sweeps, 5, preset)
    assert reads in str(refused.value) and "PRESET='smoke'" in str(refused.value) and "make sweep" in str(refused.value)
    studies.check_study_parameters(sweeps, 0, preset)  # the default: the record or sweeps as they are


def test_one_seed_or_a_malformed_sweep_name_is_refused_whatever_the_preset():
    with pytest.raises(ValueError, match="at least 2"):
        studies.check_study_parameters("", 1, "smoke")
    with pytest.raises(ValueError, match="not a sweep name"):
        studies.check_study_parameters("a b", 0)
    studies.check_study_parameters("", 5)  # without the preset only the values themselves are checked
