"""Accuracy tables show each run between the majority class and the ceiling."""

import numpy as np
import pandas as pd
import pytest

from dmmlib.lab.bounds import CEILING, GAP, MAJORITY, beside_bounds, per_attribute_beside_bounds
from dmmlib.metrics import attribute_table


def table(correct_fraction: float, ceiling: float | None = 0.95):
    """40 attributes, 10 images, labels +1 on 7 of them; the first ``correct_fraction`` of images answered right."""
    targets = np.where(np.arange(10)[:, None] < 7, 1, -1) * np.ones((10, 40))
    outputs = targets.copy()
    outputs[int(10 * correct_fraction):] *= -1
    frame = attribute_table(outputs, targets, 0.0)
    return frame if ceiling is None else frame.assign(ceiling_accuracy=ceiling)


def test_each_run_sits_between_the_majority_row_and_the_ceiling_row():
    frame = beside_bounds({"good": table(0.9), "poor": table(0.5)})
    assert list(frame.index) == ["good", "poor", MAJORITY, CEILING]
    assert frame.loc["good", "all"] == pytest.approx(0.9)
    assert frame.loc[MAJORITY, "all"] == pytest.approx(0.7)
    assert frame.loc["poor", GAP] == pytest.approx(0.95 - 0.5)
    assert frame.loc[CEILING, GAP] == 0


def test_without_a_ceiling_the_table_has_no_ceiling_row_nor_gap():
    frame = beside_bounds({"run": table(0.9, ceiling=None)})
    assert CEILING not in frame.index and GAP not in frame.columns


def test_per_attribute_tables_carry_the_majority_and_ceiling_columns():
    frame = per_attribute_beside_bounds({"good": table(0.9), "poor": table(0.5, ceiling=None)})
    assert list(frame.columns) == ["good", "poor", MAJORITY, CEILING] and len(frame) == 40
    assert frame["poor"].eq(0.5).all() and frame[MAJORITY].eq(0.7).all() and frame[CEILING].eq(0.95).all()
    assert CEILING not in per_attribute_beside_bounds({"run": table(0.9, ceiling=None)}).columns


def test_fit_diagnosis_tells_an_unlearnt_attribute_from_an_overfit_one():
    from dmmlib.lab.bounds import fit_diagnosis

    train = table(0.7).assign(accuracy=0.9)  # majority rate 0.7 on both splits
    test = table(0.7).assign(accuracy=0.88)
    train.loc[train.index[0], "accuracy"] = 0.705  # answers the majority class even on its own training images
    test.loc[test.index[0], "accuracy"] = 0.70
    train.loc[train.index[1], "accuracy"] = 0.99  # learnt its training images far better than the test images
    diagnosis = fit_diagnosis(train, test)["diagnosis"]
    assert diagnosis[train.index[0]] == "not learnt"
    assert diagnosis[train.index[1]] == "overfits"
    assert (diagnosis.drop(train.index[:2]) == "learnt").all()
    assert fit_diagnosis(train, test).index[0] == train.index[0]  # the largest gap to the ceiling first


def _summary(obj, subj):
    """A mean_table-like frame: (accuracy, majority_accuracy, balanced_accuracy) per group."""
    import pandas as pd

    columns = ["accuracy", "majority_accuracy", "balanced_accuracy"]
    return pd.DataFrame([obj, subj], index=["objective", "subjective"], columns=columns)


def test_group_sentence_does_not_let_imbalance_decide_which_group_is_easier():
    from dmmlib.lab import bounds

    flattered = bounds.group_sentence(_summary((0.90, 0.86, 0.70), (0.85, 0.75, 0.78)))
    assert "Raw accuracy is higher on objective" in flattered
    assert "subjective attributes come out *better*" in flattered  # +4 vs +10 points over the majority class
    easier = bounds.group_sentence(_summary((0.95, 0.86, 0.90), (0.80, 0.75, 0.70)))
    assert "objective attributes are the easier group" in easier
    mixed = bounds.group_sentence(_summary((0.95, 0.86, 0.70), (0.80, 0.75, 0.78)))
    assert "disagree" in mixed


# --- notebook 09's per-attribute figure: against the paper on real data, against the data's bounds on synthetic --
def _run(accuracy, majority=0.7, ceiling=None, groups=("objective", "subjective")):
    """A per-attribute table of made-up values for attributes a0, a1, ... (groups alternating)."""
    names = [f"a{k}" for k in range(len(accuracy))]
    frame = pd.DataFrame({"accuracy": accuracy, "majority_accuracy": majority,
                          "group": [groups[k % 2] for k in range(len(names))]}, index=names)  # fmt: skip
    return frame if ceiling is None else frame.assign(ceiling_accuracy=ceiling)


