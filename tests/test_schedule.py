"""The lr traces, the two schedules side by side, Eq. 4's starved attributes, and their sentences (driven both
ways on made-up records)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from dmmlib.attributes import ATTRIBUTES
from dmmlib.lab import schedule
from dmmlib.suite import shared_schedule


def _entry(seed, variant, lrs, **extra):
    return {"seed": seed, "run": f"{variant}-abc", "variant": variant, "weighting": None, "dynamic_normalise": True,
            "updates": [{"iteration": 80 * k, "lr": lr} for k, lr in enumerate(lrs)], **extra}


HISTORIES = [
    _entry(0, "Baseline", [0.003, 0.003, 0.0003]),  # the scheduled tail only
    _entry(0, "DMM-DW-FIX", [0.003, 0.0003, 0.00003]),  # cut by the plateau rule before the tail
    _entry(1, "DMM-CNN", [0.003, 0.003, 0.0003], dynamic_normalise=False),
]


def test_cut_runs_are_those_below_the_scheduled_rate():
    cut = shared_schedule.cut_runs(HISTORIES, lr=0.003, lr_factor=0.1)
    assert [(r.seed, r.label, r.first_cut) for r in cut] == [(0, "DMM-DW-FIX", 80)]
    assert shared_schedule.stored_runs(HISTORIES)[2].label == "DMM-CNN, Eq. 4 as printed"


def test_stored_runs_are_named_as_the_pipeline_names_eq4_as_printed():
    from dmmlib.suite import pipeline

    assert schedule.run_label(HISTORIES[2]) == pipeline.EQ4_AS_PRINTED


def test_plateau_cuts_read_the_traces():
    cuts = schedule.plateau_cuts(schedule.lr_traces(HISTORIES), scheduled_lr=0.0003).set_index("run")
    assert bool(cuts.loc["DMM-DW-FIX", "cut by the plateau rule"]) is True
    assert bool(cuts.loc["Baseline", "cut by the plateau rule"]) is False
    assert cuts.loc["DMM-DW-FIX", "first lower rate at iteration"] == 80


def _values(rows):
    return pd.DataFrame([{"seed": s, "run": r, "metric": "accuracy", "scope": "all", "value": v} for s, r, v in rows])


STORED = _values([(0, "A", 0.80), (1, "A", 0.82), (0, "B", 0.90), (1, "B", 0.90), (0, "C", 0.85)])


def test_side_by_side_replaces_only_the_retrained_seeds():
    shared = _values([(0, "A", 0.86), (0, "C", 0.86)])
    table = schedule.side_by_side(STORED, shared, ["A", "B"], machine_check=(0, "C"))
    assert table.loc["A", "as stored"] == pytest.approx(81.0)
    assert table.loc["A", "shared schedule"] == pytest.approx(84.0)
    assert table.loc["A", "seeds retrained"] == "0"
    assert table.loc["B", "change (points)"] == pytest.approx(0.0)
    assert schedule.machine_gap(STORED, shared, (0, "C")) == pytest.approx(1.0)


def test_schedule_sentences_tell_a_change_from_the_machine_both_ways():
    shared = _values([(0, "A", 0.86), (0, "C", 0.86)])
    table = schedule.side_by_side(STORED, shared, ["A", "B"], machine_check=(0, "C"))
    big = schedule.schedule_sentences(table, gap=1.0, pairs=[("B", "A")])
    assert any("more than the machine's own gap" in line for line in big)
    small = schedule.schedule_sentences(table, gap=5.0)
    assert any("within the machine's own gap" in line for line in small)
    unmeasured = schedule.schedule_sentences(table, gap=None)
    assert any("more than the spread between machines" in line for line in unmeasured)  # +3 points > 1.4
    assert "accounts for +3.00" in big[-1]  # B - A: 9.00 as stored, 6.00 shared


def _run(lambdas_first, lambdas_last):
    uniform = [1.0] * 40
    return SimpleNamespace(history=[{"lambda": uniform}, {"lambda": lambdas_first}, {"lambda": lambdas_last}])


def _table(balanced):
    return pd.DataFrame({"balanced_accuracy": balanced}, index=ATTRIBUTES)


def test_starved_attributes_and_the_trap_sentence_both_ways():
    j = ATTRIBUTES.index("Smiling")
    first = [1.0] * 40
    first[j] = 0.02
    balanced = [0.9] * 40
    balanced[j] = 0.5
    tables = {"DMM-DW-FIX": _table(balanced), "DMM-EQ-FIX": _table([0.9] * 40)}
    starved = schedule.starved_attributes({"DMM-DW-FIX": _run(first, first)}, tables)
    assert starved["attribute"].tolist() == ["Smiling"]
    assert starved.loc[0, "lambda at first Eq. 4 update"] == pytest.approx(0.02)
    trapped = schedule.trap_sentence(starved)
    assert "1 of them started with a weight under a quarter" in trapped and "(Smiling)" in trapped
    assert "Under uniform weights (DMM-EQ-FIX) 1 of those were learnt" in trapped
    ordinary = schedule.starved_attributes({"DMM-DW-FIX": _run([1.0 + 0.01 * k for k in range(40)], first)}, tables)
    assert "does not explain these" in schedule.trap_sentence(ordinary)
    none = schedule.starved_attributes({"DMM-DW-FIX": _run(first, first)}, {**tables, "DMM-DW-FIX": _table([0.9] * 40)})
    assert "did not spring" in schedule.trap_sentence(none)
