"""`make run` trains the runs of notebooks 05-07 first, several at once (dmmlib/suite/pretrain.py)."""

from __future__ import annotations

import pytest

from dmmlib.suite import presets, pretrain
from dmmlib.variants import VARIANTS


def test_the_suite_runs_are_notebook_05s_then_table_1s_then_table_2s_each_once():
    teach = pretrain.suite_runs(presets.PRESETS["teach"])
    assert teach[:3] == [("DMM-CNN", None, ()), ("DMM-EQ-AT", None, ()),
                         ("DMM-CNN", None, (("dynamic_normalise", False),))]  # fmt: skip
    assert [job for job in teach if job[1]] == [("DMM-CNN", "dwa", ()), ("DMM-CNN", "aw", ())]
    assert len(teach) == len(set(teach)) == 3 + 5 + 2  # Table 1 adds five variants; UW and ours are 05's runs


def test_the_fix_variants_are_written_from_their_twins_runs_so_eight_of_the_ten_runs_are_trained():
    teach = pretrain.suite_runs(presets.PRESETS["teach"])
    trained = list(dict.fromkeys(pretrain._trained_as(job) for job in teach))
    assert len(trained) == 8
    assert ("DMM-EQ-FIX", None, ()) not in trained and ("DMM-DW-FIX", None, ()) not in trained
    assert pretrain._trained_as(("DMM-DW-FIX", "dwa", ())) == ("DMM-CNN", "dwa", ())


def test_the_paper_preset_trains_the_rescaled_eq4_and_not_the_literal_one_twice():
    paper = pretrain.suite_runs(presets.PRESETS["paper"])
    assert ("DMM-CNN", None, (("dynamic_normalise", True),)) in paper
    assert ("DMM-CNN", None, (("dynamic_normalise", False),)) not in paper  # Eq. 4 as printed is its DMM-CNN
    assert len(paper) == 2 + 5 + 3


def test_a_subset_of_the_notebooks_lists_only_their_runs_and_other_notebooks_are_refused():
    assert pretrain.suite_runs(presets.PRESETS["teach"], ["06_run_ablations"]) == [
        (variant, None, ()) for variant in VARIANTS]  # fmt: skip
    with pytest.raises(ValueError, match="08_finetune_lfwa"):
        pretrain.suite_runs(presets.PRESETS["teach"], ["08_finetune_lfwa"])


def test_auto_jobs_are_one_per_core_on_a_cpu_with_synthetic_data_and_one_for_real_data(monkeypatch):
    monkeypatch.setattr(presets, "cuda_available", lambda: False)
    monkeypatch.setattr(pretrain.provenance, "usable_cores", lambda: 4)
    assert pretrain.resolve_jobs("auto", presets.PRESETS["teach"], runs=10) == 4
    assert pretrain.resolve_jobs("auto", presets.PRESETS["teach"], runs=3) == 3
    assert pretrain.resolve_jobs("auto", presets.PRESETS["paper"], runs=10) == 1
    monkeypatch.setattr(presets, "cuda_available", lambda: True)
    assert pretrain.resolve_jobs("auto", presets.PRESETS["teach"], runs=10) == 1
    assert pretrain.resolve_jobs("2", presets.PRESETS["teach"], runs=10) == 2


@pytest.mark.parametrize("bad", ["0", "-1", "two", ""])
def test_a_bad_jobs_value_is_refused_naming_the_option(bad):
    with pytest.raises(ValueError, match="--jobs"):
        pretrain.resolve_jobs(bad, presets.PRESETS["teach"], runs=10)


# The suite's runs are trained before notebooks 05-07 and those notebooks train none themselves: checked on the
# smoke suite the book is built from (tests/test_book.py), which executes the suite once.