def test_real_data_plot_the_paper_difference_and_synthetic_data_their_own_bounds():
    from dmmlib.lab import bounds

    run = _run([0.90, 0.80], ceiling=[0.95, 0.85])
    paper = pd.Series({"a0": 92.0, "a1": 75.0})
    real = bounds.per_attribute_differences(run.drop(columns="ceiling_accuracy"), paper, real_data=True)
    assert set(real["measure"]) == {bounds.PAPER_DIFFERENCE}
    assert real.set_index("attribute")["points"].to_dict() == pytest.approx({"a0": -2.0, "a1": 5.0})
    synthetic = bounds.per_attribute_differences(run, paper, real_data=False)
    assert list(dict.fromkeys(synthetic["measure"])) == [bounds.GAIN, bounds.SHORT], "no paper difference"
    by = synthetic.set_index(["measure", "attribute"])["points"]
    assert by[bounds.GAIN, "a0"] == pytest.approx(20.0) and by[bounds.SHORT, "a1"] == pytest.approx(-5.0)
    no_ceiling = bounds.per_attribute_differences(run.drop(columns="ceiling_accuracy"), paper, real_data=False)
    assert set(no_ceiling["measure"]) == {bounds.GAIN}
    assert "paper" in bounds.differences_title(real, "run") and "paper" not in bounds.differences_title(synthetic, "run")


def test_the_sentence_against_the_paper_names_shortfalls_only_where_there_are_some():
    from dmmlib.lab import bounds

    paper = pd.Series({"a0": 92.0, "a1": 75.0, "a2": 50.0})
    behind = bounds.differences_sentences(bounds.per_attribute_differences(_run([0.90, 0.80, 0.60]), paper,
                                                                           real_data=True))  # fmt: skip
    assert behind == ["This run is above the paper's DMM-CNN on 2 of 3 attributes; the largest shortfalls: a0 (-2.00)."]
    ahead = bounds.differences_sentences(bounds.per_attribute_differences(_run([0.95, 0.80, 0.60]), paper,
                                                                          real_data=True))  # fmt: skip
    assert ahead == ["This run is at or above the paper's DMM-CNN on all 3 attributes."]


def test_the_sentences_against_the_bounds_follow_the_majority_gain_and_the_group_short_of_the_ceiling():
    from dmmlib.lab import bounds

    paper = pd.Series(dtype=float)
    learnt = _run([0.90, 0.80, 0.72, 0.75], ceiling=[0.91, 0.90, 0.725, 0.95])  # subjective a1, a3 far from it
    first, second = bounds.differences_sentences(bounds.per_attribute_differences(learnt, paper, real_data=False))
    assert first == "The run beats the majority class on every one of the 4 attributes."
    assert second.startswith("The subjective attributes hold most of the distance to the ceiling: 30.0 of 31.5")
    assert "a3 (20.0), a1 (10.0), a0 (1.0) the largest" in second
    stuck = _run([0.70, 0.69, 0.99, 0.80], ceiling=[0.95, 0.70, 1.0, 0.80])  # objective a0, a2 far from it
    first, second = bounds.differences_sentences(bounds.per_attribute_differences(stuck, paper, real_data=False))
    assert first.startswith("On 2 of 4 attributes the run's accuracy is no better than always answering the majority")
    assert first.endswith("(a1, a0).")
    assert second.startswith("The objective attributes hold most")
    perfect = _run([0.9, 0.8], ceiling=[0.9, 0.8])
    assert bounds.differences_sentences(bounds.per_attribute_differences(perfect, paper, real_data=False))[-1] == (
        "The run reaches the ceiling on every attribute.")


def test_the_difference_figure_has_a_panel_per_measure():
    import matplotlib.pyplot as plt

    from dmmlib.lab import bounds, plots

    frame = bounds.per_attribute_differences(_run([0.9, 0.8], ceiling=[0.95, 0.85]), pd.Series(dtype=float),
                                             real_data=False)  # fmt: skip
    fig = plots.difference_bars(frame, title="t")
    assert [ax.get_title() for ax in fig.axes] == [bounds.GAIN, bounds.SHORT]
    plt.close(fig)
