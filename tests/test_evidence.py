"""Stored evidence (``evidence/<name>/``): effects and staleness from hand-made values, and the shipped record."""

from __future__ import annotations

import pandas as pd
import pytest

from dmmlib.suite import evidence, presets, stats


def made_up(differences: dict[str, list[float]], base: float = 0.80) -> evidence.Evidence:
    """An Evidence whose runs of notebook 06 score ``base + difference`` at seeds 0, 1, 2 (Baseline: ``base``)."""
    rows = [{"seed": s, "point": f"SEED={s}", "notebook": "06_run_ablations", "run": "Baseline", "metric": "accuracy",
             "scope": "all", "value": base} for s in range(3)]
    rows += [{"seed": s, "point": f"SEED={s}", "notebook": "06_run_ablations", "run": run, "metric": "accuracy",
              "scope": "all", "value": base + d} for run, ds in differences.items() for s, d in enumerate(ds)]
    about = {"preset": "teach", "seeds": [0, 1, 2], "preset_settings": evidence.preset_settings("teach"),
             "dataset": "synthetic", "notebooks": ["06_run_ablations"]}
    return evidence.Evidence("made-up", None, pd.DataFrame(rows), [], about)


def test_an_effect_whose_interval_excludes_zero_raises_or_lowers():
    made = made_up({"DMM-EQ-FIX": [-0.03, -0.031, -0.029], "DMM-SPP": [0.01, -0.01, 0.0], "DMM-CNN": [0.0, 0.0, 0.0]})
    table = evidence.effects(made, evidence.TABLE1_COMPONENTS).set_index("comparison")
    heads = table.loc["DMM-EQ-FIX - Baseline"]
    assert heads["effect"] == "lowers" and heads["mean"] == pytest.approx(-3.0) and heads["n"] == 3
    assert "-3.00 points" in heads["sentence"] and "lowers" in heads["sentence"]
    assert table.loc["DMM-CNN - DMM-SPP", "effect"] == "no clear effect"  # differences -1, +1, 0 points
    assert table.loc["DMM-CNN - DMM-FAC", "effect"] == "not measured"
    assert "DMM heads" in evidence.largest_effect_sentence(table.reset_index())


def test_the_ranking_names_every_run_best_first_with_its_interval():
    made = made_up({"DMM-CNN": [0.02, 0.021, 0.019], "DMM-FAC": [-0.01, -0.01, -0.01]})
    (sentence,) = evidence.ranking_sentences(made, "06")
    assert sentence.index("DMM-CNN 82.00") < sentence.index("Baseline 80.00") < sentence.index("DMM-FAC 79.00")
    assert "over 3 seeds" in sentence


def test_a_changed_preset_makes_the_record_stale(monkeypatch):
    made = made_up({})
    assert made.stale() == []
    teach = presets.PRESETS["teach"]
    changed = presets.Preset(**{**teach.__dict__, "train": {**teach.train, "epochs": teach.train["epochs"] + 1}})
    monkeypatch.setitem(presets.PRESETS, "teach", changed)
    (reason,) = made.stale()
    assert reason.startswith("train.epochs:")


def test_a_missing_record_names_its_folder_and_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no-such.*make sweep SPEC=sweeps/no-such.yml"):
        evidence.load("no-such", root=tmp_path)


def test_paired_effects_agree_with_the_sweep_statistics():
    made = made_up({"DMM-DW-FIX": [0.01, 0.02, 0.03], "DMM-EQ-FIX": [0.0, 0.0, 0.0]})
    row = evidence.effects(made, evidence.TABLE1_COMPONENTS).set_index("comparison").loc["DMM-DW-FIX - DMM-EQ-FIX"]
    wide = made.values.pivot_table(index="point", columns="run", values="value")
    expected = stats.paired_interval(wide["DMM-DW-FIX"], wide["DMM-EQ-FIX"])
    assert row["mean"] == pytest.approx(2.0) and row["ci_low"] == pytest.approx(100 * expected["ci_low"])


# --- the records the repository ships (notebooks 05, 06, 07 and 11 read them) ------------------------------------


def test_the_shipped_teach_record_covers_tables_1_and_2_and_both_readings_of_eq_4_for_todays_preset():
    from dmmlib.suite.pipeline import EQ4_AS_PRINTED, TABLE2_SCHEMES
    from dmmlib.variants import VARIANTS

    record = evidence.load(evidence.TEACH_RECORD)
    assert record.stale() == [], "the teach preset changed since the sweep: rerun sweeps/evidence-teach.yml"
    assert len(record.seeds) >= 3
    runs = {nb: set(record.values.loc[record.values["notebook"].str.startswith(nb), "run"]) for nb in ("05", "06", "07")}
    assert set(VARIANTS) <= runs["06"] and set(TABLE2_SCHEMES) <= runs["07"] and EQ4_AS_PRINTED in runs["05"]
    for notebook in ("05", "06", "07"):
        lost = pd.Series([d["run"] for d in record.diverged if d["notebook"].startswith(notebook)], dtype=object)
        expected = len(record.seeds) - lost.value_counts().reindex(record.summary(notebook).index, fill_value=0)
        assert (record.summary(notebook)["n"] == expected).all(), f"every run of {notebook} at every seed it trained"
    assert {h["seed"] for h in record.histories} == set(record.seeds)


def test_the_shipped_knob_study_rests_on_three_seeds_of_the_teach_record_per_knob():
    from dmmlib.suite import knobs

    values, about = knobs.load("teach")
    assert evidence.stale_settings(about) == []
    record = evidence.load(evidence.TEACH_RECORD)
    assert set(values["knob"]) and set(values["knob"]) <= set(knobs.KNOBS)
    for name, part in values.groupby("knob"):
        seeds = set(part["seed"])
        assert len(seeds) >= 3 and seeds <= set(record.seeds), name
        assert (part["knob_value"] == knobs.KNOBS[name].value).all()
